/** Image formats llava-desk reads. Decided from the content (magic bytes), never the file name. */
export type ImageFormat =
  'jpeg' | 'png' | 'webp' | 'gif' | 'avif' | 'heic' | 'tiff' | 'bmp' | 'svg';

export const IMAGE_FORMATS: readonly ImageFormat[] = [
  'jpeg',
  'png',
  'webp',
  'gif',
  'avif',
  'heic',
  'tiff',
  'bmp',
  'svg',
];

export type SniffResult =
  | { kind: 'image'; format: ImageFormat }
  /** A format recognised but not read (PDF, JPEG XL...): named so the error can say what it is. */
  | { kind: 'known-unsupported'; name: string }
  | { kind: 'unknown' };

const AVIF_BRANDS = new Set(['avif', 'avis']);
const HEIC_BRANDS = new Set(['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'hevm', 'hevs']);
const HEIF_GENERIC_BRANDS = new Set(['mif1', 'msf1', 'mif2', 'miaf']);
const BMP_DIB_HEADER_SIZES = new Set([12, 40, 52, 56, 64, 108, 124]);

function ascii(bytes: Uint8Array, start: number, end: number): string {
  if (bytes.length < end) return '';
  return String.fromCharCode(...bytes.subarray(start, end));
}

function startsWith(bytes: Uint8Array, prefix: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + prefix.length) return false;
  return prefix.every((value, i) => bytes[offset + i] === value);
}

/** The brands of an ISO-BMFF `ftyp` box (major first), or undefined when there is none. */
export function ftypBrands(bytes: Uint8Array): string[] | undefined {
  if (ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const boxSize = Math.min(view.getUint32(0), bytes.length);
  const brands = [ascii(bytes, 8, 12)];
  for (let at = 16; at + 4 <= boxSize; at += 4) brands.push(ascii(bytes, at, at + 4));
  return brands;
}

function sniffHeif(brands: readonly string[]): SniffResult | undefined {
  // The major brand decides first: an iPhone HEIC lists 'mif1' too, an AVIF may list 'miaf'.
  const [major = ''] = brands;
  if (AVIF_BRANDS.has(major)) return { kind: 'image', format: 'avif' };
  if (HEIC_BRANDS.has(major)) return { kind: 'image', format: 'heic' };
  if (brands.some((b) => AVIF_BRANDS.has(b))) return { kind: 'image', format: 'avif' };
  if (brands.some((b) => HEIC_BRANDS.has(b))) return { kind: 'image', format: 'heic' };
  // A bare 'mif1' file is HEIF with an unknown codec; libheif decides what it can read.
  if (brands.some((b) => HEIF_GENERIC_BRANDS.has(b))) return { kind: 'image', format: 'heic' };
  if (major === 'jxl ') return { kind: 'known-unsupported', name: 'JPEG XL' };
  if (major === 'jp2 ' || major === 'jpx ') return { kind: 'known-unsupported', name: 'JPEG 2000' };
  if (major === 'crx ') return { kind: 'known-unsupported', name: 'Canon RAW (CR3)' };
  if (/^(isom|mp4\d|M4V |qt {2}|3gp\d|avc1|dash)$/.test(major)) {
    return { kind: 'known-unsupported', name: 'video (MP4/QuickTime)' };
  }
  return undefined;
}

function isBmp(bytes: Uint8Array): boolean {
  if (!startsWith(bytes, [0x42, 0x4d]) || bytes.length < 18) return false;
  const dibSize = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getUint32(
    14,
    true,
  );
  return BMP_DIB_HEADER_SIZES.has(dibSize);
}

/** True when the text (after a BOM, whitespace, XML prolog and comments) opens an SVG document. */
function isSvg(bytes: Uint8Array): boolean {
  const head = Buffer.from(bytes.subarray(0, 4096))
    .toString('utf8')
    .replace(/^\uFEFF/, '');
  const withoutProlog = head.replace(
    /^\s*(<\?xml[^>]*\?>\s*|<!--[\s\S]*?-->\s*|<!DOCTYPE[^[>]*(\[[\s\S]*?\])?\s*>\s*)*/i,
    '',
  );
  return /^<svg[\s>]/i.test(withoutProlog);
}

/** Recognises an image from its first bytes. */
export function sniffFormat(bytes: Uint8Array): SniffResult {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return { kind: 'image', format: 'jpeg' };
  if (startsWith(bytes, [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) {
    return { kind: 'image', format: 'png' };
  }
  const gif = ascii(bytes, 0, 6);
  if (gif === 'GIF87a' || gif === 'GIF89a') return { kind: 'image', format: 'gif' };
  if (ascii(bytes, 0, 4) === 'RIFF' && ascii(bytes, 8, 12) === 'WEBP') {
    return { kind: 'image', format: 'webp' };
  }
  if (
    startsWith(bytes, [0x49, 0x49, 0x2a, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2a]) ||
    startsWith(bytes, [0x49, 0x49, 0x2b, 0x00]) ||
    startsWith(bytes, [0x4d, 0x4d, 0x00, 0x2b])
  ) {
    return { kind: 'image', format: 'tiff' };
  }
  const brands = ftypBrands(bytes);
  if (brands) {
    const heif = sniffHeif(brands);
    if (heif) return heif;
  }
  if (isBmp(bytes)) return { kind: 'image', format: 'bmp' };
  if (ascii(bytes, 0, 5) === '%PDF-') return { kind: 'known-unsupported', name: 'PDF' };
  if (ascii(bytes, 0, 4) === '8BPS') return { kind: 'known-unsupported', name: 'Photoshop (PSD)' };
  if (ascii(bytes, 0, 4) === 'qoif') return { kind: 'known-unsupported', name: 'QOI' };
  if (startsWith(bytes, [0xff, 0x0a])) return { kind: 'known-unsupported', name: 'JPEG XL' };
  if (startsWith(bytes, [0x00, 0x00, 0x01, 0x00]) && bytes.length > 6) {
    return { kind: 'known-unsupported', name: 'Windows icon (ICO)' };
  }
  if (startsWith(bytes, [0x1f, 0x8b])) return { kind: 'known-unsupported', name: 'gzip (SVGZ?)' };
  if (isSvg(bytes)) return { kind: 'image', format: 'svg' };
  return { kind: 'unknown' };
}
