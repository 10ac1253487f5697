import { createHash } from 'node:crypto';
import { access, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { writeFileAtomic } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import { toStorageError } from '../common/storage-errors.js';
import { nodeStoreFs, type StoreFs } from '../common/store-fs.js';
import { z } from 'zod';
import type { ImageRef } from './schema.js';

const ID_PATTERN = /^[0-9a-f]{64}$/;

export interface StoredImageInput {
  bytes: Uint8Array;
  mime: string;
  width: number;
  height: number;
  thumbnail: Uint8Array;
  name?: string;
}

/** What an image is, known when it was added: kept next to it so nothing decodes it again. */
export interface StoredImageMeta {
  width: number;
  height: number;
  mime: string;
}

const metaSchema = z.object({
  width: z.number().int().positive(),
  height: z.number().int().positive(),
  mime: z.string().regex(/^image\/[a-z0-9.+-]+$/),
});

/**
 * Images kept by content (sha256 of the original bytes), so a chat keeps working after the user
 * moves or deletes the original, and the same picture is stored once. Layout:
 * `images/<first two hex>/<sha256>` (original), `<sha256>.thumb` (small WebP/JPEG) and
 * `<sha256>.json` (width, height and type). Images stored before the `.json` files existed have
 * none: `readMeta` answers undefined and the caller decodes once and `putMeta`s the answer.
 */
export class ImageStore {
  readonly dir: string;
  readonly #fs: StoreFs;

  /** `fs`: the calls writes go through (tests inject disk faults there). */
  constructor(dir: string, fs: StoreFs = nodeStoreFs) {
    this.dir = dir;
    this.#fs = fs;
  }

  static idOf(bytes: Uint8Array): string {
    return createHash('sha256').update(bytes).digest('hex');
  }

  async put(input: StoredImageInput): Promise<ImageRef> {
    const id = ImageStore.idOf(input.bytes);
    const original = this.originalPath(id);
    try {
      await this.#fs.mkdir(join(this.dir, id.slice(0, 2)), { recursive: true });
      if (!(await exists(original))) await writeFileAtomic(original, input.bytes, this.#fs);
      if (!(await exists(this.thumbnailPath(id)))) {
        await writeFileAtomic(this.thumbnailPath(id), input.thumbnail, this.#fs);
      }
      if (!(await exists(this.metaPath(id)))) {
        await this.#writeMeta(id, { width: input.width, height: input.height, mime: input.mime });
      }
    } catch (error) {
      throw toStorageError(error, 'save the image');
    }
    return {
      id,
      width: input.width,
      height: input.height,
      mime: input.mime,
      ...(input.name !== undefined ? { name: input.name } : {}),
    };
  }

  async has(id: string): Promise<boolean> {
    return ID_PATTERN.test(id) && (await exists(this.originalPath(id)));
  }

  async read(id: string): Promise<Uint8Array> {
    return this.#readChecked(id, this.originalPath(id));
  }

  async readThumbnail(id: string): Promise<Uint8Array> {
    return this.#readChecked(id, this.thumbnailPath(id));
  }

  /** Width, height and type as stored with the image; undefined for an image stored without. */
  async readMeta(id: string): Promise<StoredImageMeta | undefined> {
    let text: string;
    try {
      text = await readFile(this.metaPath(id), 'utf8');
    } catch {
      return undefined;
    }
    try {
      const parsed = metaSchema.safeParse(JSON.parse(text));
      return parsed.success ? parsed.data : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records what a decode found for an image stored without it (best effort: a read-only
   * store still answers, it decodes again next time). */
  async putMeta(id: string, meta: StoredImageMeta): Promise<void> {
    try {
      await this.#writeMeta(id, meta);
    } catch {
      // Only a cache of what the image itself says.
    }
  }

  /** The file behind an id. Ids are validated, so no path outside the store can be produced. */
  originalPath(id: string): string {
    return join(this.dir, checkedId(id).slice(0, 2), id);
  }

  thumbnailPath(id: string): string {
    return `${this.originalPath(id)}.thumb`;
  }

  metaPath(id: string): string {
    return `${this.originalPath(id)}.json`;
  }

  async #writeMeta(id: string, meta: StoredImageMeta): Promise<void> {
    const text = JSON.stringify({ width: meta.width, height: meta.height, mime: meta.mime });
    await writeFileAtomic(this.metaPath(id), new TextEncoder().encode(text), this.#fs);
  }

  async #readChecked(id: string, path: string): Promise<Uint8Array> {
    try {
      return await readFile(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw new LlavaDeskError('IMAGE_NOT_FOUND', `image ${id} is not in the image store`);
      }
      throw error;
    }
  }
}

function checkedId(id: string): string {
  if (!ID_PATTERN.test(id)) {
    throw new LlavaDeskError('IMAGE_NOT_FOUND', `"${id}" is not an image id (sha256 hex)`);
  }
  return id;
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
