import type { GgufFileInfo } from 'node-llama-cpp';

export interface MmprojMemory {
  weightsBytes: number;
  /** Estimated activation memory to encode one image (compute buffer). */
  computeBytes: number;
  /** Tokens one image becomes (before any AnyRes tiling). */
  imageTokens: number;
}

function num(info: GgufFileInfo, key: string): number | undefined {
  let node: unknown = info.metadata;
  for (const part of key.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    node = (node as Record<string, unknown>)[part];
  }
  return typeof node === 'number' ? node : typeof node === 'bigint' ? Number(node) : undefined;
}

/**
 * The projector's memory: its weights (the file size is a close upper bound) and a compute buffer
 * estimated from the ViT's shape: per-token activations (q, k, v, out, FFN) plus the attention
 * scores and their softmax (heads × tokens² floats each), with 50% headroom for the allocator.
 */
export function estimateMmprojMemory(info: GgufFileInfo, fileSizeBytes: number): MmprojMemory {
  const imageSize = num(info, 'clip.vision.image_size') ?? 336;
  const patchSize = num(info, 'clip.vision.patch_size') ?? 14;
  const width = num(info, 'clip.vision.embedding_length') ?? 1024;
  const ffn = num(info, 'clip.vision.feed_forward_length') ?? 4 * width;
  const heads = num(info, 'clip.vision.attention.head_count') ?? 16;
  const patches = Math.floor(imageSize / patchSize) ** 2;
  const tokens = patches + 1;
  const activations = tokens * (4 * width + ffn) * 4;
  const attention = heads * tokens * tokens * 4 * 2;
  return {
    weightsBytes: fileSizeBytes,
    computeBytes: Math.ceil((activations + attention) * 1.5),
    imageTokens: patches,
  };
}
