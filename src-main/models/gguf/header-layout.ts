import type { FileHandle } from 'node:fs/promises';

/** Byte ranges of a GGUF file's header, enough to rewrite its metadata and keep its tensors. */
export interface GgufHeaderLayout {
  version: number;
  tensorCount: bigint;
  kvCount: bigint;
  /** Offset of the first key/value pair (right after the fixed header). */
  kvStart: number;
  /** Offset just past the last key/value pair = start of the tensor infos. */
  kvEnd: number;
  /** Offset just past the last tensor info. */
  tensorInfoEnd: number;
  alignment: number;
  /** Start of the tensor data section (tensorInfoEnd padded to `alignment`). */
  dataOffset: number;
  /** Each key/value pair: its key and its [start, end) byte range. */
  pairs: { key: string; start: number; end: number }[];
}

export const GGUF_MAGIC_BYTES = Buffer.from('GGUF', 'latin1');
/** Byte size of each fixed-size GGUF value type, by type id. */
export const TYPE_SIZES: Readonly<Record<number, number>> = {
  0: 1,
  1: 1,
  2: 2,
  3: 2,
  4: 4,
  5: 4,
  6: 4,
  7: 1,
  10: 8,
  11: 8,
  12: 8,
};
export const STRING_TYPE = 8;
export const ARRAY_TYPE = 9;
const U32_TYPE = 4;

/** Reads a file front to back on demand, in blocks. */
export class Cursor {
  private buffer = Buffer.alloc(0);
  private bufferStart = 0;
  offset = 0;

  constructor(
    private readonly file: FileHandle,
    private readonly fileSize: number,
  ) {}

  private async ensure(n: number): Promise<void> {
    const end = this.offset + n;
    if (end > this.fileSize) throw new RangeError('unexpected end of file in the GGUF header');
    if (end <= this.bufferStart + this.buffer.length && this.offset >= this.bufferStart) return;
    const length = Math.min(this.fileSize - this.offset, Math.max(n, 1 << 20));
    const block = Buffer.alloc(length);
    const { bytesRead } = await this.file.read(block, 0, length, this.offset);
    this.buffer = block.subarray(0, bytesRead);
    this.bufferStart = this.offset;
    if (bytesRead < n) throw new RangeError('unexpected end of file in the GGUF header');
  }

  async bytes(n: number): Promise<Buffer> {
    await this.ensure(n);
    const at = this.offset - this.bufferStart;
    this.offset += n;
    return this.buffer.subarray(at, at + n);
  }
  async u32(): Promise<number> {
    return (await this.bytes(4)).readUInt32LE(0);
  }
  async u64(): Promise<bigint> {
    return (await this.bytes(8)).readBigUInt64LE(0);
  }
  async string(): Promise<string> {
    const length = Number(await this.u64());
    return (await this.bytes(length)).toString('utf8');
  }
  async skip(n: number): Promise<void> {
    if (this.offset + n > this.fileSize) {
      throw new RangeError('unexpected end of file in the GGUF header');
    }
    this.offset += n;
  }
}

export async function skipValue(cursor: Cursor, type: number): Promise<void> {
  if (type === STRING_TYPE) {
    await cursor.skip(Number(await cursor.u64()));
    return;
  }
  if (type === ARRAY_TYPE) {
    const itemType = await cursor.u32();
    const count = Number(await cursor.u64());
    const fixed = TYPE_SIZES[itemType];
    if (fixed !== undefined) {
      await cursor.skip(fixed * count);
      return;
    }
    for (let i = 0; i < count; i++) await skipValue(cursor, itemType);
    return;
  }
  const size = TYPE_SIZES[type];
  if (size === undefined) throw new RangeError(`unknown GGUF value type ${type}`);
  await cursor.skip(size);
}

/**
 * Reads the fixed header (magic, version 2 or 3, counts), leaving the cursor on the first
 * key/value pair. TypeError for a file that is not GGUF or has an unsupported version.
 */
export async function readFixedHeader(
  cursor: Cursor,
): Promise<{ version: number; tensorCount: bigint; kvCount: bigint }> {
  const magic = await cursor.bytes(4);
  if (!magic.equals(GGUF_MAGIC_BYTES)) throw new TypeError('not a GGUF file (bad magic)');
  const version = await cursor.u32();
  if (version < 2) throw new TypeError(`GGUF version ${version} is not supported`);
  const tensorCount = await cursor.u64();
  const kvCount = await cursor.u64();
  return { version, tensorCount, kvCount };
}

/** Walks the header of an open GGUF file (v2 or v3) without decoding the values it skips. */
export async function readGgufHeaderLayout(
  file: FileHandle,
  fileSize: number,
): Promise<GgufHeaderLayout> {
  const cursor = new Cursor(file, fileSize);
  const { version, tensorCount, kvCount } = await readFixedHeader(cursor);
  const kvStart = cursor.offset;
  const pairs: GgufHeaderLayout['pairs'] = [];
  let alignment = 32;
  for (let i = 0n; i < kvCount; i++) {
    const start = cursor.offset;
    const key = await cursor.string();
    const type = await cursor.u32();
    if (key === 'general.alignment' && type === U32_TYPE) alignment = await cursor.u32();
    else await skipValue(cursor, type);
    pairs.push({ key, start, end: cursor.offset });
  }
  const kvEnd = cursor.offset;
  for (let i = 0n; i < tensorCount; i++) {
    await cursor.skip(Number(await cursor.u64()));
    const dims = await cursor.u32();
    await cursor.skip(8 * dims + 4 + 8);
  }
  const tensorInfoEnd = cursor.offset;
  const dataOffset = Math.ceil(tensorInfoEnd / alignment) * alignment;
  return {
    version,
    tensorCount,
    kvCount,
    kvStart,
    kvEnd,
    tensorInfoEnd,
    alignment,
    dataOffset,
    pairs,
  };
}
