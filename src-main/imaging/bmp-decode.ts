/*
 * A BMP decoder: sharp's prebuilt libvips reads no BMP (it would need ImageMagick). Covers what
 * Windows, browsers and screenshot tools write: BITMAPCOREHEADER (OS/2 1.x) and
 * BITMAPINFOHEADER v1-v5; 1/4/8-bit palettes, RLE4, RLE8, 16/24/32-bit with or without
 * bitfield masks and alpha; bottom-up and top-down rows. Embedded JPEG/PNG payloads and 64-bit
 * BMPs are refused. Every read is bounds-checked; errors say what is wrong.
 */

export interface RawBitmap {
  width: number;
  height: number;
  channels: 3 | 4;
  data: Buffer;
}

export class BmpError extends Error {
  constructor(
    message: string,
    readonly kind: 'corrupt' | 'unsupported',
  ) {
    super(message);
    this.name = 'BmpError';
  }
}

const BI_RGB = 0;
const BI_RLE8 = 1;
const BI_RLE4 = 2;
const BI_BITFIELDS = 3;
const BI_ALPHABITFIELDS = 6;

interface BmpHeader {
  pixelOffset: number;
  headerSize: number;
  width: number;
  height: number;
  topDown: boolean;
  bitsPerPixel: number;
  compression: number;
  colorsUsed: number;
  masks: [number, number, number, number];
}

interface Channel {
  shift: number;
  max: number;
}

function channelOf(mask: number): Channel | undefined {
  if (mask === 0) return undefined;
  let shift = 0;
  while (((mask >>> shift) & 1) === 0) shift++;
  return { shift, max: mask >>> shift };
}

function readHeader(data: DataView, length: number): BmpHeader {
  if (length < 26) throw new BmpError('the BMP header is cut short', 'corrupt');
  const pixelOffset = data.getUint32(10, true);
  const headerSize = data.getUint32(14, true);
  if (headerSize === 12) {
    return {
      pixelOffset,
      headerSize,
      width: data.getUint16(18, true),
      height: data.getUint16(20, true),
      topDown: false,
      bitsPerPixel: data.getUint16(24, true),
      compression: BI_RGB,
      colorsUsed: 0,
      masks: [0, 0, 0, 0],
    };
  }
  if (length < 14 + 40) throw new BmpError('the BMP header is cut short', 'corrupt');
  const rawHeight = data.getInt32(22, true);
  const bitsPerPixel = data.getUint16(28, true);
  const compression = data.getUint32(30, true);
  const masks: [number, number, number, number] = [0, 0, 0, 0];
  if (compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS) {
    // v1 headers keep the masks right after the header, later versions inside it.
    const count = compression === BI_ALPHABITFIELDS || headerSize >= 56 ? 4 : 3;
    const at = 14 + 40;
    if (at + count * 4 > length) throw new BmpError('the BMP colour masks are missing', 'corrupt');
    for (let i = 0; i < count; i++) masks[i] = data.getUint32(at + i * 4, true);
  } else if (headerSize >= 56 && length >= 14 + 56) {
    masks[3] = data.getUint32(14 + 52, true);
  }
  return {
    pixelOffset,
    headerSize,
    width: data.getInt32(18, true),
    height: Math.abs(rawHeight),
    topDown: rawHeight < 0,
    bitsPerPixel,
    compression,
    colorsUsed: data.getUint32(46, true),
    masks,
  };
}

function readPalette(data: DataView, length: number, header: BmpHeader): Uint8Array[] {
  const entrySize = header.headerSize === 12 ? 3 : 4;
  const maxColors = 1 << header.bitsPerPixel;
  const count = header.colorsUsed > 0 ? Math.min(header.colorsUsed, maxColors) : maxColors;
  const start = 14 + header.headerSize + (header.compression === BI_BITFIELDS ? 12 : 0);
  const palette: Uint8Array[] = [];
  for (let i = 0; i < count; i++) {
    const at = start + i * entrySize;
    if (at + 3 > length || at + 3 > header.pixelOffset) break;
    palette.push(Uint8Array.of(data.getUint8(at + 2), data.getUint8(at + 1), data.getUint8(at)));
  }
  if (palette.length === 0) throw new BmpError('the BMP palette is missing', 'corrupt');
  return palette;
}

function setPaletteColor(out: Buffer, pixel: number, palette: Uint8Array[], index: number): void {
  const color = palette[index] ?? palette[0];
  if (color) out.set(color, pixel * 3);
}

/** Output row for a stored row (BMPs are stored bottom-up unless the height is negative). */
function outRow(header: BmpHeader, storedRow: number): number {
  return header.topDown ? storedRow : header.height - 1 - storedRow;
}

function decodePaletted(data: DataView, length: number, header: BmpHeader): RawBitmap {
  const { width, height, bitsPerPixel: bpp } = header;
  const palette = readPalette(data, length, header);
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (header.pixelOffset + stride * height > length) {
    throw new BmpError('the BMP pixel data is cut short', 'corrupt');
  }
  const out = Buffer.alloc(width * height * 3);
  const perByte = 8 / bpp;
  const mask = (1 << bpp) - 1;
  for (let row = 0; row < height; row++) {
    const rowStart = header.pixelOffset + row * stride;
    const y = outRow(header, row);
    for (let x = 0; x < width; x++) {
      const byte = data.getUint8(rowStart + Math.floor(x / perByte));
      const shift = 8 - bpp * ((x % perByte) + 1);
      setPaletteColor(out, y * width + x, palette, (byte >> shift) & mask);
    }
  }
  return { width, height, channels: 3, data: out };
}

function decodeRle(data: DataView, length: number, header: BmpHeader): RawBitmap {
  const { width, height } = header;
  const four = header.compression === BI_RLE4;
  const palette = readPalette(data, length, header);
  const out = Buffer.alloc(width * height * 3);
  let at = header.pixelOffset;
  let x = 0;
  let row = 0;
  const put = (index: number): void => {
    if (x < width && row < height)
      setPaletteColor(out, outRow(header, row) * width + x, palette, index);
    x++;
  };
  const byteAt = (offset: number): number => {
    if (offset >= length) throw new BmpError('the BMP pixel data is cut short', 'corrupt');
    return data.getUint8(offset);
  };
  while (row < height) {
    const count = byteAt(at);
    const value = byteAt(at + 1);
    at += 2;
    if (count > 0) {
      for (let i = 0; i < count; i++) put(four ? (i % 2 === 0 ? value >> 4 : value & 15) : value);
    } else if (value === 0) {
      x = 0;
      row++;
    } else if (value === 1) {
      break;
    } else if (value === 2) {
      x += byteAt(at);
      row += byteAt(at + 1);
      at += 2;
    } else {
      const bytes = four ? Math.ceil(value / 2) : value;
      for (let i = 0; i < value; i++) {
        const byte = byteAt(at + (four ? i >> 1 : i));
        put(four ? (i % 2 === 0 ? byte >> 4 : byte & 15) : byte);
      }
      at += bytes + (bytes % 2); // absolute runs are padded to 16 bits
    }
  }
  return { width, height, channels: 3, data: out };
}

function defaultMasks(bpp: number): [number, number, number, number] {
  if (bpp === 16) return [0x7c00, 0x03e0, 0x001f, 0];
  return [0x00ff0000, 0x0000ff00, 0x000000ff, 0];
}

function decodeDirect(data: DataView, length: number, header: BmpHeader): RawBitmap {
  const { width, height, bitsPerPixel: bpp } = header;
  const bytesPerPixel = bpp / 8;
  const stride = Math.floor((bpp * width + 31) / 32) * 4;
  if (header.pixelOffset + stride * height > length) {
    throw new BmpError('the BMP pixel data is cut short', 'corrupt');
  }
  const bitfields = header.compression === BI_BITFIELDS || header.compression === BI_ALPHABITFIELDS;
  const masks = bitfields ? header.masks : defaultMasks(bpp);
  // Plain 32-bit BI_RGB ignores the fourth byte; v4/v5 headers may declare an alpha mask.
  const alphaMask = bitfields || header.headerSize >= 56 ? header.masks[3] : 0;
  const channels = [masks[0], masks[1], masks[2], alphaMask].map((m) => channelOf(m >>> 0));
  const out = Buffer.alloc(width * height * 4);
  let anyAlpha = false;
  for (let row = 0; row < height; row++) {
    const rowStart = header.pixelOffset + row * stride;
    const y = outRow(header, row);
    for (let x = 0; x < width; x++) {
      const at = rowStart + x * bytesPerPixel;
      let value: number;
      if (bpp === 24) {
        value = data.getUint8(at) | (data.getUint8(at + 1) << 8) | (data.getUint8(at + 2) << 16);
      } else if (bpp === 16) {
        value = data.getUint16(at, true);
      } else {
        value = data.getUint32(at, true);
      }
      const o = (y * width + x) * 4;
      for (let c = 0; c < 4; c++) {
        const channel = channels[c];
        out[o + c] = channel
          ? Math.round((((value >>> channel.shift) & channel.max) * 255) / channel.max)
          : c === 3
            ? 255
            : 0;
      }
      if (channels[3] && out[o + 3] !== 0) anyAlpha = true;
    }
  }
  // Many writers leave the alpha byte at 0 for opaque images; all-zero alpha means "no alpha".
  if (!channels[3] || !anyAlpha) {
    const rgb = Buffer.alloc(width * height * 3);
    for (let p = 0; p < width * height; p++) out.copy(rgb, p * 3, p * 4, p * 4 + 3);
    return { width, height, channels: 3, data: rgb };
  }
  return { width, height, channels: 4, data: out };
}

/**
 * Decodes a BMP. The pixel limit is not checked here: decodeImage checks it once, before any
 * decoder runs, on the size header-size.ts reads from the same header fields (whenever this
 * decoder can read its header, so can that one).
 */
export function decodeBmp(bytes: Uint8Array): RawBitmap {
  const data = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const header = readHeader(data, bytes.length);
  const { width, height, bitsPerPixel: bpp, compression } = header;
  if (width <= 0 || height <= 0) throw new BmpError('the BMP has no pixels', 'corrupt');
  if (header.pixelOffset >= bytes.length) {
    throw new BmpError('the BMP pixel data is missing', 'corrupt');
  }
  if (compression === BI_RLE8 && bpp === 8) return decodeRle(data, bytes.length, header);
  if (compression === BI_RLE4 && bpp === 4) return decodeRle(data, bytes.length, header);
  if (compression === BI_RGB && [1, 2, 4, 8].includes(bpp)) {
    return decodePaletted(data, bytes.length, header);
  }
  const directCompression =
    compression === BI_RGB || compression === BI_BITFIELDS || compression === BI_ALPHABITFIELDS;
  if (directCompression && [16, 24, 32].includes(bpp) && !(bpp === 24 && compression !== BI_RGB)) {
    return decodeDirect(data, bytes.length, header);
  }
  throw new BmpError(
    `BMP with ${bpp} bits per pixel and compression ${compression} is not supported`,
    'unsupported',
  );
}
