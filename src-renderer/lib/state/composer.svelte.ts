import type { AddedImage, Detail } from '../../../src-main/api/contract';
import type { ApiClient } from '../api/client';
import { messageOf, type Toasts } from './toasts.svelte';

export interface PendingImage {
  key: number;
  name: string;
  status: 'reading' | 'ready';
  added?: AddedImage;
}

/** At most this many images in one message (the contract's limit). */
export const MAX_IMAGES = 16;
/**
 * The largest image file the core reads (src-main/imaging's 256 MiB). Checked here too: in web
 * mode a larger upload would exceed the WebSocket's message limit, which closes the connection.
 */
export const MAX_IMAGE_FILE_BYTES = 256 * 1024 * 1024;

/**
 * What the user is writing: text, images waiting to be sent (read, checked and stored by the core
 * as soon as they are added, so a broken file is reported at once), and the answer options.
 */
export class ComposerState {
  text = $state('');
  pending = $state<PendingImage[]>([]);
  short = $state(false);
  detail = $state<Detail>('standard');
  readonly #client: ApiClient;
  readonly #toasts: Toasts;
  #nextKey = 1;

  constructor(client: ApiClient, toasts: Toasts) {
    this.#client = client;
    this.#toasts = toasts;
  }

  get reading(): boolean {
    return this.pending.some((p) => p.status === 'reading');
  }

  get canSend(): boolean {
    return !this.reading && (this.text.trim().length > 0 || this.pending.length > 0);
  }

  /** Image tokens of the pending images at the chosen detail. */
  get imageTokens(): number {
    return this.pending.reduce((sum, p) => sum + (p.added?.tokens[this.detail] ?? 0), 0);
  }

  get imageIds(): string[] {
    return this.pending.flatMap((p) => (p.added ? [p.added.ref.id] : []));
  }

  /** Adds image files (drop, paste, picker); files that are not images are refused by the core. */
  async addFiles(files: Iterable<File>): Promise<void> {
    const jobs: Promise<void>[] = [];
    for (const file of files) {
      if (this.pending.length >= MAX_IMAGES) {
        this.#toasts.error(`At most ${MAX_IMAGES} images fit in one message.`);
        break;
      }
      if (file.size > MAX_IMAGE_FILE_BYTES) {
        this.#toasts.error(`${file.name}: images over 256 MiB are not read.`);
        continue;
      }
      jobs.push(this.#add(file));
    }
    await Promise.all(jobs);
  }

  remove(key: number): void {
    this.pending = this.pending.filter((p) => p.key !== key);
  }

  clear(): void {
    this.text = '';
    this.pending = [];
  }

  async #add(file: File): Promise<void> {
    const key = this.#nextKey++;
    const name = file.name === '' ? 'pasted image' : file.name;
    this.pending = [...this.pending, { key, name, status: 'reading' }];
    try {
      const data = new Uint8Array(await file.arrayBuffer());
      const added = await this.#client.call('images.add', { name, data });
      const item = this.pending.find((p) => p.key === key);
      if (!item) return;
      if (this.pending.some((p) => p.key !== key && p.added?.ref.id === added.ref.id)) {
        this.remove(key);
        return;
      }
      item.added = added;
      item.status = 'ready';
    } catch (error) {
      this.remove(key);
      const text = messageOf(error);
      this.#toasts.error(text.startsWith(name) ? text : `${name}: ${text}`);
    }
  }
}
