import { LlavaDeskError } from '../../common/errors.js';
import { inspectGguf, type GgufSummary } from './inspect-gguf.js';
import { rewriteGgufHeader } from './rewrite-header.js';

/**
 * Writes a copy of an old LLaVA projector (no `clip.projector_type`) with the key added as
 * `mlp`, which current runtimes require. Only for LLaVA's MLP projector (`mm.0` + `mm.2`); the
 * tensor data is copied unchanged. Returns the summary of the repaired file.
 */
export async function repairOutdatedMmproj(src: string, dest: string): Promise<GgufSummary> {
  const before = await inspectGguf(src);
  if (before.role !== 'mmproj') {
    throw new LlavaDeskError('MODEL_SOURCE_INVALID', `${src} is not a vision projector`);
  }
  if (before.projectorType !== undefined) return before;
  if (!before.hasMlpProjector) {
    throw new LlavaDeskError(
      'MMPROJ_OUTDATED',
      `${src} has no clip.projector_type and is not a LLaVA MLP projector; it cannot be repaired`,
    );
  }
  await rewriteGgufHeader(src, dest, {
    add: { 'clip.projector_type': { type: 'string', value: 'mlp' } },
  });
  return inspectGguf(dest);
}
