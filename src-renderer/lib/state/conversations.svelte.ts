import type { ApiConversationSummary } from '../../../src-main/api/contract';
import type { ApiClient } from '../api/client';
import { messageOf, type Toasts } from './toasts.svelte';

/** The sidebar: the conversations (searched in the core, text included), and the selection. */
export class ConversationList {
  items = $state<ApiConversationSummary[]>([]);
  selectedId = $state<string | null>(null);
  query = $state('');
  loaded = $state(false);
  readonly #client: ApiClient;
  readonly #toasts: Toasts;
  #seq = 0;

  constructor(client: ApiClient, toasts: Toasts) {
    this.#client = client;
    this.#toasts = toasts;
  }

  async refresh(): Promise<void> {
    const seq = ++this.#seq;
    try {
      const query = this.query.trim();
      const items = await this.#client.call('chats.list', query === '' ? {} : { query });
      if (seq === this.#seq) {
        this.items = items;
        this.loaded = true;
      }
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async setQuery(query: string): Promise<void> {
    this.query = query;
    await this.refresh();
  }

  async create(): Promise<string | undefined> {
    try {
      const created = await this.#client.call('chats.create', {});
      this.selectedId = created.id;
      await this.refresh();
      return created.id;
    } catch (error) {
      this.#toasts.error(messageOf(error));
      return undefined;
    }
  }

  async rename(id: string, title: string): Promise<void> {
    try {
      await this.#client.call('chats.rename', { id, title });
      await this.refresh();
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async remove(id: string): Promise<void> {
    try {
      await this.#client.call('chats.delete', { id });
      if (this.selectedId === id) this.selectedId = null;
      await this.refresh();
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  select(id: string | null): void {
    this.selectedId = id;
  }
}
