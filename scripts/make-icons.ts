// Generates the packaging icons from resources/icon.svg with sharp (run: `tsx scripts/make-icons.ts`):
// resources/icon.png (1024), resources/icons/<n>x<n>.png (Linux), icon.ico (Windows, PNG
// entries) and icon.icns (macOS, PNG entries). The outputs are committed; rerun after editing the SVG.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import sharp from 'sharp';

const ROOT = resolve(fileURLToPath(new URL('..', import.meta.url)));
export const LINUX_SIZES = [16, 32, 48, 64, 128, 256, 512, 1024] as const;
export const ICO_SIZES = [16, 24, 32, 48, 64, 128, 256] as const;
/** ICNS element types holding PNG data, by pixel size. */
export const ICNS_TYPES: ReadonlyArray<readonly [string, number]> = [
  ['icp4', 16],
  ['icp5', 32],
  ['icp6', 64],
  ['ic07', 128],
  ['ic08', 256],
  ['ic09', 512],
  ['ic10', 1024],
];

export async function renderPng(svg: Uint8Array, size: number): Promise<Buffer> {
  return sharp(svg, { density: Math.max(72, Math.ceil((72 * size) / 64)) })
    .resize(size, size)
    .png({ compressionLevel: 9 })
    .toBuffer();
}

/** An ICO file whose entries are PNG images (Windows Vista and later). */
export function encodeIco(images: ReadonlyArray<{ size: number; png: Buffer }>): Buffer {
  const header = Buffer.alloc(6);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(1, 2);
  header.writeUInt16LE(images.length, 4);
  const entries: Buffer[] = [];
  let offset = 6 + 16 * images.length;
  for (const { size, png } of images) {
    const entry = Buffer.alloc(16);
    entry.writeUInt8(size >= 256 ? 0 : size, 0);
    entry.writeUInt8(size >= 256 ? 0 : size, 1);
    entry.writeUInt16LE(1, 4);
    entry.writeUInt16LE(32, 6);
    entry.writeUInt32LE(png.length, 8);
    entry.writeUInt32LE(offset, 12);
    offset += png.length;
    entries.push(entry);
  }
  return Buffer.concat([header, ...entries, ...images.map((image) => image.png)]);
}

/** An ICNS file of PNG elements. */
export function encodeIcns(elements: ReadonlyArray<{ type: string; png: Buffer }>): Buffer {
  const chunks = elements.map(({ type, png }) => {
    const head = Buffer.alloc(8);
    head.write(type, 0, 'ascii');
    head.writeUInt32BE(png.length + 8, 4);
    return Buffer.concat([head, png]);
  });
  const header = Buffer.alloc(8);
  header.write('icns', 0, 'ascii');
  header.writeUInt32BE(8 + chunks.reduce((sum, chunk) => sum + chunk.length, 0), 4);
  return Buffer.concat([header, ...chunks]);
}

async function main(): Promise<void> {
  const resources = join(ROOT, 'resources');
  const svg = await readFile(join(resources, 'icon.svg'));
  const pngs = new Map<number, Buffer>();
  for (const size of new Set<number>([
    ...LINUX_SIZES,
    ...ICO_SIZES,
    ...ICNS_TYPES.map(([, s]) => s),
  ])) {
    pngs.set(size, await renderPng(svg, size));
  }
  const png = (size: number): Buffer => {
    const found = pngs.get(size);
    if (!found) throw new Error(`no ${size}px rendering`);
    return found;
  };
  await mkdir(join(resources, 'icons'), { recursive: true });
  for (const size of LINUX_SIZES)
    await writeFile(join(resources, 'icons', `${size}x${size}.png`), png(size));
  await writeFile(join(resources, 'icon.png'), png(1024));
  await writeFile(
    join(resources, 'icon.ico'),
    encodeIco(ICO_SIZES.map((size) => ({ size, png: png(size) }))),
  );
  await writeFile(
    join(resources, 'icon.icns'),
    encodeIcns(ICNS_TYPES.map(([type, size]) => ({ type, png: png(size) }))),
  );
  console.log('make-icons: resources/icon.{png,ico,icns} and resources/icons/*.png written');
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  await main();
}
