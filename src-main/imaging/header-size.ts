import type { ImageFormat } from './formats.js';
import { readHeifHeader } from './heif-boxes.js';
import type { Size } from './size.js';

/*
 * The stored size an image's header claims, read by hand from the first bytes so that a
 * decompression bomb is refused before any decoder allocates for it. Undefined when the header
 * is too short or damaged (the decoder then reports the damage).
 */

function view(bytes: Uint8Array): DataView {
  return new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function pngSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 24 || String.fromCharCode(...bytes.subarray(12, 16)) !== 'IHDR') {
    return undefined;
  }
  return { width: view(bytes).getUint32(16), height: view(bytes).getUint32(20) };
}

function gifSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 10) return undefined;
  return { width: view(bytes).getUint16(6, true), height: view(bytes).getUint16(8, true) };
}

function webpSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 30) return undefined;
  const data = view(bytes);
  const chunk = String.fromCharCode(...bytes.subarray(12, 16));
  if (chunk === 'VP8X') {
    const width = 1 + (data.getUint16(24, true) | (data.getUint8(26) << 16));
    const height = 1 + (data.getUint16(27, true) | (data.getUint8(29) << 16));
    return { width, height };
  }
  if (chunk === 'VP8L' && data.getUint8(20) === 0x2f) {
    const bits = data.getUint32(21, true);
    return { width: (bits & 0x3fff) + 1, height: ((bits >>> 14) & 0x3fff) + 1 };
  }
  if (chunk === 'VP8 ' && data.getUint8(23) === 0x9d && data.getUint8(24) === 0x01) {
    return { width: data.getUint16(26, true) & 0x3fff, height: data.getUint16(28, true) & 0x3fff };
  }
  return undefined;
}

const JPEG_SOF_MARKERS = new Set([
  0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf,
]);

function jpegSize(bytes: Uint8Array): Size | undefined {
  const data = view(bytes);
  let at = 2;
  while (at + 4 <= bytes.length) {
    if (data.getUint8(at) !== 0xff) return undefined;
    const marker = data.getUint8(at + 1);
    if (marker === 0xff) {
      at += 1; // fill byte
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      at += 2;
      continue;
    }
    if (marker === 0xd9 || marker === 0xda) return undefined; // image data before any frame
    const length = data.getUint16(at + 2);
    if (JPEG_SOF_MARKERS.has(marker)) {
      if (at + 9 > bytes.length) return undefined;
      return { width: data.getUint16(at + 7), height: data.getUint16(at + 5) };
    }
    at += 2 + length;
  }
  return undefined;
}

function bmpSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 26) return undefined;
  const data = view(bytes);
  if (data.getUint32(14, true) === 12) {
    return { width: data.getUint16(18, true), height: data.getUint16(20, true) };
  }
  return { width: Math.abs(data.getInt32(18, true)), height: Math.abs(data.getInt32(22, true)) };
}

function tiffSize(bytes: Uint8Array): Size | undefined {
  if (bytes.length < 16) return undefined;
  const data = view(bytes);
  const little = data.getUint8(0) === 0x49;
  const big = data.getUint16(2, little) === 43;
  const ifd = big ? Number(data.getBigUint64(8, little)) : data.getUint32(4, little);
  const countSize = big ? 8 : 2;
  const entrySize = big ? 20 : 12;
  if (ifd + countSize > bytes.length) return undefined;
  const count = big ? Number(data.getBigUint64(ifd, little)) : data.getUint16(ifd, little);
  let width: number | undefined;
  let height: number | undefined;
  for (let i = 0; i < count; i++) {
    const entry = ifd + countSize + i * entrySize;
    if (entry + entrySize > bytes.length) break;
    const tag = data.getUint16(entry, little);
    if (tag !== 256 && tag !== 257) continue;
    const type = data.getUint16(entry + 2, little);
    const valueAt = entry + (big ? 12 : 8);
    const value = type === 3 ? data.getUint16(valueAt, little) : data.getUint32(valueAt, little);
    if (tag === 256) width = value;
    else height = value;
  }
  return width !== undefined && height !== undefined ? { width, height } : undefined;
}

function heifSize(bytes: Uint8Array): Size | undefined {
  const header = readHeifHeader(bytes);
  return header.largest ?? header.primary;
}

/** The stored size the header claims, or undefined when it cannot be read by hand. */
export function readHeaderSize(bytes: Uint8Array, format: ImageFormat): Size | undefined {
  try {
    switch (format) {
      case 'png':
        return pngSize(bytes);
      case 'gif':
        return gifSize(bytes);
      case 'webp':
        return webpSize(bytes);
      case 'jpeg':
        return jpegSize(bytes);
      case 'bmp':
        return bmpSize(bytes);
      case 'tiff':
        return tiffSize(bytes);
      case 'avif':
      case 'heic':
        return heifSize(bytes);
      case 'svg':
        return undefined; // its size comes from librsvg's header read
    }
  } catch {
    return undefined;
  }
}
