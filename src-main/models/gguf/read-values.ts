import { open } from 'node:fs/promises';
import {
  ARRAY_TYPE,
  Cursor,
  STRING_TYPE,
  TYPE_SIZES,
  readFixedHeader,
  skipValue,
} from './header-layout.js';

export type GgufReadValue = number | bigint | boolean | string | GgufReadValue[];

async function readScalar(cursor: Cursor, type: number): Promise<GgufReadValue> {
  if (type === STRING_TYPE) return cursor.string();
  const size = TYPE_SIZES[type];
  if (size === undefined) throw new RangeError(`unknown GGUF value type ${type}`);
  const b = await cursor.bytes(size);
  switch (type) {
    case 0:
      return b.readUInt8(0);
    case 1:
      return b.readInt8(0);
    case 2:
      return b.readUInt16LE(0);
    case 3:
      return b.readInt16LE(0);
    case 4:
      return b.readUInt32LE(0);
    case 5:
      return b.readInt32LE(0);
    case 6:
      return b.readFloatLE(0);
    case 7:
      return b.readUInt8(0) !== 0;
    case 10:
      return b.readBigUInt64LE(0);
    case 11:
      return b.readBigInt64LE(0);
    default:
      return b.readDoubleLE(0); // 12: f64
  }
}

async function readValue(cursor: Cursor, type: number): Promise<GgufReadValue> {
  if (type !== ARRAY_TYPE) return readScalar(cursor, type);
  const itemType = await cursor.u32();
  const count = Number(await cursor.u64());
  const items: GgufReadValue[] = [];
  for (let i = 0; i < count; i++) items.push(await readValue(cursor, itemType));
  return items;
}

/**
 * The values of `keys` in a GGUF file's metadata (other values are skipped, not decoded).
 * Throws TypeError for a file that is not GGUF, RangeError for a truncated or malformed header.
 *
 * Hand-written over the header walker the model manager already has: node-llama-cpp's
 * readGgufFileInfo does this too, but importing node-llama-cpp takes about 150 ms, which would
 * sit on the start-up path of `llava-desk ask` (it reads the projector's image settings while
 * the engine process starts).
 */
export async function readGgufValues(
  path: string,
  keys: ReadonlySet<string>,
): Promise<Map<string, GgufReadValue>> {
  const file = await open(path, 'r');
  try {
    const cursor = new Cursor(file, (await file.stat()).size);
    const { kvCount } = await readFixedHeader(cursor);
    const values = new Map<string, GgufReadValue>();
    for (let i = 0n; i < kvCount && values.size < keys.size; i++) {
      const key = await cursor.string();
      const type = await cursor.u32();
      if (keys.has(key)) values.set(key, await readValue(cursor, type));
      else await skipValue(cursor, type);
    }
    return values;
  } finally {
    await file.close();
  }
}

/**
 * The names of a GGUF file's tensors, read from its header (no tensor data is read). Throws like
 * readGgufValues for a file that is not GGUF or a malformed header.
 */
export async function readGgufTensorNames(path: string): Promise<Set<string>> {
  const file = await open(path, 'r');
  try {
    const cursor = new Cursor(file, (await file.stat()).size);
    const { tensorCount, kvCount } = await readFixedHeader(cursor);
    for (let i = 0n; i < kvCount; i++) {
      await cursor.string();
      await skipValue(cursor, await cursor.u32());
    }
    const names = new Set<string>();
    for (let i = 0n; i < tensorCount; i++) {
      names.add(await cursor.string());
      const dims = await cursor.u32();
      await cursor.skip(8 * dims + 4 + 8);
    }
    return names;
  } finally {
    await file.close();
  }
}

/** One tensor's entry in a GGUF header. */
export interface GgufTensorEntry {
  name: string;
  /** ne0, ne1, ... as ggml orders them. */
  dimensions: number[];
  ggmlType: number;
  /** Where its data starts in the file (the data section's offset plus the header's offset). */
  fileOffset: number;
}

/** A GGUF header: its metadata (without the keys asked to be skipped) and its tensor entries. */
export interface GgufHeader {
  metadata: Map<string, GgufReadValue>;
  tensors: GgufTensorEntry[];
  /** Start of the tensor data section. */
  dataOffset: number;
}

/**
 * The whole header of a GGUF file: every metadata value except `skipKeys` (tokenizer arrays, the
 * bulk of an LLM's header, are skipped unread) and every tensor entry. Throws TypeError for a
 * file that is not GGUF, RangeError for a truncated or malformed header. The engine process
 * checks a pair with it before loading, so the check needs no node-llama-cpp import (about half
 * a second of start-up).
 */
export async function readGgufHeader(
  path: string,
  skipKeys: ReadonlySet<string> = new Set(),
): Promise<GgufHeader> {
  const file = await open(path, 'r');
  try {
    const cursor = new Cursor(file, (await file.stat()).size);
    const { tensorCount, kvCount } = await readFixedHeader(cursor);
    const metadata = new Map<string, GgufReadValue>();
    for (let i = 0n; i < kvCount; i++) {
      const key = await cursor.string();
      const type = await cursor.u32();
      if (skipKeys.has(key)) await skipValue(cursor, type);
      else metadata.set(key, await readValue(cursor, type));
    }
    const entries: Omit<GgufTensorEntry, 'fileOffset'>[] = [];
    const offsets: bigint[] = [];
    for (let i = 0n; i < tensorCount; i++) {
      const name = await cursor.string();
      const rank = await cursor.u32();
      const dimensions: number[] = [];
      for (let d = 0; d < rank; d++) dimensions.push(Number(await cursor.u64()));
      const ggmlType = await cursor.u32();
      offsets.push(await cursor.u64());
      entries.push({ name, dimensions, ggmlType });
    }
    const alignmentValue = metadata.get('general.alignment');
    const alignment =
      typeof alignmentValue === 'number' && alignmentValue > 0 ? alignmentValue : 32;
    const dataOffset = Math.ceil(cursor.offset / alignment) * alignment;
    const tensors = entries.map((entry, i) => ({
      ...entry,
      fileOffset: dataOffset + Number(offsets[i]),
    }));
    return { metadata, tensors, dataOffset };
  } finally {
    await file.close();
  }
}
