import { createReadStream, createWriteStream } from 'node:fs';
import { open, rename, rm, stat } from 'node:fs/promises';
import { pipeline } from 'node:stream/promises';
import { LlavaDeskError } from '../../common/errors.js';
import { readGgufHeaderLayout } from './header-layout.js';

/** A scalar metadata value to add (the kinds a repair needs). */
export type GgufScalar =
  | { type: 'string'; value: string }
  | { type: 'u32'; value: number }
  | { type: 'bool'; value: boolean };

const TYPE_IDS = { u32: 4, bool: 7, string: 8 } as const;

function encodeKeyValue(key: string, scalar: GgufScalar): Buffer {
  const keyBytes = Buffer.from(key, 'utf8');
  const parts: Buffer[] = [];
  const u64 = (n: number): Buffer => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(n));
    return b;
  };
  const u32 = (n: number): Buffer => {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(n);
    return b;
  };
  parts.push(u64(keyBytes.length), keyBytes, u32(TYPE_IDS[scalar.type]));
  if (scalar.type === 'string') {
    const value = Buffer.from(scalar.value, 'utf8');
    parts.push(u64(value.length), value);
  } else if (scalar.type === 'u32') {
    parts.push(u32(scalar.value));
  } else {
    parts.push(Buffer.from([scalar.value ? 1 : 0]));
  }
  return Buffer.concat(parts);
}

export interface HeaderEdit {
  /** Keys to add; a key that already exists is left alone. */
  add?: Record<string, GgufScalar>;
  /** Keys to drop (tests use this to make an "old" file). */
  remove?: readonly string[];
}

/**
 * Writes `dest` as a copy of the GGUF `src` with metadata keys added or removed. The tensor infos
 * are copied verbatim (their offsets are relative to the data section), the header is padded to
 * the file's alignment again, and the tensor data is streamed across unchanged. `dest` appears
 * only when complete.
 */
export async function rewriteGgufHeader(
  src: string,
  dest: string,
  edit: HeaderEdit,
): Promise<void> {
  const size = (await stat(src)).size;
  const file = await open(src, 'r');
  let header: Buffer;
  let dataOffset: number;
  try {
    const layout = await readGgufHeaderLayout(file, size);
    dataOffset = layout.dataOffset;
    if (dataOffset > size) {
      throw new LlavaDeskError('GGUF_TRUNCATED', `${src}: the file ends inside its header`);
    }
    const raw = Buffer.alloc(layout.tensorInfoEnd);
    await file.read(raw, 0, raw.length, 0);

    const removed = new Set(edit.remove ?? []);
    const kept: Buffer[] = [];
    let kvCount = 0n;
    for (const pair of layout.pairs) {
      if (removed.has(pair.key)) continue;
      kept.push(raw.subarray(pair.start, pair.end));
      kvCount++;
    }
    const existing = new Set(layout.pairs.map((pair) => pair.key));
    for (const [key, value] of Object.entries(edit.add ?? {})) {
      if (existing.has(key)) continue;
      kept.push(encodeKeyValue(key, value));
      kvCount++;
    }
    const fixed = Buffer.from(raw.subarray(0, 24));
    fixed.writeBigUInt64LE(kvCount, 16);
    const unpadded = Buffer.concat([
      fixed,
      ...kept,
      raw.subarray(layout.kvEnd, layout.tensorInfoEnd),
    ]);
    const padded = Math.ceil(unpadded.length / layout.alignment) * layout.alignment;
    header = Buffer.concat([unpadded, Buffer.alloc(padded - unpadded.length)]);
  } finally {
    await file.close();
  }

  const tmp = `${dest}.partial-${process.pid}`;
  try {
    const out = createWriteStream(tmp);
    out.write(header);
    await pipeline(createReadStream(src, { start: dataOffset }), out);
    await rename(tmp, dest);
  } catch (error) {
    await rm(tmp, { force: true });
    throw error;
  }
}
