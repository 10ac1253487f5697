// Float32 → ggml storage encodings (F32, F16, Q8_0, Q4_0), byte-compatible with ggml's
// reference quantisers in ggml-quants.c. All arithmetic that ggml does in `float` is done here
// through Math.fround so the bytes match a C build without FMA contraction.
// Tooling, not product: used by the GGUF writer (test models) and scripts/vision-parity/.

/** Elements per quantisation block for Q8_0 and Q4_0. */
export const QK = 32;
/** Bytes per Q8_0 block: f16 scale + 32 × int8. */
export const Q8_0_BLOCK_BYTES = 2 + QK;
/** Bytes per Q4_0 block: f16 scale + 16 bytes of packed nibbles. */
export const Q4_0_BLOCK_BYTES = 2 + QK / 2;

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

function float32Bits(value: number): number {
  f32Scratch[0] = value;
  return u32Scratch[0] ?? 0;
}

/** Converts a number to IEEE half precision bits, rounding to nearest even (as ggml does). */
export function float32ToFloat16Bits(value: number): number {
  const bits = float32Bits(value);
  const sign = (bits >>> 16) & 0x8000;
  const exp = (bits >>> 23) & 0xff;
  const mant = bits & 0x7fffff;

  if (exp === 0xff) return sign | (mant !== 0 ? 0x7e00 : 0x7c00);

  const halfExp = exp - 127 + 15;
  if (halfExp >= 31) return sign | 0x7c00;

  if (halfExp <= 0) {
    // Result is subnormal (or zero): shift the full significand into 10 mantissa bits.
    if (halfExp < -10) return sign;
    const significand = mant | 0x800000;
    const shift = 14 - halfExp;
    let half = significand >>> shift;
    const rest = significand & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    if (rest > halfway || (rest === halfway && (half & 1) === 1)) half += 1;
    return sign | half;
  }

  let half = (halfExp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  // A carry out of the mantissa correctly bumps the exponent (up to infinity).
  if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half += 1;
  return sign | half;
}

/** Converts IEEE half precision bits to a number. */
export function float16BitsToFloat32(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exp = (bits >>> 10) & 0x1f;
  const mant = bits & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant === 0 ? sign * Infinity : NaN;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}

/** C `roundf`: halves round away from zero. */
function roundHalfAwayFromZero(value: number): number {
  return value < 0 ? -Math.floor(-value + 0.5) : Math.floor(value + 0.5);
}

/** Writes `src` as little-endian float32 into `out` at `outOffset`; returns bytes written. */
export function encodeF32(src: Float32Array, out: Uint8Array, outOffset = 0): number {
  const view = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < src.length; i++) view.setFloat32(outOffset + i * 4, src[i] ?? 0, true);
  return src.length * 4;
}

/** Writes `src` as little-endian float16 into `out` at `outOffset`; returns bytes written. */
export function encodeF16(src: Float32Array, out: Uint8Array, outOffset = 0): number {
  for (let i = 0; i < src.length; i++) {
    const half = float32ToFloat16Bits(src[i] ?? 0);
    out[outOffset + i * 2] = half & 0xff;
    out[outOffset + i * 2 + 1] = half >>> 8;
  }
  return src.length * 2;
}

function assertBlocks(length: number, what: string): void {
  if (length % QK !== 0) {
    throw Object.assign(new Error(`${what}: length ${length} is not a multiple of ${QK}`), {
      code: 'GGUF_BAD_BLOCK_LENGTH',
    });
  }
}

/** Q8_0 (ggml quantize_row_q8_0_ref): d = amax/127, q = roundf(x/d). Returns bytes written. */
export function encodeQ8_0(src: Float32Array, out: Uint8Array, outOffset = 0): number {
  assertBlocks(src.length, 'Q8_0');
  const blocks = src.length / QK;
  for (let b = 0; b < blocks; b++) {
    const base = b * QK;
    let amax = 0;
    for (let j = 0; j < QK; j++) amax = Math.max(amax, Math.abs(src[base + j] ?? 0));
    const d = Math.fround(amax / 127);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const half = float32ToFloat16Bits(d);
    const o = outOffset + b * Q8_0_BLOCK_BYTES;
    out[o] = half & 0xff;
    out[o + 1] = half >>> 8;
    for (let j = 0; j < QK; j++) {
      const q = roundHalfAwayFromZero(Math.fround((src[base + j] ?? 0) * id));
      out[o + 2 + j] = q & 0xff;
    }
  }
  return blocks * Q8_0_BLOCK_BYTES;
}

/**
 * Q4_0 (ggml quantize_row_q4_0_ref): d = (signed value of max |x|) / -8, nibble =
 * min(15, trunc(x/d + 8.5)); byte j holds element j (low nibble) and j + 16 (high nibble).
 */
export function encodeQ4_0(src: Float32Array, out: Uint8Array, outOffset = 0): number {
  assertBlocks(src.length, 'Q4_0');
  const blocks = src.length / QK;
  for (let b = 0; b < blocks; b++) {
    const base = b * QK;
    let amax = 0;
    let max = 0;
    for (let j = 0; j < QK; j++) {
      const v = src[base + j] ?? 0;
      if (amax < Math.abs(v)) {
        amax = Math.abs(v);
        max = v;
      }
    }
    const d = Math.fround(max / -8);
    const id = d !== 0 ? Math.fround(1 / d) : 0;
    const half = float32ToFloat16Bits(d);
    const o = outOffset + b * Q4_0_BLOCK_BYTES;
    out[o] = half & 0xff;
    out[o + 1] = half >>> 8;
    for (let j = 0; j < QK / 2; j++) {
      const x0 = Math.fround((src[base + j] ?? 0) * id);
      const x1 = Math.fround((src[base + QK / 2 + j] ?? 0) * id);
      const q0 = Math.min(15, Math.trunc(Math.fround(x0 + 8.5)));
      const q1 = Math.min(15, Math.trunc(Math.fround(x1 + 8.5)));
      out[o + 2 + j] = q0 | (q1 << 4);
    }
  }
  return blocks * Q4_0_BLOCK_BYTES;
}

/** Tensor storage types this package can encode. */
export type GgmlTensorType = 'f32' | 'f16' | 'q8_0' | 'q4_0';

export interface GgmlTypeInfo {
  /** ggml_type enum value written into the GGUF tensor info. */
  readonly id: number;
  /** Elements per block (1 for plain floats). */
  readonly blockSize: number;
  /** Bytes per block. */
  readonly blockBytes: number;
  readonly encode: (src: Float32Array, out: Uint8Array, outOffset?: number) => number;
}

export const GGML_TYPES: Readonly<Record<GgmlTensorType, GgmlTypeInfo>> = {
  f32: { id: 0, blockSize: 1, blockBytes: 4, encode: encodeF32 },
  f16: { id: 1, blockSize: 1, blockBytes: 2, encode: encodeF16 },
  q4_0: { id: 2, blockSize: QK, blockBytes: Q4_0_BLOCK_BYTES, encode: encodeQ4_0 },
  q8_0: { id: 8, blockSize: QK, blockBytes: Q8_0_BLOCK_BYTES, encode: encodeQ8_0 },
};

/** Bytes needed to store `elements` values of `type` (elements must fill whole blocks). */
export function encodedByteLength(type: GgmlTensorType, elements: number): number {
  const info = GGML_TYPES[type];
  if (elements % info.blockSize !== 0) {
    throw Object.assign(new Error(`${type}: ${elements} elements is not whole blocks`), {
      code: 'GGUF_BAD_BLOCK_LENGTH',
    });
  }
  return (elements / info.blockSize) * info.blockBytes;
}
