// Test tooling, never used by the app: LLaVA-1.5's image features computed the way the reference
// does, in float64 with plain loops, from the weights of a GGUF mmproj.
//
// Follows Hugging Face's CLIPVisionModel and LLaVA's projector:
//   - pixels: an RGB image exactly the encoder's size (no resampling on either side), scaled to
//     [0, 1] and normalised with the file's image_mean / image_std (CLIPImageProcessor's
//     rescale + normalize);
//   - CLIPVisionEmbeddings: patch convolution (stride = kernel = patch size, with the bias when the
//     file has one), the class embedding FIRST, position embeddings by position id 0..n;
//   - pre_layrnorm, then the encoder blocks: x += attn(layer_norm1(x)); x += mlp(layer_norm2(x)),
//     the MLP's activation being quick GELU (x * sigmoid(1.702 x), OpenAI CLIP) or GELU (erf) as
//     `clip.use_gelu` says;
//   - the feature is hidden_states[-2] of the source model. LLaVA-1.5's converter stores
//     num_hidden_layers - 1 blocks (block_count), so that is the output of the last STORED block;
//   - the class token is dropped, then mm.0 -> GELU (erf, torch.nn.GELU()) -> mm.2.
//
// `projectorGelu: 'ggml'` swaps the projector's activation for what ggml's CPU backend computes
// for ggml_gelu (the tanh approximation read from an fp16 table), to measure what that costs.
// `deviations` reproduces what llama.cpp's unpatched LLaVA graph computes instead (the class token
// appended after the patches while positions stay 0..n and rows 1..n are projected; one stored
// block fewer), so each deviation's effect can be measured on its own (docs/UPSTREAM.md).

import { float16BitsToFloat32, float32ToFloat16Bits } from '../gguf/tensor-encoding.js';
import { readGgufValues } from '../../src-main/models/gguf/read-values.js';
import { readTensors, type Tensor64 } from './gguf-tensors.js';

export interface ClipReferenceConfig {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly width: number;
  readonly heads: number;
  readonly blocks: number;
  readonly eps: number;
  readonly useGelu: boolean;
  readonly mean: readonly number[];
  readonly std: readonly number[];
}

export interface ReferenceEmbeddings {
  readonly tokens: number;
  readonly width: number;
  /** tokens x width, row-major. */
  readonly data: Float64Array;
}

export type ProjectorGelu = 'erf' | 'ggml';

export interface ReferenceOptions {
  readonly projectorGelu?: ProjectorGelu;
  readonly deviations?: {
    /** The class token after the patches (llama.cpp's graph before patch 0001). */
    readonly classTokenLast?: boolean;
    /** Run one stored block fewer (llama.cpp's graph before patch 0002). */
    readonly oneBlockShort?: boolean;
  };
}

const KEYS = [
  'clip.projector_type',
  'clip.vision.image_size',
  'clip.vision.patch_size',
  'clip.vision.embedding_length',
  'clip.vision.attention.head_count',
  'clip.vision.attention.layer_norm_epsilon',
  'clip.vision.block_count',
  'clip.vision.feature_layer',
  'clip.use_gelu',
  'clip.vision.image_mean',
  'clip.vision.image_std',
] as const;

export class LlavaReference {
  private constructor(
    readonly config: ClipReferenceConfig,
    private readonly tensors: ReadonlyMap<string, Tensor64>,
  ) {}

  static async load(mmprojPath: string): Promise<LlavaReference> {
    const values = await readGgufValues(mmprojPath, new Set(KEYS));
    const num = (key: (typeof KEYS)[number]): number => {
      const v = values.get(key);
      if (typeof v !== 'number') throw new Error(`${mmprojPath}: ${key} is missing`);
      return v;
    };
    const nums = (key: (typeof KEYS)[number]): number[] => {
      const v = values.get(key);
      if (!Array.isArray(v)) throw new Error(`${mmprojPath}: ${key} is missing`);
      return v.map(Number);
    };
    if (values.get('clip.projector_type') !== 'mlp') {
      throw new Error(`${mmprojPath}: the reference covers LLaVA's MLP projector only`);
    }
    const blocks = num('clip.vision.block_count');
    const feature = values.get('clip.vision.feature_layer');
    if (
      feature !== undefined &&
      !(Array.isArray(feature) && feature.length === 1 && Number(feature[0]) === blocks)
    ) {
      throw new Error(`${mmprojPath}: the reference takes the last stored block's output only`);
    }
    const config: ClipReferenceConfig = {
      imageSize: num('clip.vision.image_size'),
      patchSize: num('clip.vision.patch_size'),
      width: num('clip.vision.embedding_length'),
      heads: num('clip.vision.attention.head_count'),
      blocks,
      eps: num('clip.vision.attention.layer_norm_epsilon'),
      useGelu: values.get('clip.use_gelu') === true,
      mean: nums('clip.vision.image_mean'),
      std: nums('clip.vision.image_std'),
    };
    return new LlavaReference(config, await readTensors(mmprojPath));
  }

  private t(name: string): Tensor64 {
    const t = this.tensors.get(name);
    if (!t) throw new Error(`tensor ${name} is missing`);
    return t;
  }

  private opt(name: string): Tensor64 | undefined {
    return this.tensors.get(name);
  }

  /** LLaVA-NeXT's `image_newline` (`v.image_newline` in the mmproj), when the file has one. */
  imageNewline(): Float64Array | undefined {
    return this.opt('v.image_newline')?.data;
  }

  /** The projector's output for an RGB image of exactly imageSize x imageSize pixels. */
  embed(
    rgb: Uint8Array,
    size: { width: number; height: number },
    options: ReferenceOptions = {},
  ): ReferenceEmbeddings {
    const classRow = options.deviations?.classTokenLast ? -1 : 0;
    const blocks = this.config.blocks - (options.deviations?.oneBlockShort ? 1 : 0);
    const c = this.config;
    if (size.width !== c.imageSize || size.height !== c.imageSize) {
      throw new Error(
        `the reference takes ${c.imageSize}x${c.imageSize} images (no resampling), got ${size.width}x${size.height}`,
      );
    }
    const d = c.width;
    const grid = c.imageSize / c.patchSize;
    const nPatches = grid * grid;
    const n = nPatches + 1;

    // CLIPImageProcessor: rescale 1/255, normalize; planar float image [3][H][W]
    const S = c.imageSize;
    const pixels = new Float64Array(3 * S * S);
    for (let y = 0; y < S; y++) {
      for (let x = 0; x < S; x++) {
        for (let ch = 0; ch < 3; ch++) {
          const v = (rgb[(y * S + x) * 3 + ch] ?? 0) / 255;
          pixels[(ch * S + y) * S + x] = (v - (c.mean[ch] ?? 0)) / (c.std[ch] ?? 1);
        }
      }
    }

    // CLIPVisionEmbeddings: [CLS, patch_0 .. patch_{n-1}] + position_embedding(0..n)
    const h = new Float64Array(n * d);
    const conv = this.t('v.patch_embd.weight'); // ggml [p, p, 3, d]
    const convBias = this.opt('v.patch_embd.bias');
    const P = c.patchSize;
    for (let py = 0; py < grid; py++) {
      for (let px = 0; px < grid; px++) {
        const row = (classRow === 0 ? 1 : 0) + py * grid + px;
        for (let o = 0; o < d; o++) {
          let acc = convBias ? (convBias.data[o] ?? 0) : 0;
          for (let ch = 0; ch < 3; ch++) {
            for (let ky = 0; ky < P; ky++) {
              const wBase = ((o * 3 + ch) * P + ky) * P;
              const pBase = (ch * S + py * P + ky) * S + px * P;
              for (let kx = 0; kx < P; kx++) {
                acc += (conv.data[wBase + kx] ?? 0) * (pixels[pBase + kx] ?? 0);
              }
            }
          }
          h[row * d + o] = acc;
        }
      }
    }
    const cls = this.t('v.class_embd');
    const clsAt = classRow === 0 ? 0 : nPatches;
    for (let o = 0; o < d; o++) h[clsAt * d + o] = cls.data[o] ?? 0;
    const pos = this.t('v.position_embd.weight'); // ggml [d, n_pos]
    for (let i = 0; i < n * d; i++) h[i] = (h[i] ?? 0) + (pos.data[i] ?? 0);

    let x = layerNorm(h, n, d, this.t('v.pre_ln.weight'), this.t('v.pre_ln.bias'), c.eps);

    const act = c.useGelu ? geluErf : quickGelu;
    for (let il = 0; il < blocks; il++) {
      const p = `v.blk.${il}`;
      const a = layerNorm(x, n, d, this.t(`${p}.ln1.weight`), this.t(`${p}.ln1.bias`), c.eps);
      const attn = this.attention(a, n, p);
      for (let i = 0; i < n * d; i++) x[i] = (x[i] ?? 0) + (attn[i] ?? 0);
      const m = layerNorm(x, n, d, this.t(`${p}.ln2.weight`), this.t(`${p}.ln2.bias`), c.eps);
      const up = linear(m, n, this.t(`${p}.ffn_up.weight`), this.opt(`${p}.ffn_up.bias`));
      for (let i = 0; i < up.length; i++) up[i] = act(up[i] ?? 0);
      const ff = linear(up, n, this.t(`${p}.ffn_down.weight`), this.opt(`${p}.ffn_down.bias`));
      for (let i = 0; i < n * d; i++) x[i] = (x[i] ?? 0) + (ff[i] ?? 0);
    }

    // hidden_states[-2] without its first row (the class token, unless it was put last), then
    // LLaVA's projector
    x = x.slice(d);
    const projGelu = options.projectorGelu === 'ggml' ? ggmlGelu : geluErf;
    const hid = linear(x, nPatches, this.t('mm.0.weight'), this.t('mm.0.bias'));
    for (let i = 0; i < hid.length; i++) hid[i] = projGelu(hid[i] ?? 0);
    const mm2 = this.t('mm.2.weight');
    const out = linear(hid, nPatches, mm2, this.t('mm.2.bias'));
    return { tokens: nPatches, width: mm2.shape[1] ?? 0, data: out };
  }

  private attention(a: Float64Array, n: number, p: string): Float64Array {
    const d = this.config.width;
    const heads = this.config.heads;
    const dh = d / heads;
    const q = linear(a, n, this.t(`${p}.attn_q.weight`), this.opt(`${p}.attn_q.bias`));
    const k = linear(a, n, this.t(`${p}.attn_k.weight`), this.opt(`${p}.attn_k.bias`));
    const v = linear(a, n, this.t(`${p}.attn_v.weight`), this.opt(`${p}.attn_v.bias`));
    const ctx = new Float64Array(n * d);
    const scale = 1 / Math.sqrt(dh);
    const scores = new Float64Array(n);
    for (let hd = 0; hd < heads; hd++) {
      const off = hd * dh;
      for (let i = 0; i < n; i++) {
        let max = -Infinity;
        for (let j = 0; j < n; j++) {
          let s = 0;
          for (let e = 0; e < dh; e++) s += (q[i * d + off + e] ?? 0) * (k[j * d + off + e] ?? 0);
          s *= scale;
          scores[j] = s;
          if (s > max) max = s;
        }
        let sum = 0;
        for (let j = 0; j < n; j++) {
          const e = Math.exp((scores[j] ?? 0) - max);
          scores[j] = e;
          sum += e;
        }
        for (let e = 0; e < dh; e++) {
          let acc = 0;
          for (let j = 0; j < n; j++) acc += (scores[j] ?? 0) * (v[j * d + off + e] ?? 0);
          ctx[i * d + off + e] = acc / sum;
        }
      }
    }
    return linear(ctx, n, this.t(`${p}.attn_out.weight`), this.opt(`${p}.attn_out.bias`));
  }
}

/** y = x W^T + b for `rows` rows; W in ggml order [in, out] (PyTorch's [out][in], row-major). */
function linear(x: Float64Array, rows: number, w: Tensor64, b: Tensor64 | undefined): Float64Array {
  const inDim = w.shape[0] ?? 0;
  const outDim = w.shape[1] ?? 0;
  const y = new Float64Array(rows * outDim);
  for (let r = 0; r < rows; r++) {
    for (let o = 0; o < outDim; o++) {
      let acc = b ? (b.data[o] ?? 0) : 0;
      const wBase = o * inDim;
      const xBase = r * inDim;
      for (let i = 0; i < inDim; i++) acc += (w.data[wBase + i] ?? 0) * (x[xBase + i] ?? 0);
      y[r * outDim + o] = acc;
    }
  }
  return y;
}

function layerNorm(
  x: Float64Array,
  rows: number,
  d: number,
  w: Tensor64,
  b: Tensor64,
  eps: number,
): Float64Array {
  const y = new Float64Array(rows * d);
  for (let r = 0; r < rows; r++) {
    let mean = 0;
    for (let i = 0; i < d; i++) mean += x[r * d + i] ?? 0;
    mean /= d;
    let variance = 0;
    for (let i = 0; i < d; i++) variance += ((x[r * d + i] ?? 0) - mean) ** 2;
    variance /= d;
    const inv = 1 / Math.sqrt(variance + eps);
    for (let i = 0; i < d; i++) {
      y[r * d + i] = ((x[r * d + i] ?? 0) - mean) * inv * (w.data[i] ?? 0) + (b.data[i] ?? 0);
    }
  }
  return y;
}

/** OpenAI CLIP's quick GELU. */
export function quickGelu(x: number): number {
  return x / (1 + Math.exp(-1.702 * x));
}

/** Exact GELU, x * Phi(x) (torch.nn.GELU() / F.gelu with approximate='none'). */
export function geluErf(x: number): number {
  return 0.5 * x * (1 + erf(x / Math.SQRT2));
}

/**
 * ggml_gelu as ggml's CPU backend computes it for float32 (GGML_GELU_FP16): the input rounded to
 * fp16, the tanh approximation looked up in a table of fp16 results; |x| >= 10 passes through.
 */
export function ggmlGelu(x: number): number {
  if (x <= -10) return 0;
  if (x >= 10) return x;
  const f = toFp16(x);
  const t = Math.fround(0.5 * f * (1 + Math.tanh(0.7978845608028654 * f * (1 + 0.044715 * f * f))));
  return toFp16(t);
}

function toFp16(x: number): number {
  return float16BitsToFloat32(float32ToFloat16Bits(x));
}

/** erf to about 1e-14: Taylor series near 0, a continued fraction for erfc further out. */
export function erf(x: number): number {
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let term = ax;
    let sum = ax;
    for (let k = 1; k < 200; k++) {
      term *= (-ax * ax) / k;
      const add = term / (2 * k + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    const r = (2 / Math.sqrt(Math.PI)) * sum;
    return x < 0 ? -r : r;
  }
  // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + 1/2/(x + 1/(x + 3/2/(x + ...)))), Lentz's method
  const tiny = 1e-300;
  let f = ax;
  let C = ax;
  let D = 0;
  for (let k = 1; k < 500; k++) {
    const a = k / 2;
    D = ax + a * D;
    D = D === 0 ? tiny : 1 / D;
    C = ax + a / C;
    if (C === 0) C = tiny;
    const delta = C * D;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return x < 0 ? erfc - 1 : 1 - erfc;
}
