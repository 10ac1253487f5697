import type { Rect } from '../capture/geometry.js';

// Where the main window reopens: the saved bounds when they are still on a connected display,
// else the default size centred by Electron. Plain, so multi-display cases are unit-tested.

export interface WindowState {
  x?: number;
  y?: number;
  width: number;
  height: number;
  maximized: boolean;
}

export const DEFAULT_WINDOW_SIZE = { width: 1280, height: 800 } as const;
export const MIN_WINDOW_SIZE = { width: 720, height: 480 } as const;
/** How much of the title bar area must be on a display for the saved position to be kept. */
const VISIBLE_MARGIN = 64;

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function overlaps(a: Rect, b: Rect, margin: number): boolean {
  const w = Math.min(a.x + a.width, b.x + b.width) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.height, b.y + b.height) - Math.max(a.y, b.y);
  return w >= margin && h >= Math.min(margin, a.height);
}

/** Turns whatever was saved (possibly hand-edited) into safe window bounds for these displays. */
export function restoreWindowState(saved: unknown, workAreas: readonly Rect[]): WindowState {
  const state = (typeof saved === 'object' && saved !== null ? saved : {}) as Record<
    string,
    unknown
  >;
  const largest = workAreas.reduce<{ width: number; height: number }>(
    (big, area) => ({
      width: Math.max(big.width, area.width),
      height: Math.max(big.height, area.height),
    }),
    { width: 0, height: 0 },
  );
  const fit = (value: unknown, fallback: number, min: number, max: number): number => {
    const chosen = isFiniteNumber(value) ? Math.round(value) : fallback;
    const upper = max > 0 ? Math.max(max, min) : Number.POSITIVE_INFINITY;
    return Math.min(Math.max(chosen, min), upper);
  };
  const width = fit(
    state['width'],
    DEFAULT_WINDOW_SIZE.width,
    MIN_WINDOW_SIZE.width,
    largest.width,
  );
  const height = fit(
    state['height'],
    DEFAULT_WINDOW_SIZE.height,
    MIN_WINDOW_SIZE.height,
    largest.height,
  );
  const maximized = state['maximized'] === true;
  const x = state['x'];
  const y = state['y'];
  if (isFiniteNumber(x) && isFiniteNumber(y)) {
    // Only the top strip (the title bar) needs to be reachable for the user to move it.
    const titleBar = { x: Math.round(x), y: Math.round(y), width, height: VISIBLE_MARGIN };
    if (workAreas.some((area) => overlaps(titleBar, area, VISIBLE_MARGIN))) {
      return { x: titleBar.x, y: titleBar.y, width, height, maximized };
    }
  }
  return { width, height, maximized };
}
