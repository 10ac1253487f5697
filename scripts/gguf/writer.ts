// Streaming GGUF v3 writer: typed metadata of every GGUF value type, tensor infos, alignment
// padding and tensor data produced chunk by chunk so multi-GB files never sit in memory.
// Tooling, not product: the test-model generator (scripts/test-model/) and tests use it; the app
// only reads GGUF files (src-main/models/gguf/).

import { open, rename, rm } from 'node:fs/promises';

import { GGML_TYPES, encodedByteLength, type GgmlTensorType } from './tensor-encoding.js';

export type { GgmlTensorType } from './tensor-encoding.js';

export type GgufNumberType = 'u8' | 'i8' | 'u16' | 'i16' | 'u32' | 'i32' | 'f32' | 'f64';
export type GgufBigIntType = 'u64' | 'i64';
export type GgufScalarType = GgufNumberType | GgufBigIntType | 'bool' | 'string';

export type GgufScalarValue =
  | { readonly type: GgufNumberType; readonly value: number }
  | { readonly type: GgufBigIntType; readonly value: bigint }
  | { readonly type: 'bool'; readonly value: boolean }
  | { readonly type: 'string'; readonly value: string };

/** JS item type accepted for an array of the given GGUF item type. */
export type GgufItem<T extends GgufScalarType> = T extends GgufNumberType
  ? number
  : T extends GgufBigIntType
    ? bigint
    : T extends 'bool'
      ? boolean
      : string;

export type GgufArrayValue = {
  [T in GgufScalarType]: {
    readonly type: 'array';
    readonly itemType: T;
    readonly value: ArrayLike<GgufItem<T>>;
  };
}[GgufScalarType];

export type GgufValue = GgufScalarValue | GgufArrayValue;

/** gguf_type enum values (ggml/include/gguf.h). */
export const GGUF_VALUE_TYPE_IDS: Readonly<Record<GgufScalarType | 'array', number>> = {
  u8: 0,
  i8: 1,
  u16: 2,
  i16: 3,
  u32: 4,
  i32: 5,
  f32: 6,
  bool: 7,
  string: 8,
  array: 9,
  u64: 10,
  i64: 11,
  f64: 12,
};

/** Constructors for metadata values, e.g. `gguf.u32(64)`, `gguf.array('f32', [0.5, 0.25])`. */
export const gguf = {
  u8: (value: number): GgufScalarValue => ({ type: 'u8', value }),
  i8: (value: number): GgufScalarValue => ({ type: 'i8', value }),
  u16: (value: number): GgufScalarValue => ({ type: 'u16', value }),
  i16: (value: number): GgufScalarValue => ({ type: 'i16', value }),
  u32: (value: number): GgufScalarValue => ({ type: 'u32', value }),
  i32: (value: number): GgufScalarValue => ({ type: 'i32', value }),
  u64: (value: bigint): GgufScalarValue => ({ type: 'u64', value }),
  i64: (value: bigint): GgufScalarValue => ({ type: 'i64', value }),
  f32: (value: number): GgufScalarValue => ({ type: 'f32', value }),
  f64: (value: number): GgufScalarValue => ({ type: 'f64', value }),
  bool: (value: boolean): GgufScalarValue => ({ type: 'bool', value }),
  string: (value: string): GgufScalarValue => ({ type: 'string', value }),
  array: <T extends GgufScalarType>(itemType: T, value: ArrayLike<GgufItem<T>>): GgufArrayValue =>
    ({ type: 'array', itemType, value }) as GgufArrayValue,
};

const INT_RANGES: Readonly<Record<Exclude<GgufNumberType, 'f32' | 'f64'>, [number, number]>> = {
  u8: [0, 0xff],
  i8: [-0x80, 0x7f],
  u16: [0, 0xffff],
  i16: [-0x8000, 0x7fff],
  u32: [0, 0xffffffff],
  i32: [-0x80000000, 0x7fffffff],
};

function invalid(message: string): Error {
  return Object.assign(new Error(message), { code: 'GGUF_INVALID_VALUE' });
}

/** Growable little-endian byte sink used for the (small) header part of a GGUF file. */
class ByteSink {
  private buf = new Uint8Array(1024);
  private view = new DataView(this.buf.buffer);
  length = 0;

  private reserve(n: number): number {
    const at = this.length;
    if (at + n > this.buf.length) {
      const next = new Uint8Array(Math.max(this.buf.length * 2, at + n));
      next.set(this.buf.subarray(0, at));
      this.buf = next;
      this.view = new DataView(next.buffer);
    }
    this.length += n;
    return at;
  }

  u8(v: number): void {
    const at = this.reserve(1);
    this.view.setUint8(at, v);
  }
  i8(v: number): void {
    const at = this.reserve(1);
    this.view.setInt8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2);
    this.view.setUint16(at, v, true);
  }
  i16(v: number): void {
    const at = this.reserve(2);
    this.view.setInt16(at, v, true);
  }
  u32(v: number): void {
    const at = this.reserve(4);
    this.view.setUint32(at, v, true);
  }
  i32(v: number): void {
    const at = this.reserve(4);
    this.view.setInt32(at, v, true);
  }
  u64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigUint64(at, v, true);
  }
  i64(v: bigint): void {
    const at = this.reserve(8);
    this.view.setBigInt64(at, v, true);
  }
  f32(v: number): void {
    const at = this.reserve(4);
    this.view.setFloat32(at, v, true);
  }
  f64(v: number): void {
    const at = this.reserve(8);
    this.view.setFloat64(at, v, true);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.length);
    this.buf.set(b, at);
  }
  /** GGUF string: u64 byte length + UTF-8 bytes, no terminator. */
  string(s: string): void {
    const encoded = Buffer.from(s, 'utf8');
    this.u64(BigInt(encoded.length));
    this.bytes(encoded);
  }
  zeros(n: number): void {
    this.reserve(n); // fresh capacity is zero-filled and never reused
  }
  toBuffer(): Buffer {
    return Buffer.from(this.buf.buffer, 0, this.length);
  }
}

function writeItem(sink: ByteSink, type: GgufScalarType, item: unknown, key: string): void {
  switch (type) {
    case 'f32':
    case 'f64':
      if (typeof item !== 'number') throw invalid(`${key}: expected a number for ${type}`);
      if (type === 'f32') sink.f32(item);
      else sink.f64(item);
      return;
    case 'u64':
    case 'i64': {
      if (typeof item !== 'bigint') throw invalid(`${key}: expected a bigint for ${type}`);
      const ok =
        type === 'u64' ? BigInt.asUintN(64, item) === item : BigInt.asIntN(64, item) === item;
      if (!ok) throw invalid(`${key}: ${item} out of range for ${type}`);
      if (type === 'u64') sink.u64(item);
      else sink.i64(item);
      return;
    }
    case 'bool':
      if (typeof item !== 'boolean') throw invalid(`${key}: expected a boolean`);
      sink.u8(item ? 1 : 0);
      return;
    case 'string':
      if (typeof item !== 'string') throw invalid(`${key}: expected a string`);
      sink.string(item);
      return;
    default: {
      const [min, max] = INT_RANGES[type];
      if (typeof item !== 'number' || !Number.isInteger(item) || item < min || item > max) {
        throw invalid(`${key}: ${String(item)} is not a valid ${type}`);
      }
      sink[type](item);
    }
  }
}

/** Appends one metadata key/value pair (key, value type, value) to `sink`. */
function writeKeyValue(sink: ByteSink, key: string, value: GgufValue): void {
  sink.string(key);
  sink.u32(GGUF_VALUE_TYPE_IDS[value.type]);
  if (value.type !== 'array') {
    writeItem(sink, value.type, value.value, key);
    return;
  }
  sink.u32(GGUF_VALUE_TYPE_IDS[value.itemType]);
  sink.u64(BigInt(value.value.length));
  for (let i = 0; i < value.value.length; i++) {
    writeItem(sink, value.itemType, value.value[i], key);
  }
}

/** Fills `out` with the tensor's elements [start, start + out.length), in ggml memory order. */
export type TensorFill = (out: Float32Array, start: number) => void;

export interface GgufTensorSpec {
  /** At most 63 bytes (ggml's GGML_MAX_NAME includes the terminator). */
  readonly name: string;
  /** ggml order: shape[0] is ne0, the contiguous dimension. 1 to 4 dimensions. */
  readonly shape: readonly number[];
  readonly type: GgmlTensorType;
  /** Whole tensor as float32 (small tensors) or a producer called chunk by chunk, in order. */
  readonly data: Float32Array | TensorFill;
}

export type GgufMetadata = ReadonlyMap<string, GgufValue> | Readonly<Record<string, GgufValue>>;

export interface GgufFileSpec {
  /** Written in iteration order. `general.alignment` is added (first) when absent. */
  readonly metadata: GgufMetadata;
  readonly tensors: readonly GgufTensorSpec[];
}

export interface GgufWriteOptions {
  /** Tensor data alignment; default 32 (GGUF_DEFAULT_ALIGNMENT). */
  readonly alignment?: number;
  /** Elements produced and encoded per chunk; default 1 Mi. */
  readonly chunkElements?: number;
  readonly onProgress?: (bytesWritten: number, totalBytes: number) => void;
}

export interface GgufWrittenTensor {
  readonly name: string;
  readonly shape: readonly number[];
  readonly type: GgmlTensorType;
  /** Offset relative to the start of the tensor data section. */
  readonly offset: number;
  readonly byteLength: number;
}

export interface GgufWriteResult {
  readonly path: string;
  readonly byteLength: number;
  /** Absolute file offset of the tensor data section. */
  readonly dataOffset: number;
  readonly alignment: number;
  readonly tensors: readonly GgufWrittenTensor[];
}

export const GGUF_MAGIC = 0x46554747; // "GGUF" read as little-endian u32
export const GGUF_VERSION = 3;
const GGML_MAX_NAME = 64;
const GGML_MAX_DIMS = 4;

function specError(message: string): Error {
  return Object.assign(new Error(message), { code: 'GGUF_INVALID_TENSOR' });
}

const padTo = (n: number, alignment: number): number => Math.ceil(n / alignment) * alignment;

function metadataEntries(metadata: GgufMetadata): [string, GgufValue][] {
  return metadata instanceof Map ? [...metadata.entries()] : Object.entries(metadata);
}

function resolveAlignment(entries: [string, GgufValue][], requested: number | undefined): number {
  const existing = entries.find(([key]) => key === 'general.alignment');
  let alignment = requested ?? 32;
  if (existing) {
    const value = existing[1];
    if (value.type !== 'u32') throw invalid('general.alignment must be a u32');
    if (requested !== undefined && requested !== value.value) {
      throw invalid(`general.alignment ${value.value} conflicts with alignment ${requested}`);
    }
    alignment = value.value;
  } else {
    entries.unshift(['general.alignment', gguf.u32(alignment)]);
  }
  if (!Number.isInteger(alignment) || alignment <= 0 || (alignment & (alignment - 1)) !== 0) {
    throw invalid(`alignment ${alignment} is not a power of two`);
  }
  return alignment;
}

function layoutTensors(tensors: readonly GgufTensorSpec[], alignment: number): GgufWrittenTensor[] {
  const seen = new Set<string>();
  let offset = 0;
  return tensors.map((t) => {
    if (Buffer.byteLength(t.name, 'utf8') >= GGML_MAX_NAME) {
      throw specError(`tensor name too long: ${t.name}`);
    }
    if (seen.has(t.name)) throw specError(`duplicate tensor name: ${t.name}`);
    seen.add(t.name);
    if (t.shape.length < 1 || t.shape.length > GGML_MAX_DIMS) {
      throw specError(`${t.name}: ${t.shape.length} dimensions (1 to 4 allowed)`);
    }
    if (!t.shape.every((d) => Number.isSafeInteger(d) && d > 0)) {
      throw specError(`${t.name}: bad shape [${t.shape.join(', ')}]`);
    }
    const first = t.shape[0] ?? 0;
    if (first % GGML_TYPES[t.type].blockSize !== 0) {
      throw specError(`${t.name}: ne0 ${first} is not a multiple of the ${t.type} block size`);
    }
    const elements = t.shape.reduce((a, b) => a * b, 1);
    if (t.data instanceof Float32Array && t.data.length !== elements) {
      throw specError(`${t.name}: ${t.data.length} values for ${elements} elements`);
    }
    const byteLength = encodedByteLength(t.type, elements);
    const placed = { name: t.name, shape: [...t.shape], type: t.type, offset, byteLength };
    offset += padTo(byteLength, alignment);
    return placed;
  });
}

function buildHeader(
  entries: [string, GgufValue][],
  tensors: readonly GgufWrittenTensor[],
  alignment: number,
): Buffer {
  const sink = new ByteSink();
  sink.u32(GGUF_MAGIC);
  sink.u32(GGUF_VERSION);
  sink.u64(BigInt(tensors.length));
  sink.u64(BigInt(entries.length));
  const keys = new Set<string>();
  for (const [key, value] of entries) {
    if (keys.has(key)) throw invalid(`duplicate metadata key: ${key}`);
    keys.add(key);
    writeKeyValue(sink, key, value);
  }
  for (const t of tensors) {
    sink.string(t.name);
    sink.u32(t.shape.length);
    for (const d of t.shape) sink.u64(BigInt(d));
    sink.u32(GGML_TYPES[t.type].id);
    sink.u64(BigInt(t.offset));
  }
  sink.zeros(padTo(sink.length, alignment) - sink.length);
  return sink.toBuffer();
}

/**
 * Writes a GGUF v3 file. Tensor data is produced and encoded in chunks and streamed to disk; the
 * file appears at `path` only once complete (written to a temporary sibling, then renamed).
 */
export async function writeGgufFile(
  path: string,
  spec: GgufFileSpec,
  options: GgufWriteOptions = {},
): Promise<GgufWriteResult> {
  const entries = metadataEntries(spec.metadata);
  const alignment = resolveAlignment(entries, options.alignment);
  const placed = layoutTensors(spec.tensors, alignment);
  const header = buildHeader(entries, placed, alignment);
  const last = placed[placed.length - 1];
  const dataBytes = last ? last.offset + padTo(last.byteLength, alignment) : 0;
  const totalBytes = header.length + dataBytes;

  // Whole blocks per chunk so quantised blocks never straddle two chunks.
  const chunk = Math.max(32, Math.floor((options.chunkElements ?? 1 << 20) / 32) * 32);
  const values = new Float32Array(chunk);
  const encoded = new Uint8Array(chunk * 4 + alignment);

  const tmpPath = `${path}.partial-${process.pid}`;
  const file = await open(tmpPath, 'w');
  let written = 0;
  const emit = async (bytes: Uint8Array): Promise<void> => {
    let done = 0;
    while (done < bytes.length) {
      const { bytesWritten } = await file.write(bytes, done, bytes.length - done);
      done += bytesWritten;
    }
    written += bytes.length;
    options.onProgress?.(written, totalBytes);
  };

  try {
    await emit(header);
    for (const [i, t] of spec.tensors.entries()) {
      const info = GGML_TYPES[t.type];
      const elements = t.shape.reduce((a, b) => a * b, 1);
      for (let start = 0; start < elements; start += chunk) {
        const n = Math.min(chunk, elements - start);
        let src: Float32Array;
        if (t.data instanceof Float32Array) {
          src = t.data.subarray(start, start + n);
        } else {
          src = values.subarray(0, n);
          src.fill(0);
          t.data(src, start);
        }
        const bytes = info.encode(src, encoded, 0);
        await emit(encoded.subarray(0, bytes));
      }
      const size = placed[i]?.byteLength ?? 0;
      const padding = padTo(size, alignment) - size;
      if (padding > 0) await emit(new Uint8Array(padding));
    }
    await file.close();
    await rename(tmpPath, path);
  } catch (error) {
    await file.close().catch(() => undefined);
    await rm(tmpPath, { force: true });
    throw error;
  }

  return { path, byteLength: written, dataOffset: header.length, alignment, tensors: placed };
}
