import { access } from 'node:fs/promises';
import { LlavaDeskError } from '../common/errors.js';
import type { EncoderSpec } from './encoder-spec.js';
import type { Resolution } from './size.js';

type Tree = Record<string, unknown>;

function isTree(value: unknown): value is Tree {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function at(tree: unknown, path: string): unknown {
  let node: unknown = tree;
  for (const key of path.split('.')) {
    if (!isTree(node)) return undefined;
    node = node[key];
  }
  return node;
}

function positiveInteger(value: unknown): number | undefined {
  const n = typeof value === 'bigint' ? Number(value) : value;
  return typeof n === 'number' && Number.isInteger(n) && n > 0 ? n : undefined;
}

function numbers(value: unknown): number[] | undefined {
  if (!Array.isArray(value)) return undefined;
  const list = value.map((v) => (typeof v === 'bigint' ? Number(v) : v));
  return list.every((v): v is number => typeof v === 'number') ? list : undefined;
}

function pinpoints(value: unknown): Resolution[] {
  const list = numbers(value);
  if (!list || list.length % 2 !== 0) return [];
  const pairs: Resolution[] = [];
  for (let i = 0; i + 1 < list.length; i += 2) {
    const width = list[i] ?? 0;
    const height = list[i + 1] ?? 0;
    if (width > 0 && height > 0) pairs.push([width, height]);
  }
  return pairs;
}

/**
 * The encoder facts of a parsed mmproj's metadata (as node-llama-cpp nests it by dots).
 * Old LLaVA-1.5 conversions carry no `clip.projector_type`; they are MLP projectors.
 */
export function encoderSpecFromMetadata(metadata: unknown, file: string): EncoderSpec {
  const architecture = at(metadata, 'general.architecture');
  const imageSize = positiveInteger(at(metadata, 'clip.vision.image_size'));
  const patchSize = positiveInteger(at(metadata, 'clip.vision.patch_size'));
  if (architecture !== 'clip' || imageSize === undefined || patchSize === undefined) {
    throw new LlavaDeskError(
      'MMPROJ_NOT_VISION',
      `${file}: not a vision projector (needs general.architecture = clip with ` +
        'clip.vision.image_size and clip.vision.patch_size)',
    );
  }
  const projector =
    at(metadata, 'clip.vision.projector_type') ?? at(metadata, 'clip.projector_type') ?? 'mlp';
  const mean = numbers(at(metadata, 'clip.vision.image_mean'));
  const spec: EncoderSpec = {
    imageSize,
    patchSize,
    projectorType: typeof projector === 'string' ? projector : 'mlp',
    gridPinpoints: pinpoints(at(metadata, 'clip.vision.image_grid_pinpoints')),
  };
  if (mean && mean.length >= 3) {
    spec.imageMean = [mean[0] ?? 0, mean[1] ?? 0, mean[2] ?? 0];
  }
  return spec;
}

/** Reads image_size, patch_size, projector_type, image_grid_pinpoints and image_mean. */
export async function readEncoderSpec(mmprojPath: string): Promise<EncoderSpec> {
  try {
    await access(mmprojPath);
  } catch (error) {
    throw new LlavaDeskError('MODEL_FILE_MISSING', `${mmprojPath}: no such file`, {
      cause: error,
    });
  }
  // Loaded on demand: node-llama-cpp is large and only this call needs it here.
  const { readGgufFileInfo } = await import('node-llama-cpp');
  let metadata: unknown;
  try {
    const info = await readGgufFileInfo(mmprojPath, {
      readTensorInfo: false,
      logWarnings: false,
      sourceType: 'filesystem',
      spliceSplitFiles: false,
    });
    metadata = info.metadata;
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LlavaDeskError('NOT_GGUF', `${mmprojPath}: not a readable GGUF file (${message})`, {
      cause: error,
    });
  }
  return encoderSpecFromMetadata(metadata, mmprojPath);
}
