import type { ApiClient, ConnectionState } from '../api/client';
import { BatchStore } from './batch.svelte';
import { ChatState } from './chat.svelte';
import { ComposerState } from './composer.svelte';
import { ConversationList } from './conversations.svelte';
import { ModelsStore } from './models.svelte';
import { SettingsStore } from './settings.svelte';
import { Thumbnails } from './thumbnails.svelte';
import { Toasts } from './toasts.svelte';

export type Panel = 'none' | 'models' | 'settings' | 'batch';

/** The window's state: one store per concern, all over the same API client. */
export class AppState {
  readonly client: ApiClient;
  readonly toasts = new Toasts();
  readonly conversations: ConversationList;
  readonly chat: ChatState;
  readonly composer: ComposerState;
  readonly models: ModelsStore;
  readonly settings: SettingsStore;
  readonly thumbnails: Thumbnails;
  readonly batch: BatchStore;
  connection = $state<ConnectionState>('connecting');
  panel = $state<Panel>('none');
  ready = $state(false);

  constructor(client: ApiClient) {
    this.client = client;
    this.conversations = new ConversationList(client, this.toasts);
    this.chat = new ChatState(client, this.toasts);
    this.composer = new ComposerState(client, this.toasts);
    this.models = new ModelsStore(client, this.toasts);
    this.settings = new SettingsStore(client, this.toasts);
    this.thumbnails = new Thumbnails(client);
    this.batch = new BatchStore(client, this.toasts);
    client.on('chats.changed', () => void this.conversations.refresh());
    let wasOpen = false;
    client.onConnection((state) => {
      this.connection = state;
      if (state === 'open' && wasOpen) void this.#reloadAll();
      if (state === 'open') wasOpen = true;
    });
  }

  async start(): Promise<void> {
    await Promise.all([
      this.conversations.refresh(),
      this.models.refresh(),
      this.settings.refresh(),
    ]);
    const first = this.conversations.items[0];
    if (first) await this.openChat(first.id);
    this.ready = true;
  }

  async openChat(id: string | null): Promise<void> {
    this.conversations.select(id);
    await this.chat.open(id);
  }

  async newChat(): Promise<void> {
    this.panel = 'none';
    const id = await this.conversations.create();
    if (id !== undefined) await this.chat.open(id);
  }

  /** Sends the composer's question, creating a conversation when none is open. */
  async send(): Promise<void> {
    const composer = this.composer;
    if (!composer.canSend || this.chat.streaming) return;
    let id = this.chat.id;
    if (id === null) {
      id = (await this.conversations.create()) ?? null;
      if (id === null) return;
      await this.chat.open(id);
    }
    const question = {
      text: composer.text,
      images: composer.imageIds,
      short: composer.short,
      detail: composer.detail,
    };
    const pending = composer.pending;
    composer.clear();
    const sent = await this.chat.send(id, question);
    if (!sent) {
      composer.text = question.text;
      composer.pending = pending;
    }
  }

  async #reloadAll(): Promise<void> {
    await Promise.all([this.conversations.refresh(), this.models.refresh(), this.chat.reload()]);
  }
}
