import type { BlankReason } from './blank-capture.js';

// What the user is told when the platform gets in the way of screenshot-and-ask. Plain text
// builders so the wording is tested and the shell only decides when to show it.

export type DisplayServer = 'wayland' | 'x11' | 'none';

/** Linux session type from the environment; 'none' on macOS and Windows. */
export function displayServer(
  platform: NodeJS.Platform,
  env: NodeJS.ProcessEnv = process.env,
): DisplayServer {
  if (platform !== 'linux') return 'none';
  const session = (env['XDG_SESSION_TYPE'] ?? '').toLowerCase();
  if (session === 'wayland' || (env['WAYLAND_DISPLAY'] ?? '') !== '') return 'wayland';
  return 'x11';
}

/** The command that starts a capture in the running app (handled via the single-instance lock). */
export const CAPTURE_ARGUMENT = '--capture';

export function captureCommand(executable: string): string {
  return `"${executable}" ${CAPTURE_ARGUMENT}`;
}

export interface ShortcutFailure {
  shortcut: string;
  server: DisplayServer;
  /** The app's executable (or the AppImage), for the workaround command. */
  executable: string;
}

/** Why a global shortcut could not be registered, and what to do instead. */
export function shortcutFailureMessage(failure: ShortcutFailure): string {
  const command = captureCommand(failure.executable);
  if (failure.server === 'wayland') {
    return (
      `The shortcut ${failure.shortcut} could not be registered: on Wayland, apps may only ` +
      'register global shortcuts through the desktop portal, and this desktop did not grant it. ' +
      `Workaround: add a custom shortcut in your desktop's keyboard settings that runs ${command} ` +
      '(GNOME: Settings > Keyboard > Custom Shortcuts; KDE: System Settings > Shortcuts).'
    );
  }
  return (
    `The shortcut ${failure.shortcut} could not be registered: another app already uses it. ` +
    `Choose another one in Settings, or bind a system shortcut that runs ${command}.`
  );
}

export type ScreenAccess = 'not-determined' | 'granted' | 'denied' | 'restricted' | 'unknown';

/** macOS: what to do when screen recording is not allowed; undefined when it is. */
export function screenPermissionMessage(status: ScreenAccess): string | undefined {
  if (status === 'granted') return undefined;
  const where =
    'System Settings > Privacy & Security > Screen & System Audio Recording, switch on ' +
    'llava-desk, then quit and reopen llava-desk';
  if (status === 'restricted') {
    return `Screen recording is blocked by a device policy on this Mac. Ask your administrator, or open ${where}.`;
  }
  return `llava-desk needs permission to record the screen to capture a region. Open ${where}.`;
}

/** The System Settings pane for screen recording (opened from the guidance on macOS). */
export const MAC_SCREEN_SETTINGS_URL =
  'x-apple.systempreferences:com.apple.preference.security?Privacy_ScreenCapture';

/** A capture came back black, transparent or empty: say why it probably happened. */
export function blankCaptureMessage(
  reason: BlankReason,
  platform: NodeJS.Platform,
  server: DisplayServer,
): string {
  const what =
    reason === 'empty' ? 'The screenshot came back empty' : 'The screenshot came back all black';
  if (platform === 'darwin') {
    return `${what}. ${screenPermissionMessage('denied') ?? ''}`.trim();
  }
  if (server === 'wayland') {
    return (
      `${what}. On Wayland, screenshots go through the desktop portal: make sure ` +
      'xdg-desktop-portal and the one for your desktop (xdg-desktop-portal-gnome, -kde or -wlr) ' +
      'are installed and running, and pick a screen when your desktop asks. Logging in with an ' +
      'X11 session also works.'
    );
  }
  return (
    `${what}. The screen may show protected content (some video players block capture), or the ` +
    'graphics driver refused the capture. Try again with another window in front.'
  );
}
