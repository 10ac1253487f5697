import type { AddedImage, ApiImageRef, Detail } from '../api/contract.js';
import type { PreparedImage as EngineImage } from '../api/engine.js';
import { ImageStore } from '../chats/image-store.js';
import { LlavaDeskError } from '../common/errors.js';
import type { StoreFs } from '../common/store-fs.js';
import {
  estimateTokenCounter,
  LLAVA_15_ENCODER,
  planImage,
  planForEncoder,
  planTokens,
  prepareForEncoder,
  readEncoderSpec,
  type EncoderSpec,
  type ImageFormat,
} from '../imaging/index.js';

const MIME: Record<ImageFormat, string> = {
  jpeg: 'image/jpeg',
  png: 'image/png',
  webp: 'image/webp',
  gif: 'image/gif',
  avif: 'image/avif',
  heic: 'image/heic',
  tiff: 'image/tiff',
  bmp: 'image/bmp',
  svg: 'image/svg+xml',
};

/** Prepared bitmaps kept in memory: a follow-up re-sends its images without decoding again. */
const CACHE_LIMIT = 24;

/**
 * Images as chats use them: checked and stored when added (content-addressed, with a thumbnail),
 * prepared for the active model's encoder when a question is answered. The encoder's own
 * embedding cache (keyed by pixel hash) then skips images it has already seen.
 */
export class ImageService {
  readonly store: ImageStore;
  readonly #encoderOf: () => Promise<string | undefined>;
  #specs = new Map<string, Promise<EncoderSpec>>();
  #prepared = new Map<string, Promise<EngineImage[]>>();
  #refs = new Map<string, ApiImageRef>();

  /** `mmprojOf` gives the active model's projector file, if a model is installed. */
  constructor(dir: string, mmprojOf: () => Promise<string | undefined>, fs?: StoreFs) {
    this.store = new ImageStore(dir, fs);
    this.#encoderOf = mmprojOf;
  }

  async add(name: string, bytes: Uint8Array): Promise<AddedImage> {
    const spec = await this.#spec();
    const input = { bytes, name: name.trim() === '' ? 'image' : name };
    const prepared = await prepareForEncoder(input, { encoder: spec, detail: 'standard' });
    const high = await planTokens(
      planImage({ width: prepared.width, height: prepared.height }, spec, 'high'),
      estimateTokenCounter(spec),
    );
    const ref = await this.store.put({
      bytes,
      mime: MIME[prepared.format],
      width: prepared.width,
      height: prepared.height,
      thumbnail: prepared.thumbnail?.data ?? new Uint8Array(),
      ...(name !== '' ? { name } : {}),
    });
    this.#refs.set(ref.id, ref);
    this.#remember(
      this.#key(ref.id, 'standard', spec),
      Promise.resolve(prepared.bitmaps.map(toEngineImage)),
    );
    return {
      ref,
      tokens: { standard: prepared.tokens, high },
      tokensExact: prepared.tokensExact,
    };
  }

  /**
   * The reference of a stored image: added in this session, or read back from the width, height
   * and type the store kept when it was added. Only an image stored before those were kept is
   * decoded, once; what the decode finds is then stored with it.
   */
  async refOf(id: string): Promise<ApiImageRef> {
    const known = this.#refs.get(id);
    if (known) return known;
    const stored = await this.store.readMeta(id);
    let ref: ApiImageRef;
    if (stored) {
      if (!(await this.store.has(id))) {
        throw new LlavaDeskError('IMAGE_NOT_FOUND', `image ${id} is not in the image store`);
      }
      ref = { id, ...stored };
    } else {
      const bytes = await this.store.read(id);
      const report = await planForEncoder({ bytes, name: id.slice(0, 12) });
      ref = { id, width: report.width, height: report.height, mime: MIME[report.format] };
      await this.store.putMeta(id, ref);
    }
    this.#refs.set(id, ref);
    return ref;
  }

  async thumbnail(id: string): Promise<{ mime: string; data: Uint8Array }> {
    return { mime: 'image/webp', data: await this.store.readThumbnail(id) };
  }

  /** The encoder-ready bitmaps of a message's images, in order. */
  async prepare(refs: readonly ApiImageRef[], detail: Detail): Promise<EngineImage[]> {
    const spec = await this.#spec();
    const all: EngineImage[] = [];
    for (const ref of refs) {
      const key = this.#key(ref.id, detail, spec);
      let bitmaps = this.#prepared.get(key);
      if (!bitmaps) {
        bitmaps = (async () => {
          const bytes = await this.store.read(ref.id);
          const prepared = await prepareForEncoder(
            { bytes, name: ref.name ?? ref.id.slice(0, 12) },
            { encoder: spec, detail, thumbnail: false },
          );
          return prepared.bitmaps.map(toEngineImage);
        })();
        this.#remember(key, bitmaps);
      }
      all.push(...(await bitmaps));
    }
    return all;
  }

  /** The active model's projector may have changed (install, delete, select). */
  forgetEncoder(): void {
    this.#specs.clear();
  }

  async #spec(): Promise<EncoderSpec> {
    const mmproj = await this.#encoderOf();
    if (mmproj === undefined) return LLAVA_15_ENCODER;
    let spec = this.#specs.get(mmproj);
    if (!spec) {
      spec = readEncoderSpec(mmproj).catch(() => LLAVA_15_ENCODER);
      this.#specs.set(mmproj, spec);
    }
    return spec;
  }

  #key(id: string, detail: Detail, spec: EncoderSpec): string {
    return `${id}:${detail}:${JSON.stringify(spec)}`;
  }

  #remember(key: string, bitmaps: Promise<EngineImage[]>): void {
    this.#prepared.delete(key);
    this.#prepared.set(key, bitmaps);
    bitmaps.catch(() => this.#prepared.delete(key));
    while (this.#prepared.size > CACHE_LIMIT) {
      const oldest = this.#prepared.keys().next().value;
      if (oldest === undefined) break;
      this.#prepared.delete(oldest);
    }
  }
}

function toEngineImage(bitmap: {
  pixelHash: string;
  width: number;
  height: number;
  data: Uint8Array;
}): EngineImage {
  return { id: bitmap.pixelHash, width: bitmap.width, height: bitmap.height, rgb: bitmap.data };
}
