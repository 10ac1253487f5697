// Deterministic synthetic LLaVA-1.5 model pair (llama LLM + CLIP/MLP mmproj) for tests and
// benchmarks. Weights are random but seeded: the same options give byte-identical files.

import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

import {
  gguf,
  writeGgufFile,
  type GgmlTensorType,
  type GgufTensorSpec,
  type GgufValue,
  type TensorFill,
} from '../gguf/writer.js';

export type LlmTensorType = 'f32' | 'f16' | 'q8_0' | 'q4_0';
export type MmprojTensorType = 'f32' | 'f16';
export type LlavaPreset = 'tiny' | 'realistic';

export interface LlmShape {
  readonly nEmbd: number;
  readonly nLayer: number;
  readonly nHead: number;
  readonly nHeadKv: number;
  readonly nFf: number;
  readonly nCtx: number;
  readonly nVocab: number;
  readonly rmsEps: number;
  readonly ropeFreqBase: number;
}

export interface VisionShape {
  readonly imageSize: number;
  readonly patchSize: number;
  readonly nEmbd: number;
  readonly nFf: number;
  readonly nHead: number;
  /**
   * Depth of the source ViT. LLaVA-1.5 uses the penultimate layer's features, so (like the
   * upstream converter) the file stores nLayer - 1 blocks and `clip.vision.feature_layer` =
   * [nLayer - 1]; clip.cpp then runs every stored block and feeds the last one's output to mm.0.
   */
  readonly nLayer: number;
  /** CLIP's own visual projection width; recorded in the file, unused by the MLP projector. */
  readonly projectionDim: number;
  readonly layerNormEps: number;
  /** clip.use_gelu: false means quick-GELU, as in OpenAI CLIP. */
  readonly useGelu: boolean;
  /** Store a patch-embedding bias (`v.patch_embd.bias`); OpenAI CLIP has none. */
  readonly patchBias: boolean;
  /**
   * Write `clip.vision.feature_layer = [nLayer - 1]`. The LLaVA-1.5 converter
   * (legacy-models/convert_image_encoder_to_gguf.py) writes no such key for a plain CLIP config:
   * false gives a file shaped exactly like the real LLaVA-1.5 mmprojs (llama.cpp's graph then ran
   * one block too few before llava-desk's patch, docs/UPSTREAM.md).
   */
  readonly featureLayerKey: boolean;
  /**
   * `clip.vision.image_grid_pinpoints` as [width, height] pairs, as LLaVA-1.6's converter writes
   * them (with `clip.vision.mm_patch_merge_type = spatial_unpad`): the runtime tiles the image
   * itself. Empty: a LLaVA-1.5 file.
   */
  readonly gridPinpoints: readonly (readonly [number, number])[];
  /** Store `v.image_newline`, LLaVA-1.6's learned row separator (one LLM-width vector). */
  readonly imageNewline: boolean;
}

export interface LlavaPairOptions {
  readonly outDir: string;
  readonly seed?: number;
  readonly preset?: LlavaPreset;
  readonly llm?: Partial<LlmShape>;
  readonly vision?: Partial<VisionShape>;
  /** Storage type of the LLM's 2-D weights (norms stay f32). Default f16 (tiny), q8_0 (realistic). */
  readonly llmType?: LlmTensorType;
  /** Storage type of the mmproj's 2-D+ weights. Default f16. */
  readonly mmprojType?: MmprojTensorType;
  readonly modelFileName?: string;
  readonly mmprojFileName?: string;
  readonly onProgress?: (
    file: 'model' | 'mmproj',
    bytesWritten: number,
    totalBytes: number,
  ) => void;
}

export interface LlavaPairResult {
  readonly modelPath: string;
  readonly mmprojPath: string;
  readonly seed: number;
  readonly llm: {
    readonly shape: LlmShape;
    readonly type: LlmTensorType;
    readonly bytes: number;
    readonly metadata: ReadonlyMap<string, GgufValue>;
  };
  readonly mmproj: {
    readonly shape: VisionShape;
    readonly type: MmprojTensorType;
    readonly bytes: number;
    /** Blocks stored in the file (nLayer - 1). */
    readonly blockCount: number;
    /** Image tokens one image becomes: (imageSize / patchSize)². */
    readonly imageTokens: number;
    readonly metadata: ReadonlyMap<string, GgufValue>;
  };
}

export const LLAVA_PRESETS: Readonly<
  Record<LlavaPreset, { llm: LlmShape; vision: VisionShape; llmType: LlmTensorType }>
> = {
  tiny: {
    llm: {
      nEmbd: 64,
      nLayer: 2,
      nHead: 4,
      nHeadKv: 2,
      nFf: 128,
      nCtx: 2048,
      nVocab: 1024,
      rmsEps: 1e-5,
      ropeFreqBase: 10000,
    },
    vision: {
      imageSize: 56,
      patchSize: 14,
      nEmbd: 64,
      nFf: 128,
      nHead: 4,
      nLayer: 3,
      projectionDim: 64,
      layerNormEps: 1e-5,
      useGelu: false,
      patchBias: false,
      featureLayerKey: true,
      gridPinpoints: [],
      imageNewline: false,
    },
    llmType: 'f16',
  },
  // CLIP ViT-L/14-336 + a TinyLlama-1.1B-shaped LLM.
  realistic: {
    llm: {
      nEmbd: 2048,
      nLayer: 22,
      nHead: 32,
      nHeadKv: 4,
      nFf: 5632,
      nCtx: 2048,
      nVocab: 32000,
      rmsEps: 1e-5,
      ropeFreqBase: 10000,
    },
    vision: {
      imageSize: 336,
      patchSize: 14,
      nEmbd: 1024,
      nFf: 4096,
      nHead: 16,
      nLayer: 24,
      projectionDim: 768,
      layerNormEps: 1e-5,
      useGelu: false,
      patchBias: false,
      featureLayerKey: true,
      gridPinpoints: [],
      imageNewline: false,
    },
    llmType: 'q8_0',
  },
};

export const CLIP_IMAGE_MEAN = [0.48145466, 0.4578275, 0.40821073] as const;
export const CLIP_IMAGE_STD = [0.26862954, 0.26130258, 0.27577711] as const;

// Vicuna v1.1 style, as LLaVA-1.5 is prompted; llama.cpp detects it as "vicuna".
export const LLAVA_CHAT_TEMPLATE =
  "{% for message in messages %}{% if message['role'] == 'system' %}" +
  "{{ message['content'] + '\\n\\n' }}{% elif message['role'] == 'user' %}" +
  "{{ 'USER: ' + message['content'] + '\\n' }}{% else %}" +
  "{{ 'ASSISTANT: ' + message['content'] + eos_token + '\\n' }}{% endif %}{% endfor %}" +
  "{% if add_generation_prompt %}{{ 'ASSISTANT:' }}{% endif %}";

function optionError(message: string): Error {
  return Object.assign(new Error(message), { code: 'LLAVA_PAIR_BAD_OPTION' });
}

// ---------------------------------------------------------------------------------------------
// Seeded randomness

/** FNV-1a over the UTF-8 bytes of `text`, mixed with `seed`. */
function hashSeed(seed: number, text: string): number {
  let h = (0x811c9dc5 ^ seed) >>> 0;
  for (const byte of Buffer.from(text, 'utf8')) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** mulberry32 uniform generator plus Box–Muller normals. */
class Rng {
  private state: number;
  private spare: number | undefined;

  constructor(seed: number) {
    this.state = seed >>> 0;
  }

  nextU32(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  }

  normal(): number {
    if (this.spare !== undefined) {
      const s = this.spare;
      this.spare = undefined;
      return s;
    }
    const u1 = (this.nextU32() + 1) / 4294967296; // (0, 1]
    const u2 = this.nextU32() / 4294967296;
    const r = Math.sqrt(-2 * Math.log(u1));
    this.spare = r * Math.sin(2 * Math.PI * u2);
    return r * Math.cos(2 * Math.PI * u2);
  }
}

interface Init {
  readonly std: number;
  readonly mean?: number;
  /** Multiplier per row (index along ne1) of a 2-D tensor whose rows are `rowLength` long. */
  readonly rowScale?: { readonly rowLength: number; readonly scale: (row: number) => number };
}

/** A producer that regenerates the same stream whenever the writer restarts a tensor at 0. */
function seededFill(seed: number, name: string, init: Init): TensorFill {
  let rng = new Rng(hashSeed(seed, name));
  let next = 0;
  const mean = init.mean ?? 0;
  return (out, start) => {
    if (start === 0) rng = new Rng(hashSeed(seed, name));
    else if (start !== next) throw new Error(`${name}: out-of-order chunk at ${start}`);
    for (let i = 0; i < out.length; i++) out[i] = mean + init.std * rng.normal();
    const rows = init.rowScale;
    if (rows) {
      for (let i = 0; i < out.length; i++) {
        out[i] = (out[i] ?? 0) * rows.scale(Math.floor((start + i) / rows.rowLength));
      }
    }
    next = start + out.length;
  };
}

function tensor(
  seed: number,
  name: string,
  shape: number[],
  type: GgmlTensorType,
  init: Init,
): GgufTensorSpec {
  return { name, shape, type, data: seededFill(seed, name, init) };
}

// ---------------------------------------------------------------------------------------------
// SPM vocabulary

const TOKEN_TYPE = { normal: 1, unknown: 2, control: 3, byte: 6 } as const;
/** `<unk>`, `<s>`, `</s>` and `<0x00>`..`<0xFF>` come first in the vocabulary. */
const SPECIAL_AND_BYTE_TOKENS = 3 + 256;

const WORDS = (
  'the a an of and to in is it that this with for on as at by from be are was were has have ' +
  'image picture photo shows show there here what which who where how color red green blue ' +
  'yellow black white gray orange purple brown pink dog cat man woman person people car tree ' +
  'sky water street table room light dark left right top bottom center small large big little ' +
  'one two three four many some describe see can you we he she they not no yes very ' +
  'background front near next sitting standing wearing holding looking playing ' +
  'The A This It There In USER ASSISTANT'
).split(' ');
const SUFFIXES = ['ing', 'ed', 'er', 'ly', 'es', 's', 'tion', 'ment', 'est'];
const SPACE = '\u2581'; // "▁", SentencePiece's escaped space
const CHARS =
  'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789' +
  '.,:;!?\'"-()[]{}/\\@#$%&*+=<>_~`^|';

export interface SpmVocab {
  readonly tokens: string[];
  readonly scores: number[];
  readonly types: number[];
}

/**
 * `<unk>`, `<s>`, `</s>`, 256 byte-fallback tokens, "▁", characters, then English word pieces
 * (every multi-character piece is preceded by its prefixes so SPM's pairwise merges can reach
 * it), then synthetic letter pieces up to `size`. Any UTF-8 text tokenises via byte fallback.
 */
export function buildSpmVocab(size: number): SpmVocab {
  const tokens: string[] = ['<unk>', '<s>', '</s>'];
  const types: number[] = [TOKEN_TYPE.unknown, TOKEN_TYPE.control, TOKEN_TYPE.control];
  for (let b = 0; b < 256; b++) {
    tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
    types.push(TOKEN_TYPE.byte);
  }
  const minimum = tokens.length + 1;
  if (!Number.isInteger(size) || size < minimum) {
    throw optionError(`vocabulary size must be an integer >= ${minimum}, got ${size}`);
  }

  const pieces: string[] = [];
  const seen = new Set<string>(tokens);
  const add = (piece: string): void => {
    if (!seen.has(piece)) {
      seen.add(piece);
      pieces.push(piece);
    }
  };
  const addWithPrefixes = (piece: string): void => {
    const chars = [...piece];
    for (let n = 2; n <= chars.length; n++) add(chars.slice(0, n).join(''));
  };
  add(SPACE);
  for (const c of CHARS) add(c);
  for (const w of WORDS) addWithPrefixes(SPACE + w);
  for (const w of WORDS) addWithPrefixes(w);
  for (const s of SUFFIXES) addWithPrefixes(s);
  const letters = 'abcdefghijklmnopqrstuvwxyz';
  const synthetic = function* (): Generator<string> {
    for (const len of [2, 3]) {
      for (const prefix of ['', SPACE]) {
        const total = letters.length ** len;
        for (let i = 0; i < total; i++) {
          let s = '';
          for (let k = len - 1, v = i; k >= 0; k--, v = Math.floor(v / letters.length)) {
            s = letters[v % letters.length] + s;
          }
          yield prefix + s;
        }
      }
    }
    for (let i = 0; ; i++) yield `${SPACE}x${i}`;
  };
  const gen = synthetic();
  while (tokens.length + pieces.length < size) {
    const next = gen.next();
    if (!next.done) add(next.value);
  }

  const scores = tokens.map(() => 0);
  for (const [i, piece] of pieces.slice(0, size - tokens.length).entries()) {
    tokens.push(piece);
    types.push(TOKEN_TYPE.normal);
    scores.push(-i); // earlier (more common) pieces win SPM merges
  }
  return { tokens, scores, types };
}

// ---------------------------------------------------------------------------------------------
// Files

const LLAMA_FTYPE: Readonly<Record<LlmTensorType, number>> = { f32: 0, f16: 1, q4_0: 2, q8_0: 7 };

function resolveLlm(shape: LlmShape, type: LlmTensorType): LlmShape {
  const { nEmbd, nHead, nHeadKv, nFf, nLayer, nCtx } = shape;
  for (const [k, v] of Object.entries({ nEmbd, nHead, nHeadKv, nFf, nLayer, nCtx })) {
    if (!Number.isInteger(v) || v <= 0) throw optionError(`llm.${k} must be a positive integer`);
  }
  if (nEmbd % nHead !== 0) throw optionError('llm.nEmbd must be divisible by llm.nHead');
  if (nHead % nHeadKv !== 0) throw optionError('llm.nHead must be divisible by llm.nHeadKv');
  if ((nEmbd / nHead) % 2 !== 0) throw optionError('llm head size must be even (RoPE)');
  if (type === 'q8_0' || type === 'q4_0') {
    const kv = (nEmbd / nHead) * nHeadKv;
    if (nEmbd % 32 !== 0 || nFf % 32 !== 0 || kv % 32 !== 0) {
      throw optionError(`${type} needs nEmbd, nFf and the KV width to be multiples of 32`);
    }
  }
  return shape;
}

function resolveVision(shape: VisionShape): VisionShape {
  const { imageSize, patchSize, nEmbd, nFf, nHead, nLayer } = shape;
  for (const [k, v] of Object.entries({ imageSize, patchSize, nEmbd, nFf, nHead, nLayer })) {
    if (!Number.isInteger(v) || v <= 0) throw optionError(`vision.${k} must be a positive integer`);
  }
  if (imageSize % patchSize !== 0)
    throw optionError('vision.imageSize must be a multiple of patchSize');
  if (nEmbd % nHead !== 0) throw optionError('vision.nEmbd must be divisible by vision.nHead');
  if (nLayer < 2) throw optionError('vision.nLayer must be >= 2 (the last layer is dropped)');
  // clip.cpp treats ffn_down with ne0 == n_embd as legacy swapped up/down weights.
  if (nFf === nEmbd) throw optionError('vision.nFf must differ from vision.nEmbd');
  for (const [w, h] of shape.gridPinpoints) {
    if (!(Number.isInteger(w) && Number.isInteger(h) && w > 0 && h > 0))
      throw optionError('vision.gridPinpoints must be pairs of positive integers');
    if (w % imageSize !== 0 || h % imageSize !== 0)
      throw optionError('vision.gridPinpoints must be multiples of vision.imageSize');
  }
  return shape;
}

// Weight scales: attention logits of a few units so attention is content-dependent, residual
// updates comparable to the embeddings so the image tokens steer the text, and independent
// (untied) embedding/output matrices so greedy decoding does not lock onto one token.
function llmTensors(seed: number, s: LlmShape, type: LlmTensorType): GgufTensorSpec[] {
  const headDim = s.nEmbd / s.nHead;
  const kvWidth = headDim * s.nHeadKv;
  const inv = (n: number): number => 1 / Math.sqrt(n);
  const ones: Init = { mean: 1, std: 0.05 };
  const t = (name: string, shape: number[], init: Init, ttype: GgmlTensorType = type) =>
    tensor(seed, name, shape, ttype, init);

  const out: GgufTensorSpec[] = [t('token_embd.weight', [s.nEmbd, s.nVocab], { std: 1 })];
  for (let i = 0; i < s.nLayer; i++) {
    const p = `blk.${i}`;
    out.push(
      t(`${p}.attn_norm.weight`, [s.nEmbd], ones, 'f32'),
      t(`${p}.attn_q.weight`, [s.nEmbd, s.nEmbd], { std: 2 * inv(s.nEmbd) }),
      t(`${p}.attn_k.weight`, [s.nEmbd, kvWidth], { std: 2 * inv(s.nEmbd) }),
      t(`${p}.attn_v.weight`, [s.nEmbd, kvWidth], { std: inv(s.nEmbd) }),
      t(`${p}.attn_output.weight`, [s.nEmbd, s.nEmbd], { std: 2 * inv(s.nEmbd) }),
      t(`${p}.ffn_norm.weight`, [s.nEmbd], ones, 'f32'),
      t(`${p}.ffn_gate.weight`, [s.nEmbd, s.nFf], { std: inv(s.nEmbd) }),
      t(`${p}.ffn_up.weight`, [s.nEmbd, s.nFf], { std: inv(s.nEmbd) }),
      t(`${p}.ffn_down.weight`, [s.nFf, s.nEmbd], { std: 2 * inv(s.nFf) }),
    );
  }
  out.push(
    t('output_norm.weight', [s.nEmbd], ones, 'f32'),
    // Damp the rows of control and byte tokens so greedy text is made of word pieces and
    // never stops early on </s>.
    t('output.weight', [s.nEmbd, s.nVocab], {
      std: 4 * inv(s.nEmbd),
      rowScale: { rowLength: s.nEmbd, scale: (row) => (row < SPECIAL_AND_BYTE_TOKENS ? 0.1 : 1) },
    }),
  );
  return out;
}

function llmMetadata(s: LlmShape, type: LlmTensorType, seed: number): Map<string, GgufValue> {
  const vocab = buildSpmVocab(s.nVocab);
  return new Map<string, GgufValue>([
    ['general.architecture', gguf.string('llama')],
    ['general.type', gguf.string('model')],
    ['general.name', gguf.string('llava-desk synthetic LLaVA-1.5 LLM')],
    ['general.description', gguf.string(`Random weights, seed ${seed}. For tests only.`)],
    ['general.file_type', gguf.u32(LLAMA_FTYPE[type])],
    ['general.quantization_version', gguf.u32(2)],
    ['llama.vocab_size', gguf.u32(s.nVocab)],
    ['llama.context_length', gguf.u32(s.nCtx)],
    ['llama.embedding_length', gguf.u32(s.nEmbd)],
    ['llama.block_count', gguf.u32(s.nLayer)],
    ['llama.feed_forward_length', gguf.u32(s.nFf)],
    ['llama.rope.dimension_count', gguf.u32(s.nEmbd / s.nHead)],
    ['llama.attention.head_count', gguf.u32(s.nHead)],
    ['llama.attention.head_count_kv', gguf.u32(s.nHeadKv)],
    ['llama.attention.layer_norm_rms_epsilon', gguf.f32(s.rmsEps)],
    ['llama.rope.freq_base', gguf.f32(s.ropeFreqBase)],
    ['tokenizer.ggml.model', gguf.string('llama')],
    ['tokenizer.ggml.pre', gguf.string('default')],
    ['tokenizer.ggml.tokens', gguf.array('string', vocab.tokens)],
    ['tokenizer.ggml.scores', gguf.array('f32', vocab.scores)],
    ['tokenizer.ggml.token_type', gguf.array('i32', vocab.types)],
    ['tokenizer.ggml.bos_token_id', gguf.u32(1)],
    ['tokenizer.ggml.eos_token_id', gguf.u32(2)],
    ['tokenizer.ggml.unknown_token_id', gguf.u32(0)],
    ['tokenizer.ggml.padding_token_id', gguf.u32(0)],
    ['tokenizer.ggml.add_bos_token', gguf.bool(true)],
    ['tokenizer.ggml.add_eos_token', gguf.bool(false)],
    ['tokenizer.chat_template', gguf.string(LLAVA_CHAT_TEMPLATE)],
  ]);
}

function mmprojTensors(
  seed: number,
  v: VisionShape,
  llmEmbd: number,
  type: MmprojTensorType,
): GgufTensorSpec[] {
  const blocks = v.nLayer - 1;
  const positions = (v.imageSize / v.patchSize) ** 2 + 1;
  const inv = (n: number): number => 1 / Math.sqrt(n);
  const w = (std: number): Init => ({ std });
  const ones: Init = { mean: 1, std: 0.05 };
  const bias: Init = { std: 0.02 };
  const t = (name: string, shape: number[], init: Init, ttype: GgmlTensorType = type) =>
    tensor(seed, name, shape, ttype, init);
  const d = v.nEmbd;
  const out: GgufTensorSpec[] = [
    t('mm.0.weight', [d, llmEmbd], w(inv(d))),
    t('mm.0.bias', [llmEmbd], bias, 'f32'),
    t('mm.2.weight', [llmEmbd, llmEmbd], w(2 * inv(llmEmbd))),
    t('mm.2.bias', [llmEmbd], bias, 'f32'),
    t('v.class_embd', [d], w(0.1), 'f32'),
    t('v.patch_embd.weight', [v.patchSize, v.patchSize, 3, d], w(inv(3 * v.patchSize ** 2))),
    ...(v.patchBias ? [t('v.patch_embd.bias', [d], w(0.1), 'f32')] : []),
    t('v.position_embd.weight', [d, positions], w(0.1)),
    t('v.pre_ln.weight', [d], ones, 'f32'),
    t('v.pre_ln.bias', [d], bias, 'f32'),
    // LLaVA-NeXT initialises it as randn / sqrt(hidden size); scaled like an image token here
    ...(v.imageNewline ? [t('v.image_newline', [llmEmbd], w(1), 'f32')] : []),
  ];
  for (let i = 0; i < blocks; i++) {
    const p = `v.blk.${i}`;
    out.push(
      t(`${p}.attn_k.weight`, [d, d], w(2 * inv(d))),
      t(`${p}.attn_k.bias`, [d], bias, 'f32'),
      t(`${p}.attn_q.weight`, [d, d], w(2 * inv(d))),
      t(`${p}.attn_q.bias`, [d], bias, 'f32'),
      t(`${p}.attn_v.weight`, [d, d], w(inv(d))),
      t(`${p}.attn_v.bias`, [d], bias, 'f32'),
      t(`${p}.attn_out.weight`, [d, d], w(inv(d))),
      t(`${p}.attn_out.bias`, [d], bias, 'f32'),
      t(`${p}.ln1.weight`, [d], ones, 'f32'),
      t(`${p}.ln1.bias`, [d], bias, 'f32'),
      t(`${p}.ffn_up.weight`, [d, v.nFf], w(inv(d))),
      t(`${p}.ffn_up.bias`, [v.nFf], bias, 'f32'),
      t(`${p}.ffn_down.weight`, [v.nFf, d], w(inv(v.nFf))),
      t(`${p}.ffn_down.bias`, [d], bias, 'f32'),
      t(`${p}.ln2.weight`, [d], ones, 'f32'),
      t(`${p}.ln2.bias`, [d], bias, 'f32'),
    );
  }
  return out;
}

function mmprojMetadata(
  v: VisionShape,
  type: MmprojTensorType,
  seed: number,
): Map<string, GgufValue> {
  const blocks = v.nLayer - 1;
  return new Map<string, GgufValue>([
    ['general.architecture', gguf.string('clip')],
    ['general.type', gguf.string('mmproj')],
    ['general.name', gguf.string('llava-desk synthetic LLaVA-1.5 mmproj')],
    ['general.description', gguf.string(`Random CLIP ViT + MLP projector, seed ${seed}.`)],
    ['general.file_type', gguf.u32(type === 'f16' ? 1 : 0)],
    ['clip.has_text_encoder', gguf.bool(false)],
    ['clip.has_vision_encoder', gguf.bool(true)],
    ['clip.has_llava_projector', gguf.bool(true)],
    ['clip.projector_type', gguf.string('mlp')],
    ['clip.use_gelu', gguf.bool(v.useGelu)],
    ['clip.vision.image_size', gguf.u32(v.imageSize)],
    ['clip.vision.patch_size', gguf.u32(v.patchSize)],
    ['clip.vision.embedding_length', gguf.u32(v.nEmbd)],
    ['clip.vision.feed_forward_length', gguf.u32(v.nFf)],
    ['clip.vision.projection_dim', gguf.u32(v.projectionDim)],
    ['clip.vision.attention.head_count', gguf.u32(v.nHead)],
    ['clip.vision.attention.layer_norm_epsilon', gguf.f32(v.layerNormEps)],
    ['clip.vision.block_count', gguf.u32(blocks)],
    ...(v.featureLayerKey
      ? ([['clip.vision.feature_layer', gguf.array('i32', [blocks])]] as const)
      : []),
    ...(v.gridPinpoints.length > 0
      ? ([
          ['clip.vision.image_grid_pinpoints', gguf.array('i32', v.gridPinpoints.flat())],
          ['clip.vision.mm_patch_merge_type', gguf.string('spatial_unpad')],
        ] as const)
      : []),
    ['clip.vision.image_mean', gguf.array('f32', [...CLIP_IMAGE_MEAN])],
    ['clip.vision.image_std', gguf.array('f32', [...CLIP_IMAGE_STD])],
  ]);
}

/** Writes the LLM and mmproj GGUF files for `options` into `options.outDir`. */
export async function makeLlavaPair(options: LlavaPairOptions): Promise<LlavaPairResult> {
  const seed = options.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0 || seed > 0xffffffff) {
    throw optionError(`seed must be an integer in [0, 2^32), got ${seed}`);
  }
  const preset = LLAVA_PRESETS[options.preset ?? 'tiny'];
  if (!preset) throw optionError(`unknown preset: ${String(options.preset)}`);
  const llmType = options.llmType ?? preset.llmType;
  const mmprojType = options.mmprojType ?? 'f16';
  if (!(llmType in LLAMA_FTYPE)) throw optionError(`unknown llmType: ${llmType}`);
  if (mmprojType !== 'f16' && mmprojType !== 'f32') {
    throw optionError(`unknown mmprojType: ${String(mmprojType)}`);
  }
  const llm = resolveLlm({ ...preset.llm, ...options.llm }, llmType);
  const vision = resolveVision({ ...preset.vision, ...options.vision });

  await mkdir(options.outDir, { recursive: true });
  const modelPath = join(options.outDir, options.modelFileName ?? `llava-model-${llmType}.gguf`);
  const mmprojPath = join(
    options.outDir,
    options.mmprojFileName ?? `llava-mmproj-${mmprojType}.gguf`,
  );
  const llmMeta = llmMetadata(llm, llmType, seed);
  const mmprojMeta = mmprojMetadata(vision, mmprojType, seed);
  const progress = options.onProgress;

  const model = await writeGgufFile(
    modelPath,
    { metadata: llmMeta, tensors: llmTensors(seed, llm, llmType) },
    { onProgress: progress && ((done, total) => progress('model', done, total)) },
  );
  // Separate seed stream for the vision side so LLM options do not change mmproj weights.
  const mmproj = await writeGgufFile(
    mmprojPath,
    {
      metadata: mmprojMeta,
      tensors: mmprojTensors(hashSeed(seed, 'mmproj'), vision, llm.nEmbd, mmprojType),
    },
    { onProgress: progress && ((done, total) => progress('mmproj', done, total)) },
  );

  return {
    modelPath,
    mmprojPath,
    seed,
    llm: { shape: llm, type: llmType, bytes: model.byteLength, metadata: llmMeta },
    mmproj: {
      shape: vision,
      type: mmprojType,
      bytes: mmproj.byteLength,
      blockCount: vision.nLayer - 1,
      imageTokens: (vision.imageSize / vision.patchSize) ** 2,
      metadata: mmprojMeta,
    },
  };
}
