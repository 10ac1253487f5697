import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

// Scenes like the shapes model's training scenes (scripts/shapes-model/scenes.py), drawn as SVG
// and rendered by sharp: the same palette and geometry, another renderer. Tests that check what an
// answer means use them with the committed shapes model (tests/fixtures/shapes-model/).

export const SHAPE_COLOURS = {
  red: [220, 30, 30],
  green: [30, 170, 50],
  blue: [30, 60, 220],
  yellow: [240, 220, 30],
  purple: [140, 40, 170],
  orange: [245, 140, 20],
  white: [245, 245, 245],
  black: [15, 15, 15],
} as const;

export type ShapeColour = keyof typeof SHAPE_COLOURS;
export type ShapeKind = 'circle' | 'square' | 'triangle';

export interface SceneShape {
  kind: ShapeKind;
  colour: ShapeColour;
  /** Centre and side of the bounding square, in pixels. */
  cx: number;
  cy: number;
  size: number;
}

/** A 5 x 7 digit: each row 5 bits, most significant on the left (scenes.py's DIGIT_FONT). */
const DIGIT_FONT: Record<number, number[]> = {
  0: [0x0e, 0x11, 0x13, 0x15, 0x19, 0x11, 0x0e],
  1: [0x04, 0x0c, 0x04, 0x04, 0x04, 0x04, 0x0e],
  2: [0x0e, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1f],
  3: [0x1f, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0e],
  4: [0x02, 0x06, 0x0a, 0x12, 0x1f, 0x02, 0x02],
  5: [0x1f, 0x10, 0x1e, 0x01, 0x01, 0x11, 0x0e],
  6: [0x06, 0x08, 0x10, 0x1e, 0x11, 0x11, 0x0e],
  7: [0x1f, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
  8: [0x0e, 0x11, 0x11, 0x0e, 0x11, 0x11, 0x0e],
  9: [0x0e, 0x11, 0x11, 0x0f, 0x01, 0x02, 0x0c],
};

export interface SceneSpec {
  width: number;
  height: number;
  background: ShapeColour;
  shapes?: SceneShape[];
  /** A digit drawn with its top-left corner at (x, y), `height` pixels tall. */
  digit?: { value: number; colour: ShapeColour; x: number; y: number; height: number };
}

const rgb = (c: ShapeColour): string => `rgb(${SHAPE_COLOURS[c].join(',')})`;

function shapeSvg(s: SceneShape): string {
  const r = s.size / 2;
  if (s.kind === 'circle')
    return `<circle cx="${s.cx}" cy="${s.cy}" r="${r}" fill="${rgb(s.colour)}"/>`;
  if (s.kind === 'square') {
    return `<rect x="${s.cx - r}" y="${s.cy - r}" width="${s.size}" height="${s.size}" fill="${rgb(s.colour)}"/>`;
  }
  const points = [
    [s.cx, s.cy - r],
    [s.cx + r, s.cy + r],
    [s.cx - r, s.cy + r],
  ];
  return `<polygon points="${points.map((p) => p.join(',')).join(' ')}" fill="${rgb(s.colour)}"/>`;
}

function digitSvg(d: NonNullable<SceneSpec['digit']>): string {
  const px = d.height / 7;
  const cells: string[] = [];
  DIGIT_FONT[d.value]!.forEach((bits, row) => {
    for (let col = 0; col < 5; col += 1) {
      if (bits & (0x10 >> col)) {
        cells.push(
          `<rect x="${d.x + col * px}" y="${d.y + row * px}" width="${px}" height="${px}"/>`,
        );
      }
    }
  });
  return `<g fill="${rgb(d.colour)}" shape-rendering="crispEdges">${cells.join('')}</g>`;
}

/** The scene as PNG bytes. */
export function renderScene(spec: SceneSpec): Promise<Buffer> {
  const svg =
    `<svg xmlns="http://www.w3.org/2000/svg" width="${spec.width}" height="${spec.height}">` +
    `<rect width="100%" height="100%" fill="${rgb(spec.background)}"/>` +
    (spec.shapes ?? []).map(shapeSvg).join('') +
    (spec.digit ? digitSvg(spec.digit) : '') +
    '</svg>';
  return sharp(Buffer.from(svg)).png().toBuffer();
}

/** Writes the scene as `<dir>/<name>.png` and returns its path. */
export async function writeScene(dir: string, name: string, spec: SceneSpec): Promise<string> {
  const path = join(dir, `${name}.png`);
  await writeFile(path, await renderScene(spec));
  return path;
}
