import type { ApiConversation, ApiMessage, Detail } from '../../../src-main/api/contract';
import type { ApiClient } from '../api/client';
import { messageOf, type Toasts } from './toasts.svelte';

export interface Question {
  text: string;
  images: string[];
  short: boolean;
  detail: Detail;
}

/**
 * The open conversation: its messages, the answer being written (tokens appended as they arrive)
 * and the actions on it. The core keeps the truth; this mirrors it and follows its events.
 */
export class ChatState {
  conversation = $state<ApiConversation | null>(null);
  messages = $state<ApiMessage[]>([]);
  loading = $state(false);
  readonly #client: ApiClient;
  readonly #toasts: Toasts;
  #loadSeq = 0;
  /** Tokens not yet shown, by message: applied at most once per frame (fast models send 1000s/s). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- a buffer, deliberately not reactive
  #buffered = new Map<string, string>();
  #frame: number | undefined;
  /** Answers that ended before the call that started them returned (very short answers). */
  // eslint-disable-next-line svelte/prefer-svelte-reactivity -- bookkeeping, deliberately not reactive
  #ended = new Map<string, ApiMessage>();

  constructor(client: ApiClient, toasts: Toasts) {
    this.#client = client;
    this.#toasts = toasts;
    client.on('chats.token', ({ conversationId, messageId, text }) => {
      if (conversationId !== this.conversation?.id) return;
      this.#buffered.set(messageId, (this.#buffered.get(messageId) ?? '') + text);
      this.#scheduleFlush();
    });
    client.on('chats.message', ({ conversationId, message }) => {
      if (conversationId !== this.conversation?.id) return;
      this.#buffered.delete(message.id);
      const index = this.messages.findIndex((m) => m.id === message.id);
      if (index >= 0) this.messages[index] = message;
      else this.#ended.set(message.id, message);
    });
  }

  get id(): string | null {
    return this.conversation?.id ?? null;
  }

  /** The answer being written, if any. */
  get streaming(): ApiMessage | undefined {
    return this.messages.find((m) => m.status === 'streaming');
  }

  get lastAnswer(): ApiMessage | undefined {
    const last = this.messages.at(-1);
    return last?.role === 'assistant' ? last : undefined;
  }

  async open(id: string | null): Promise<void> {
    const seq = ++this.#loadSeq;
    this.#buffered.clear();
    this.#ended.clear();
    if (id === null) {
      this.conversation = null;
      this.messages = [];
      return;
    }
    this.loading = true;
    try {
      const conversation = await this.#client.call('chats.get', { id });
      if (seq !== this.#loadSeq) return;
      this.conversation = conversation;
      this.messages = conversation.messages;
    } catch (error) {
      if (seq === this.#loadSeq) this.#toasts.error(messageOf(error));
    } finally {
      if (seq === this.#loadSeq) this.loading = false;
    }
  }

  /** Reloads the open conversation (after another window or a reconnect changed it). */
  async reload(): Promise<void> {
    if (this.conversation) await this.open(this.conversation.id);
  }

  async send(conversationId: string, question: Question): Promise<boolean> {
    try {
      const { user, answer } = await this.#client.call('chats.send', {
        conversationId,
        ...question,
      });
      if (this.conversation?.id !== conversationId) await this.open(conversationId);
      else this.#appendOnce(user, answer);
      return true;
    } catch (error) {
      this.#toasts.error(messageOf(error));
      return false;
    }
  }

  async stop(): Promise<void> {
    if (!this.conversation || !this.streaming) return;
    try {
      await this.#client.call('chats.stop', { conversationId: this.conversation.id });
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async regenerate(): Promise<void> {
    const id = this.conversation?.id;
    if (!id || this.streaming) return;
    try {
      const { answer } = await this.#client.call('chats.regenerate', { conversationId: id });
      const last = this.messages.at(-1);
      const kept = last?.role === 'assistant' ? this.messages.slice(0, -1) : this.messages;
      this.messages = [...kept, this.#latest(answer)];
      this.#scheduleFlush();
    } catch (error) {
      this.#toasts.error(messageOf(error));
    }
  }

  async edit(messageId: string, text: string): Promise<boolean> {
    const id = this.conversation?.id;
    if (!id || this.streaming) return false;
    try {
      const { user, answer } = await this.#client.call('chats.edit', {
        conversationId: id,
        messageId,
        text,
      });
      const index = this.messages.findIndex((m) => m.id === messageId);
      this.messages = [...this.messages.slice(0, Math.max(index, 0)), user, this.#latest(answer)];
      this.#scheduleFlush();
      return true;
    } catch (error) {
      this.#toasts.error(messageOf(error));
      return false;
    }
  }

  #flush(): void {
    this.#frame = undefined;
    for (const [id, text] of this.#buffered) {
      const message = this.messages.find((m) => m.id === id);
      // Tokens for an answer not listed yet wait for it (they can beat the call's own reply).
      if (!message) continue;
      if (message.status === 'streaming') message.text += text;
      this.#buffered.delete(id);
    }
  }

  #appendOnce(...messages: ApiMessage[]): void {
    const known = this.messages.map((m) => m.id);
    const added = messages.filter((m) => !known.includes(m.id)).map((m) => this.#latest(m));
    this.messages = [...this.messages, ...added];
    this.#scheduleFlush();
  }

  /** The message as last reported (an answer may have ended before its start was confirmed). */
  #latest(message: ApiMessage): ApiMessage {
    const ended = this.#ended.get(message.id);
    this.#ended.delete(message.id);
    if (ended) this.#buffered.delete(message.id);
    return ended ?? message;
  }

  #scheduleFlush(): void {
    if (this.#buffered.size > 0 && this.#frame === undefined) {
      this.#frame = requestAnimationFrame(() => this.#flush());
    }
  }
}
