import { globalShortcut } from 'electron';
import { displayServer, shortcutFailureMessage } from '../../capture/platform-guidance.js';
import { describeShortcut, parseShortcut } from '../../capture/shortcut.js';

export type HotkeyResult =
  { ok: true; accelerator: string; label: string } | { ok: false; message: string };

let registered: string | undefined;

/**
 * Registers the screenshot-and-ask shortcut in place of the previous one. A refusal (invalid
 * text, taken by another app, not granted on Wayland) comes back with what to do instead.
 */
export function registerCaptureHotkey(
  text: string,
  onPress: () => void,
  executable: string,
): HotkeyResult {
  const parsed = parseShortcut(text, process.platform);
  if (!parsed.ok)
    return { ok: false, message: `The capture shortcut "${text}" is not valid: ${parsed.error}` };
  const { accelerator } = parsed.shortcut;
  if (registered !== undefined) globalShortcut.unregister(registered);
  registered = undefined;
  let ok: boolean;
  try {
    ok = globalShortcut.register(accelerator, onPress);
  } catch {
    ok = false;
  }
  if (!ok) {
    return {
      ok: false,
      message: shortcutFailureMessage({
        shortcut: describeShortcut(parsed.shortcut, process.platform),
        server: displayServer(process.platform),
        executable,
      }),
    };
  }
  registered = accelerator;
  return { ok: true, accelerator, label: describeShortcut(parsed.shortcut, process.platform) };
}

export function unregisterCaptureHotkey(): void {
  if (registered !== undefined) globalShortcut.unregister(registered);
  registered = undefined;
}
