import { LlavaDeskError } from '../common/errors.js';
import { inspectGguf, type GgufSummary } from './gguf/inspect-gguf.js';

export interface ValidatedPair {
  model: GgufSummary;
  mmproj: GgufSummary;
}

/** Why a projector does not fit an LLM, or undefined when it does. */
export function pairProblem(
  model: GgufSummary,
  mmproj: GgufSummary,
):
  | { code: 'MMPROJ_WIDTH_MISMATCH' | 'MMPROJ_OUTDATED' | 'MMPROJ_MISSING'; message: string }
  | undefined {
  if (mmproj.role !== 'mmproj') {
    return {
      code: 'MMPROJ_MISSING',
      message: `${mmproj.path} is not a vision projector (general.architecture = ${mmproj.architecture})`,
    };
  }
  if (
    model.embeddingLength !== undefined &&
    mmproj.projectionWidth !== undefined &&
    model.embeddingLength !== mmproj.projectionWidth
  ) {
    return {
      code: 'MMPROJ_WIDTH_MISMATCH',
      message:
        `${mmproj.path} projects to width ${mmproj.projectionWidth}, but ${model.path} expects ` +
        `${model.embeddingLength}: they belong to different models`,
    };
  }
  if (mmproj.projectorType === undefined) {
    return {
      code: 'MMPROJ_OUTDATED',
      message:
        `${mmproj.path} is an old (2023) projector without clip.projector_type; current runtimes ` +
        'reject it. Install a repaired copy (the key added, nothing else changed) with ' +
        '`llava-desk models import <model.gguf> --mmproj <this file>`.',
    };
  }
  return undefined;
}

/**
 * Checks an LLM and its projector before anything loads them. Typed errors: those of
 * `inspectGguf`, `MMPROJ_MISSING` (none given, or the "model" is itself a projector),
 * `MMPROJ_WIDTH_MISMATCH`, `MMPROJ_OUTDATED`.
 */
export async function validatePair(
  modelPath: string,
  mmprojPath: string | undefined,
): Promise<ValidatedPair> {
  const model = await inspectGguf(modelPath);
  if (model.role === 'mmproj') {
    throw new LlavaDeskError(
      'MODEL_SOURCE_INVALID',
      `${modelPath} is a vision projector, not a language model`,
    );
  }
  if (mmprojPath === undefined) {
    throw new LlavaDeskError(
      'MMPROJ_MISSING',
      `${modelPath} needs its vision projector (mmproj) to see images; none was given`,
    );
  }
  const mmproj = await inspectGguf(mmprojPath);
  const problem = pairProblem(model, mmproj);
  if (problem) throw new LlavaDeskError(problem.code, problem.message);
  return { model, mmproj };
}
