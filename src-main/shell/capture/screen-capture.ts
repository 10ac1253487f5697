import { desktopCapturer, screen, systemPreferences, type Display } from 'electron';
import { detectBlankCapture, type BlankReason } from '../../capture/blank-capture.js';
import {
  displayAtPoint,
  nativeCaptureSize,
  sourceForDisplay,
  type Size,
} from '../../capture/geometry.js';
import { screenPermissionMessage, type ScreenAccess } from '../../capture/platform-guidance.js';

export interface DisplayCapture {
  display: Display;
  /** PNG of the whole display at its native resolution. */
  png: Uint8Array;
  size: Size;
}

export type CaptureOutcome =
  | { ok: true; captures: DisplayCapture[]; primary: DisplayCapture }
  | { ok: false; reason: 'permission'; message: string }
  | { ok: false; reason: BlankReason | 'no-source' };

/**
 * macOS only: guidance when screen recording is refused. 'not-determined' is let through: the
 * first capture is what makes macOS ask (a blank result then brings the same guidance).
 */
export function screenPermissionProblem(): string | undefined {
  if (process.platform !== 'darwin') return undefined;
  const status = systemPreferences.getMediaAccessStatus('screen') as ScreenAccess;
  return status === 'denied' || status === 'restricted'
    ? screenPermissionMessage(status)
    : undefined;
}

async function captureDisplay(
  display: Display,
  all: Display[],
): Promise<DisplayCapture | BlankReason | 'no-source'> {
  const size = nativeCaptureSize(display);
  const sources = await desktopCapturer.getSources({ types: ['screen'], thumbnailSize: size });
  const source = sourceForDisplay(
    sources.map((s) => ({ id: s.id, displayId: s.display_id, source: s })),
    all,
    display,
  )?.source;
  if (!source) return 'no-source';
  if (source.thumbnail.isEmpty()) return 'empty';
  const png = new Uint8Array(source.thumbnail.toPNG());
  const blank = await detectBlankCapture(png);
  if (blank) return blank;
  return { display, png, size: source.thumbnail.getSize() };
}

/**
 * Captures the display under the pointer (and, where capture needs no per-call consent, the other
 * displays too, so a region can be picked on any of them) at native resolution.
 */
export async function captureScreens(onlyPointerDisplay: boolean): Promise<CaptureOutcome> {
  const permission = screenPermissionProblem();
  if (permission) return { ok: false, reason: 'permission', message: permission };
  const all = screen.getAllDisplays();
  const pointer = displayAtPoint(all, screen.getCursorScreenPoint());
  const first = await captureDisplay(pointer, all);
  if (typeof first === 'string') return { ok: false, reason: first };
  const captures = [first];
  if (!onlyPointerDisplay) {
    for (const display of all) {
      if (display.id === pointer.id) continue;
      const other = await captureDisplay(display, all);
      if (typeof other !== 'string') captures.push(other);
    }
  }
  return { ok: true, captures, primary: first };
}
