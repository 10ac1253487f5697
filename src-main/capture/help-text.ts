import { captureCommand, displayServer, screenPermissionMessage } from './platform-guidance.js';

/** Help > Screen Capture Help: what this platform needs for screenshot-and-ask. */
export function captureHelpText(
  executable: string,
  platform: NodeJS.Platform = process.platform,
  shortcut: string | undefined = undefined,
): string {
  const lines = [
    `${shortcut ? `Press ${shortcut}` : 'Choose File > Ask About a Screen Region'}, drag a ` +
      'region and ask about it. Enter takes the whole screen, Esc cancels.',
  ];
  if (platform === 'darwin') lines.push(screenPermissionMessage('not-determined') ?? '');
  if (displayServer(platform) === 'wayland') {
    lines.push(
      'On Wayland your desktop asks which screen to share for each capture. If the shortcut does ' +
        `not work, add a custom keyboard shortcut in your desktop settings that runs ${captureCommand(executable)}.`,
    );
  }
  return lines.join('\n\n');
}
