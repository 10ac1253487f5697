import { describe, expect, it } from 'vitest';
import {
  displayAtPoint,
  dragRect,
  isSelection,
  nativeCaptureSize,
  selectionToCrop,
  sourceForDisplay,
  wholeCapture,
  type DisplayGeometry,
} from '../../src-main/capture/geometry.js';

// A laptop panel at 2x on the left, a 1x monitor to its right, a 1.25x monitor above with a
// negative origin: the shapes that break naive DIP-to-pixel arithmetic.
const laptop: DisplayGeometry = {
  id: 1,
  bounds: { x: 0, y: 0, width: 1440, height: 900 },
  scaleFactor: 2,
};
const monitor: DisplayGeometry = {
  id: 2,
  bounds: { x: 1440, y: 0, width: 1920, height: 1080 },
  scaleFactor: 1,
};
const above: DisplayGeometry = {
  id: 3,
  bounds: { x: -200, y: -864, width: 1536, height: 864 },
  scaleFactor: 1.25,
};
const displays = [laptop, monitor, above];

describe('display under the pointer', () => {
  it('finds the display that contains the point, edges included on the left/top only', () => {
    expect(displayAtPoint(displays, { x: 10, y: 10 }).id).toBe(1);
    expect(displayAtPoint(displays, { x: 1439, y: 899 }).id).toBe(1);
    expect(displayAtPoint(displays, { x: 1440, y: 0 }).id).toBe(2);
    expect(displayAtPoint(displays, { x: -200, y: -864 }).id).toBe(3);
    expect(displayAtPoint(displays, { x: 0, y: -1 }).id).toBe(3);
  });

  it('takes the nearest display when the pointer is in a gap', () => {
    expect(displayAtPoint(displays, { x: 1500, y: 1200 }).id).toBe(2);
    expect(displayAtPoint(displays, { x: -5000, y: -500 }).id).toBe(3);
  });

  it('refuses an empty display list', () => {
    expect(() => displayAtPoint([], { x: 0, y: 0 })).toThrow();
  });
});

describe('native capture size', () => {
  it('multiplies by the scale factor and rounds fractional products', () => {
    expect(nativeCaptureSize(laptop)).toEqual({ width: 2880, height: 1800 });
    expect(nativeCaptureSize(monitor)).toEqual({ width: 1920, height: 1080 });
    expect(nativeCaptureSize(above)).toEqual({ width: 1920, height: 1080 });
    const odd = { id: 4, bounds: { x: 0, y: 0, width: 1366, height: 767 }, scaleFactor: 1.5 };
    expect(nativeCaptureSize(odd)).toEqual({ width: 2049, height: 1151 });
  });
});

describe('drag rectangle', () => {
  it('normalises drags in every direction and clamps to the overlay', () => {
    const area = { width: 100, height: 80 };
    expect(dragRect({ x: 10, y: 10 }, { x: 40, y: 30 }, area)).toEqual({
      x: 10,
      y: 10,
      width: 30,
      height: 20,
    });
    expect(dragRect({ x: 40, y: 30 }, { x: 10, y: 10 }, area)).toEqual({
      x: 10,
      y: 10,
      width: 30,
      height: 20,
    });
    expect(dragRect({ x: 90, y: 5 }, { x: 150, y: -20 }, area)).toEqual({
      x: 90,
      y: 0,
      width: 10,
      height: 5,
    });
  });

  it('treats tiny drags as clicks', () => {
    expect(isSelection({ x: 0, y: 0, width: 3, height: 100 })).toBe(false);
    expect(isSelection({ x: 0, y: 0, width: 4, height: 4 })).toBe(true);
  });
});

describe('selection to crop', () => {
  it('scales by the display factor (2x panel)', () => {
    const crop = selectionToCrop({ x: 100, y: 50, width: 200, height: 100 }, laptop, {
      width: 2880,
      height: 1800,
    });
    expect(crop).toEqual({ x: 200, y: 100, width: 400, height: 200 });
  });

  it('keeps 1:1 on a 1x monitor whatever its position on the desktop', () => {
    const crop = selectionToCrop({ x: 0, y: 0, width: 1920, height: 1080 }, monitor, {
      width: 1920,
      height: 1080,
    });
    expect(crop).toEqual({ x: 0, y: 0, width: 1920, height: 1080 });
  });

  it('rounds fractional scale factors outwards so no selected pixel is lost', () => {
    const crop = selectionToCrop({ x: 1, y: 1, width: 3, height: 3 }, above, {
      width: 1920,
      height: 1080,
    });
    // 1.25 px per DIP: [1.25, 5) -> [1, 5)
    expect(crop).toEqual({ x: 1, y: 1, width: 4, height: 4 });
  });

  it('uses the real capture size when the capturer ignored the requested one', () => {
    // A 2x display captured at 1x (some Linux capturers): the crop follows the image.
    const crop = selectionToCrop({ x: 100, y: 100, width: 100, height: 100 }, laptop, {
      width: 1440,
      height: 900,
    });
    expect(crop).toEqual({ x: 100, y: 100, width: 100, height: 100 });
  });

  it('clamps selections that run off the edges and refuses ones outside', () => {
    const size = { width: 2880, height: 1800 };
    expect(selectionToCrop({ x: 1400, y: 880, width: 100, height: 100 }, laptop, size)).toEqual({
      x: 2800,
      y: 1760,
      width: 80,
      height: 40,
    });
    expect(selectionToCrop({ x: -50, y: -50, width: 60, height: 60 }, laptop, size)).toEqual({
      x: 0,
      y: 0,
      width: 20,
      height: 20,
    });
    expect(selectionToCrop({ x: 2000, y: 0, width: 10, height: 10 }, laptop, size)).toBeUndefined();
    expect(selectionToCrop({ x: 0, y: 0, width: 0, height: 10 }, laptop, size)).toBeUndefined();
    expect(
      selectionToCrop({ x: Number.NaN, y: 0, width: 10, height: 10 }, laptop, size),
    ).toBeUndefined();
    expect(
      selectionToCrop({ x: 0, y: 0, width: 10, height: 10 }, laptop, { width: 0, height: 0 }),
    ).toBeUndefined();
  });

  it('always stays inside the capture (every integer selection on every display)', () => {
    for (const display of displays) {
      const size = nativeCaptureSize(display);
      for (let x = -10; x < display.bounds.width + 10; x += 97) {
        for (let w = 1; w < 400; w += 61) {
          const crop = selectionToCrop({ x, y: x / 2, width: w, height: w }, display, size);
          if (!crop) continue;
          expect(crop.x).toBeGreaterThanOrEqual(0);
          expect(crop.y).toBeGreaterThanOrEqual(0);
          expect(crop.width).toBeGreaterThanOrEqual(1);
          expect(crop.x + crop.width).toBeLessThanOrEqual(size.width);
          expect(crop.y + crop.height).toBeLessThanOrEqual(size.height);
        }
      }
    }
  });

  it('takes the whole capture on Enter', () => {
    expect(wholeCapture({ width: 2880, height: 1800 })).toEqual({
      x: 0,
      y: 0,
      width: 2880,
      height: 1800,
    });
  });
});

describe('capture source for a display', () => {
  it('matches by display id, then by order when ids are missing, then a single source', () => {
    const sources = [
      { id: 'screen:0', displayId: '2' },
      { id: 'screen:1', displayId: '1' },
    ];
    expect(sourceForDisplay(sources, [laptop, monitor], laptop)?.id).toBe('screen:1');
    const unnamed = [
      { id: 'screen:a', displayId: '' },
      { id: 'screen:b', displayId: '' },
    ];
    expect(sourceForDisplay(unnamed, [laptop, monitor], monitor)?.id).toBe('screen:b');
    expect(sourceForDisplay([{ id: 'portal', displayId: '' }], displays, above)?.id).toBe('portal');
    expect(sourceForDisplay(unnamed, displays, above)).toBeUndefined();
  });
});
