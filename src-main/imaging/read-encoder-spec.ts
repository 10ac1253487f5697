import { access } from 'node:fs/promises';
import { LlavaDeskError } from '../common/errors.js';
import { readGgufTensorNames, readGgufValues } from '../models/gguf/read-values.js';
import type { EncoderSpec } from './encoder-spec.js';
import type { Resolution } from './size.js';

/** The metadata keys an encoder spec is read from. */
const ENCODER_KEYS: ReadonlySet<string> = new Set([
  'general.architecture',
  'clip.vision.image_size',
  'clip.vision.patch_size',
  'clip.vision.projector_type',
  'clip.projector_type',
  'clip.vision.image_grid_pinpoints',
  'clip.vision.image_mean',
]);

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
 * The encoder facts of an mmproj's metadata (keys as in the file, e.g. `clip.vision.image_size`).
 * Old LLaVA-1.5 conversions carry no `clip.projector_type`; they are MLP projectors.
 */
export function encoderSpecFromMetadata(
  metadata: ReadonlyMap<string, unknown>,
  file: string,
): EncoderSpec {
  const at = (key: string): unknown => metadata.get(key);
  const architecture = at('general.architecture');
  const imageSize = positiveInteger(at('clip.vision.image_size'));
  const patchSize = positiveInteger(at('clip.vision.patch_size'));
  if (architecture !== 'clip' || imageSize === undefined || patchSize === undefined) {
    throw new LlavaDeskError(
      'MMPROJ_NOT_VISION',
      `${file}: not a vision projector (needs general.architecture = clip with ` +
        'clip.vision.image_size and clip.vision.patch_size)',
    );
  }
  const projector = at('clip.vision.projector_type') ?? at('clip.projector_type') ?? 'mlp';
  const mean = numbers(at('clip.vision.image_mean'));
  const spec: EncoderSpec = {
    imageSize,
    patchSize,
    projectorType: typeof projector === 'string' ? projector : 'mlp',
    gridPinpoints: pinpoints(at('clip.vision.image_grid_pinpoints')),
  };
  if (mean && mean.length >= 3) {
    spec.imageMean = [mean[0] ?? 0, mean[1] ?? 0, mean[2] ?? 0];
  }
  return spec;
}

/** The tensor LLaVA-1.6 appends after each row of the tile map (clip.cpp's TN_IMAGE_NEWLINE). */
const IMAGE_NEWLINE_TENSOR = 'v.image_newline';

/**
 * Reads image_size, patch_size, projector_type, image_grid_pinpoints and image_mean, and for a
 * file with pinpoints whether it carries `v.image_newline`.
 */
export async function readEncoderSpec(mmprojPath: string): Promise<EncoderSpec> {
  try {
    await access(mmprojPath);
  } catch (error) {
    throw new LlavaDeskError('MODEL_FILE_MISSING', `${mmprojPath}: no such file`, {
      cause: error,
    });
  }
  let metadata: Map<string, unknown>;
  let tensorNames: ReadonlySet<string> | undefined;
  try {
    metadata = await readGgufValues(mmprojPath, ENCODER_KEYS);
    if (metadata.has('clip.vision.image_grid_pinpoints')) {
      tensorNames = await readGgufTensorNames(mmprojPath);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    throw new LlavaDeskError('NOT_GGUF', `${mmprojPath}: not a readable GGUF file (${message})`, {
      cause: error,
    });
  }
  const spec = encoderSpecFromMetadata(metadata, mmprojPath);
  if (tensorNames && spec.gridPinpoints.length > 0) {
    spec.imageNewline = tensorNames.has(IMAGE_NEWLINE_TENSOR);
  }
  return spec;
}
