import { SvelteMap } from 'svelte/reactivity';
import type { ApiClient } from '../api/client';

/** Object URLs of image thumbnails by image id, fetched once from the core. */
export class Thumbnails {
  readonly #client: ApiClient;
  #urls = new SvelteMap<string, string>();
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, deliberately not reactive
  #loading = new Set<string>();

  constructor(client: ApiClient) {
    this.#client = client;
  }

  /** The URL when loaded (starts loading otherwise). */
  url(id: string): string | undefined {
    const url = this.#urls.get(id);
    if (url === undefined && !this.#loading.has(id)) void this.#load(id);
    return url;
  }

  async #load(id: string): Promise<void> {
    this.#loading.add(id);
    try {
      const { mime, data } = await this.#client.call('images.thumbnail', { id });
      const blob = new Blob([data.slice().buffer as ArrayBuffer], { type: mime });
      this.#urls.set(id, URL.createObjectURL(blob));
    } catch {
      // A missing thumbnail shows the placeholder; the message still works.
    } finally {
      this.#loading.delete(id);
    }
  }
}
