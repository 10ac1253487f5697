import type { ApiConversation, ApiMessage } from '../api/contract.js';
import type { ChatStore } from '../chats/chat-store.js';
import { LlavaDeskError } from '../common/errors.js';
import { reportBug } from '../common/report-bug.js';
import { isStorageFailure } from '../common/storage-errors.js';
import type { CoreEvents } from './events.js';

/** How often a kept answer is offered to the disk again (besides before every chat write). */
export const RETRY_SAVE_EVERY_MS = 5000;

interface Kept {
  /** What the store should finally hold (the answer's real outcome). */
  patch: Partial<ApiMessage>;
  /** What the window shows meanwhile: the text, marked failed with the reason. */
  shown: ApiMessage;
}

/** A storage failure of the final save (the store already typed it), else undefined. */
export function storageFailureOf(error: unknown): LlavaDeskError | undefined {
  if (error instanceof LlavaDeskError) {
    return error.code === 'STORAGE_UNAVAILABLE' || error.code === 'DISK_FULL' ? error : undefined;
  }
  return isStorageFailure(error)
    ? new LlavaDeskError('STORAGE_UNAVAILABLE', 'The data folder cannot be written.')
    : undefined;
}

function shownError(failure: LlavaDeskError): ApiMessage['error'] {
  const why =
    failure.code === 'DISK_FULL'
      ? 'the disk of the data folder is full'
      : 'the data folder cannot be written (read-only, no permission or a disk error)';
  const when =
    failure.code === 'DISK_FULL'
      ? 'as soon as there is space again'
      : 'as soon as the folder can be written again';
  return {
    code: failure.code,
    message:
      `This answer could not be saved: ${why}. It is kept while llava-desk runs and saved ` +
      `${when}.`,
  };
}

/**
 * Answers whose final save failed (full or read-only disk): kept in memory, shown as failed with
 * the reason and their whole text, and written as soon as the disk takes them (before the next
 * write to their chat, and every few seconds meanwhile). Saved, the answer gets its real status
 * back and the window is told.
 */
export class UnsavedAnswers {
  readonly #store: ChatStore;
  readonly #events: CoreEvents;
  readonly #kept = new Map<string, Map<string, Kept>>();
  #timer: ReturnType<typeof setInterval> | undefined;
  #flushing: Promise<void> | undefined;

  constructor(store: ChatStore, events: CoreEvents) {
    this.#store = store;
    this.#events = events;
  }

  get size(): number {
    let n = 0;
    for (const answers of this.#kept.values()) n += answers.size;
    return n;
  }

  /** Keeps an answer whose save failed; returns the message to show. */
  keep(
    conversationId: string,
    answer: ApiMessage,
    patch: Partial<ApiMessage>,
    failure: LlavaDeskError,
  ): ApiMessage {
    const shown: ApiMessage = { ...answer, ...patch, status: 'error', error: shownError(failure) };
    let answers = this.#kept.get(conversationId);
    if (!answers) this.#kept.set(conversationId, (answers = new Map()));
    answers.set(answer.id, { patch, shown });
    this.#timer ??= setInterval(() => void this.flush(), RETRY_SAVE_EVERY_MS);
    this.#timer.unref?.();
    return shown;
  }

  /** The conversation as the window should see it: kept answers in place of their saved state. */
  overlay(conversation: ApiConversation): ApiConversation {
    const answers = this.#kept.get(conversation.id);
    if (!answers) return conversation;
    return {
      ...conversation,
      messages: conversation.messages.map((m) => answers.get(m.id)?.shown ?? m),
    };
  }

  forget(conversationId: string): void {
    this.#kept.delete(conversationId);
    this.#stopTimerIfIdle();
  }

  /**
   * Tries to save kept answers (of one conversation, or all). Never rejects: what the disk still
   * refuses stays kept for the next try.
   */
  async flush(conversationId?: string): Promise<void> {
    if (this.#kept.size === 0) return;
    // One pass at a time; a caller arriving meanwhile waits for it and then makes its own.
    while (this.#flushing) await this.#flushing;
    const pass = this.#flushPass(conversationId).finally(() => {
      this.#flushing = undefined;
    });
    this.#flushing = pass;
    await pass;
  }

  dispose(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  async #flushPass(only: string | undefined): Promise<void> {
    for (const [conversationId, answers] of [...this.#kept]) {
      if (only !== undefined && conversationId !== only) continue;
      for (const [messageId, kept] of [...answers]) {
        try {
          const message = await this.#store.updateMessage(conversationId, messageId, kept.patch);
          answers.delete(messageId);
          this.#events.emit('chats.message', { conversationId, message });
          this.#events.emit('chats.changed', { conversationId });
        } catch (error) {
          if (storageFailureOf(error)) continue;
          // The chat or the answer is gone (deleted, replaced): nothing left to save it into.
          answers.delete(messageId);
          if (!(error instanceof LlavaDeskError)) reportBug('saving a kept answer', error);
        }
      }
      if (answers.size === 0) this.#kept.delete(conversationId);
    }
    this.#stopTimerIfIdle();
  }

  #stopTimerIfIdle(): void {
    if (this.#kept.size === 0) this.dispose();
  }
}
