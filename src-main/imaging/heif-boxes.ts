import {
  composeTransforms,
  exifOrientationOf,
  heifMirror,
  heifRotation,
  type ExifOrientation,
  type Transform2d,
} from './orientation.js';
import type { Size } from './size.js';

/** What the HEIF/AVIF container says about its primary image, read without decoding. */
export interface HeifHeader {
  /** Stored size of the primary image (`ispe`), before its transforms. */
  primary?: Size;
  /** Largest `ispe` in the file (tiles, thumbnails, auxiliary images): a bound for bomb checks. */
  largest?: Size;
  /** The primary image's `irot`/`imir` transforms as the equivalent EXIF orientation. */
  orientation: ExifOrientation;
}

interface Box {
  type: string;
  start: number; // first byte of the payload
  end: number;
}

function* boxes(view: DataView, start: number, end: number): Generator<Box> {
  let at = start;
  while (at + 8 <= end) {
    let size = view.getUint32(at);
    const type = String.fromCharCode(
      view.getUint8(at + 4),
      view.getUint8(at + 5),
      view.getUint8(at + 6),
      view.getUint8(at + 7),
    );
    let header = 8;
    if (size === 1) {
      if (at + 16 > end) return;
      const large = view.getBigUint64(at + 8);
      size = large > BigInt(end - at) ? end - at + 1 : Number(large);
      header = 16;
    } else if (size === 0) {
      size = end - at;
    }
    if (size < header || at + size > end) return;
    yield { type, start: at + header, end: at + size };
    at += size;
  }
}

function child(view: DataView, parent: Box, type: string, skip = 0): Box | undefined {
  for (const box of boxes(view, parent.start + skip, parent.end)) if (box.type === type) return box;
  return undefined;
}

function primaryItemId(view: DataView, meta: Box): number | undefined {
  const pitm = child(view, meta, 'pitm', 4);
  if (!pitm || pitm.end - pitm.start < 6) return undefined;
  const version = view.getUint8(pitm.start);
  if (version === 0) return view.getUint16(pitm.start + 4);
  return pitm.end - pitm.start >= 8 ? view.getUint32(pitm.start + 4) : undefined;
}

/** Property indexes (1-based, in association order) of one item, from `ipma`. */
function associations(view: DataView, ipma: Box, itemId: number): number[] {
  const version = view.getUint8(ipma.start);
  const wideIndex = (view.getUint8(ipma.start + 3) & 1) === 1;
  let at = ipma.start + 4;
  const entries = view.getUint32(at);
  at += 4;
  for (let e = 0; e < entries && at < ipma.end; e++) {
    const id = version < 1 ? view.getUint16(at) : view.getUint32(at);
    at += version < 1 ? 2 : 4;
    const count = view.getUint8(at);
    at += 1;
    const indexes: number[] = [];
    for (let i = 0; i < count && at < ipma.end; i++) {
      indexes.push(wideIndex ? view.getUint16(at) & 0x7fff : view.getUint8(at) & 0x7f);
      at += wideIndex ? 2 : 1;
    }
    if (id === itemId) return indexes;
  }
  return [];
}

function ispeSize(view: DataView, box: Box): Size | undefined {
  if (box.end - box.start < 12) return undefined;
  return { width: view.getUint32(box.start + 4), height: view.getUint32(box.start + 8) };
}

/** Reads the primary image's size and orientation from a HEIF/AVIF file. Never throws. */
export function readHeifHeader(bytes: Uint8Array): HeifHeader {
  const result: HeifHeader = { orientation: 1 };
  try {
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const meta = [...boxes(view, 0, bytes.length)].find((b) => b.type === 'meta');
    if (!meta) return result;
    const iprp = child(view, meta, 'iprp', 4);
    const ipco = iprp && child(view, iprp, 'ipco');
    if (!iprp || !ipco) return result;
    const properties = [...boxes(view, ipco.start, ipco.end)];
    for (const box of properties) {
      if (box.type !== 'ispe') continue;
      const size = ispeSize(view, box);
      const largest = result.largest;
      if (size && (!largest || size.width * size.height > largest.width * largest.height)) {
        result.largest = size;
      }
    }
    const ipma = child(view, iprp, 'ipma');
    const primary = primaryItemId(view, meta);
    if (!ipma || primary === undefined) return result;
    let transform: Transform2d = [1, 0, 0, 1];
    for (const index of associations(view, ipma, primary)) {
      const property = properties[index - 1];
      if (!property) continue;
      if (property.type === 'ispe') result.primary = ispeSize(view, property);
      if (property.type === 'irot' && property.end > property.start) {
        transform = composeTransforms(transform, heifRotation(view.getUint8(property.start)));
      }
      if (property.type === 'imir' && property.end > property.start) {
        transform = composeTransforms(transform, heifMirror(view.getUint8(property.start)));
      }
    }
    result.orientation = exifOrientationOf(transform);
  } catch {
    // A damaged container: the decoder reports it properly.
  }
  return result;
}
