import { basename } from 'node:path';
import type { PreparedImage } from '../api/engine.js';
import { serializeError } from '../common/errors.js';
import {
  prepareForEncoder,
  readImageFile,
  sourceSha256,
  type Detail,
  type EncoderSpec,
  type Thumbnail,
} from '../imaging/index.js';
import type { JobStore } from './job-store.js';
import { foreignSidecars, type OutputSettings } from './outputs.js';
import type { ScannedImage } from './scan.js';
import type { SidecarPaths } from './sidecars.js';
import type { DoneRecord, ExistingPolicy } from './types.js';

/** An image ready for the engine. */
export interface ReadyItem {
  image: ScannedImage;
  sha256: string;
  width: number;
  height: number;
  bitmaps: PreparedImage[];
  thumbnail?: Thumbnail;
}

export type PrepareOutcome =
  | { kind: 'ready'; item: ReadyItem }
  | { kind: 'unchanged'; image: ScannedImage; sha256: string; record: DoneRecord }
  | { kind: 'exists'; image: ScannedImage; sha256: string }
  | { kind: 'failed'; image: ScannedImage; sha256?: string; code: string; message: string };

export interface PrepareContext {
  store: JobStore;
  sidecars: ReadonlyMap<string, SidecarPaths>;
  settings: OutputSettings;
  existing: ExistingPolicy;
  prompt: string;
  model: string;
  run: string;
  encoder: EncoderSpec;
  detail: Detail;
  thumbnails: boolean;
}

/**
 * Reads an image and decides what it needs: nothing (described before, unchanged, same prompt
 * and model), nothing because a sidecar of someone else's is in the way, or a description (then
 * it is decoded and prepared for the encoder here, ahead of the engine).
 */
export async function prepareItem(
  image: ScannedImage,
  ctx: PrepareContext,
): Promise<PrepareOutcome> {
  let sha256: string | undefined;
  try {
    const input = await readImageFile(image.absolute);
    input.name = image.path;
    sha256 = sourceSha256(input.bytes);
    const previous = ctx.store.done(image.path);
    if (
      previous &&
      previous.sha256 === sha256 &&
      previous.prompt === ctx.prompt &&
      previous.model === ctx.model &&
      (ctx.existing !== 'overwrite' || previous.run === ctx.run)
    ) {
      return { kind: 'unchanged', image, sha256, record: previous };
    }
    if (ctx.existing !== 'overwrite') {
      const paths = ctx.sidecars.get(image.path);
      const foreign = paths ? await foreignSidecars(paths, previous, ctx.settings) : [];
      if (foreign.length > 0 && ctx.existing === 'skip') return { kind: 'exists', image, sha256 };
      if (foreign.length > 0) {
        const names = foreign.map((f) => basename(f)).join(', ');
        return {
          kind: 'failed',
          image,
          sha256,
          code: 'OUTPUT_EXISTS',
          message:
            `${names} already exists and was not written by this job: --skip-existing keeps ` +
            'it, --overwrite replaces it.',
        };
      }
    }
    const prepared = await prepareForEncoder(input, {
      encoder: ctx.encoder,
      detail: ctx.detail,
      thumbnail: ctx.thumbnails,
    });
    return {
      kind: 'ready',
      item: {
        image,
        sha256,
        width: prepared.width,
        height: prepared.height,
        bitmaps: prepared.bitmaps.map((b) => ({
          id: b.pixelHash,
          width: b.width,
          height: b.height,
          rgb: b.data,
        })),
        ...(prepared.thumbnail ? { thumbnail: prepared.thumbnail } : {}),
      },
    };
  } catch (error) {
    const { code, message } = serializeError(error);
    return { kind: 'failed', image, ...(sha256 ? { sha256 } : {}), code, message };
  }
}
