// Region-to-crop geometry for screenshot-and-ask. Electron reports display bounds and pointer
// positions in DIPs (device-independent pixels) on one virtual desktop; a capture is in physical
// pixels of one display. Everything here is plain arithmetic so it is tested under Node.

export interface Point {
  x: number;
  y: number;
}

export interface Size {
  width: number;
  height: number;
}

export interface Rect extends Point, Size {}

export interface DisplayGeometry {
  id: number;
  /** Position and size on the virtual desktop, in DIPs. */
  bounds: Rect;
  /** Physical pixels per DIP (1, 1.25, 1.5, 2, ...). */
  scaleFactor: number;
}

/** Drags shorter than this (DIPs) on either side are a click, not a selection. */
export const MIN_SELECTION_DIP = 4;

function contains(rect: Rect, point: Point): boolean {
  return (
    point.x >= rect.x &&
    point.x < rect.x + rect.width &&
    point.y >= rect.y &&
    point.y < rect.y + rect.height
  );
}

function distanceSquared(rect: Rect, point: Point): number {
  const dx = Math.max(rect.x - point.x, 0, point.x - (rect.x + rect.width - 1));
  const dy = Math.max(rect.y - point.y, 0, point.y - (rect.y + rect.height - 1));
  return dx * dx + dy * dy;
}

/** The display under the pointer, or the nearest one when the pointer is in a gap between them. */
export function displayAtPoint<D extends DisplayGeometry>(displays: readonly D[], point: Point): D {
  const first = displays[0];
  if (first === undefined) throw new Error('no displays');
  const hit = displays.find((display) => contains(display.bounds, point));
  if (hit) return hit;
  let best = first;
  for (const display of displays) {
    if (distanceSquared(display.bounds, point) < distanceSquared(best.bounds, point))
      best = display;
  }
  return best;
}

/**
 * The size to ask the capturer for: the display's full native resolution. Rounded, because
 * fractional scale factors (1.25, 1.75) give fractional products.
 */
export function nativeCaptureSize(display: DisplayGeometry): Size {
  return {
    width: Math.max(1, Math.round(display.bounds.width * display.scaleFactor)),
    height: Math.max(1, Math.round(display.bounds.height * display.scaleFactor)),
  };
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(Math.max(value, low), high);
}

/** The rectangle spanned by a drag in any direction, kept inside the overlay (display) area. */
export function dragRect(start: Point, end: Point, area: Size): Rect {
  const x0 = clamp(Math.min(start.x, end.x), 0, area.width);
  const y0 = clamp(Math.min(start.y, end.y), 0, area.height);
  const x1 = clamp(Math.max(start.x, end.x), 0, area.width);
  const y1 = clamp(Math.max(start.y, end.y), 0, area.height);
  return { x: x0, y: y0, width: x1 - x0, height: y1 - y0 };
}

export function isSelection(rect: Rect): boolean {
  return rect.width >= MIN_SELECTION_DIP && rect.height >= MIN_SELECTION_DIP;
}

/**
 * Maps a selection (DIPs, relative to the display's top-left corner, as the overlay window sees
 * it) to a pixel rectangle of the capture. The scale is taken from the capture's real size, not
 * the nominal scale factor: capturers round, and some platforms ignore the requested size.
 * Edges are rounded outwards so the crop never loses a partly selected pixel; the result always
 * lies inside the capture and is at least 1x1. Undefined when the selection misses the display.
 */
export function selectionToCrop(
  selection: Rect,
  display: DisplayGeometry,
  capture: Size,
): Rect | undefined {
  const { width: dw, height: dh } = display.bounds;
  if (dw <= 0 || dh <= 0 || capture.width <= 0 || capture.height <= 0) return undefined;
  const sx = capture.width / dw;
  const sy = capture.height / dh;
  const values = [selection.x, selection.y, selection.width, selection.height];
  if (!values.every(Number.isFinite)) return undefined;
  const left = clamp(Math.floor(selection.x * sx + 1e-9), 0, capture.width);
  const top = clamp(Math.floor(selection.y * sy + 1e-9), 0, capture.height);
  const right = clamp(Math.ceil((selection.x + selection.width) * sx - 1e-9), 0, capture.width);
  const bottom = clamp(Math.ceil((selection.y + selection.height) * sy - 1e-9), 0, capture.height);
  if (right <= left || bottom <= top) return undefined;
  return { x: left, y: top, width: right - left, height: bottom - top };
}

/** Enter in the overlay: the whole display. */
export function wholeCapture(capture: Size): Rect {
  return { x: 0, y: 0, width: capture.width, height: capture.height };
}

export interface CaptureSourceInfo {
  id: string;
  /** Empty on platforms that do not report it (some Linux setups). */
  displayId: string;
}

/**
 * The screen source that shows a display: matched by display id; when ids are missing (Linux)
 * and the counts agree, by position in the list; with a single source, that one.
 */
export function sourceForDisplay<S extends CaptureSourceInfo>(
  sources: readonly S[],
  displays: readonly DisplayGeometry[],
  display: DisplayGeometry,
): S | undefined {
  const byId = sources.find((source) => source.displayId === String(display.id));
  if (byId) return byId;
  if (sources.length === 1) return sources[0];
  if (sources.every((source) => source.displayId === '') && sources.length === displays.length) {
    return sources[displays.findIndex((d) => d.id === display.id)];
  }
  return undefined;
}
