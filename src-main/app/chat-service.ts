import { randomInt } from 'node:crypto';
import type {
  ApiConversation,
  ApiConversationSummary,
  ApiMessage,
  Detail,
  SendResult,
} from '../api/contract.js';
import type { AskResult } from '../api/engine.js';
import type { ChatStore } from '../chats/chat-store.js';
import { LlavaDeskError, serializeError } from '../common/errors.js';
import { reportBug } from '../common/report-bug.js';
import type { EngineHost } from './engine-host.js';
import type { CoreEvents } from './events.js';
import type { ImageService } from './image-service.js';
import { promptFromMessages, titleFrom } from './prompt-from-chat.js';
import type { SettingsStore } from './settings-store.js';
import { storageFailureOf, UnsavedAnswers } from './unsaved-answers.js';

const DEFAULT_TITLE = 'Untitled chat';
/** How often a streaming answer's partial text is saved (a crash keeps at most this much less). */
const SAVE_EVERY_MS = 1000;
/** Tokens are sent to the window in pieces at most this often (fast models make 1000s a second). */
const EMIT_EVERY_MS = 30;

export interface ChatServiceDeps {
  store: ChatStore;
  images: ImageService;
  engine: EngineHost;
  settings: SettingsStore;
  events: CoreEvents;
}

interface Question {
  text: string;
  images?: string[] | undefined;
  short?: boolean | undefined;
  detail?: Detail | undefined;
}

/**
 * Conversations and their answers: asks the engine with the whole conversation (it reuses its KV
 * cache), streams tokens as events, saves the partial answer as it grows, and marks an answer
 * stopped (Stop, quit) or failed (engine crash) with its partial text kept. An answer whose final
 * save fails (full or read-only disk) is kept in memory and saved when the disk takes it.
 */
export class ChatService {
  readonly #deps: ChatServiceDeps;
  readonly #unsaved: UnsavedAnswers;
  #running = new Map<string, { controller: AbortController; done: Promise<void> }>();

  constructor(deps: ChatServiceDeps) {
    this.#deps = deps;
    this.#unsaved = new UnsavedAnswers(deps.store, deps.events);
  }

  /** Answers kept in memory because the disk refused them. */
  get unsavedAnswers(): number {
    return this.#unsaved.size;
  }

  list(query?: string): Promise<ApiConversationSummary[]> {
    return query === undefined || query.trim() === ''
      ? this.#deps.store.list()
      : this.#deps.store.search(query);
  }

  async get(id: string): Promise<ApiConversation> {
    return this.#unsaved.overlay(await this.#deps.store.get(id));
  }

  async create(title?: string): Promise<ApiConversation> {
    await this.#unsaved.flush();
    const created = await this.#deps.store.create({ title: title ?? DEFAULT_TITLE });
    this.#deps.events.emit('chats.changed', { conversationId: created.id });
    return created;
  }

  async rename(id: string, title: string): Promise<ApiConversationSummary> {
    await this.#unsaved.flush();
    const c = await this.#deps.store.rename(id, title);
    this.#deps.events.emit('chats.changed', { conversationId: id });
    return summary(c);
  }

  async delete(id: string): Promise<void> {
    await this.stop(id);
    await this.#unsaved.flush();
    await this.#deps.store.delete(id);
    this.#unsaved.forget(id);
    await this.#deps.engine.closeSession(id);
    this.#deps.events.emit('chats.changed', { conversationId: id });
  }

  async send(conversationId: string, question: Question): Promise<SendResult> {
    this.#refuseWhileRunning(conversationId);
    await this.#unsaved.flush();
    const conversation = await this.#deps.store.get(conversationId);
    const user = await this.#appendQuestion(conversation, question);
    return { user, answer: await this.#startAnswer(conversationId) };
  }

  async edit(conversationId: string, messageId: string, question: Question): Promise<SendResult> {
    this.#refuseWhileRunning(conversationId);
    await this.#unsaved.flush();
    const conversation = await this.#deps.store.get(conversationId);
    const original = conversation.messages.find((m) => m.id === messageId);
    if (!original || original.role !== 'user') {
      throw new LlavaDeskError('MESSAGE_NOT_FOUND', `no question ${messageId} in this chat`);
    }
    const truncated = await this.#deps.store.truncateFrom(conversationId, messageId);
    const user = await this.#appendQuestion(truncated, {
      ...question,
      short: question.short ?? original.short,
      detail: question.detail ?? original.detail,
    });
    return { user, answer: await this.#startAnswer(conversationId) };
  }

  async regenerate(conversationId: string): Promise<{ answer: ApiMessage }> {
    this.#refuseWhileRunning(conversationId);
    await this.#unsaved.flush();
    const conversation = await this.#deps.store.get(conversationId);
    const last = conversation.messages.at(-1);
    if (!last) throw new LlavaDeskError('MESSAGE_NOT_FOUND', 'nothing to regenerate in this chat');
    if (last.role === 'assistant') await this.#deps.store.truncateFrom(conversationId, last.id);
    return { answer: await this.#startAnswer(conversationId) };
  }

  async stop(conversationId: string): Promise<boolean> {
    const run = this.#running.get(conversationId);
    if (!run) return false;
    run.controller.abort();
    await run.done;
    return true;
  }

  /** Stops every answer being written (shutdown): their partial text is saved as stopped. */
  async stopAll(): Promise<void> {
    await Promise.all([...this.#running.keys()].map((id) => this.stop(id)));
  }

  /** Shutdown: stops answers and makes a last try at saving the answers kept in memory. */
  async close(): Promise<void> {
    await this.stopAll();
    await this.#unsaved.flush();
    this.#unsaved.dispose();
  }

  #refuseWhileRunning(conversationId: string): void {
    if (this.#running.has(conversationId)) {
      throw new LlavaDeskError(
        'CONTEXT_BUSY',
        'An answer is still being written in this chat. Stop it first.',
      );
    }
  }

  async #appendQuestion(conversation: ApiConversation, question: Question): Promise<ApiMessage> {
    const images = question.images ?? [];
    if (question.text.trim() === '' && images.length === 0) {
      throw new LlavaDeskError('INVALID_ARGUMENT', 'Write a question or add an image.');
    }
    const refs = await Promise.all(images.map((id) => this.#deps.images.refOf(id)));
    const user = await this.#deps.store.appendMessage(conversation.id, {
      role: 'user',
      text: question.text,
      images: refs,
      ...(question.short === true ? { short: true } : {}),
      ...(question.detail !== undefined ? { detail: question.detail } : {}),
    });
    if (conversation.messages.length === 0 && conversation.title === DEFAULT_TITLE) {
      await this.#deps.store.rename(conversation.id, titleFrom(question.text, refs.length));
      this.#deps.events.emit('chats.changed', { conversationId: conversation.id });
    }
    return user;
  }

  async #startAnswer(conversationId: string): Promise<ApiMessage> {
    const answer = await this.#deps.store.appendMessage(conversationId, {
      role: 'assistant',
      text: '',
      status: 'streaming',
    });
    const controller = new AbortController();
    const done = this.#answer(conversationId, answer, controller.signal)
      .catch((error: unknown) => reportBug('writing an answer', error))
      .finally(() => {
        if (this.#running.get(conversationId)?.controller === controller) {
          this.#running.delete(conversationId);
        }
      });
    this.#running.set(conversationId, { controller, done });
    this.#deps.events.emit('chats.changed', { conversationId });
    return answer;
  }

  async #answer(conversationId: string, answer: ApiMessage, signal: AbortSignal): Promise<void> {
    const { store, events } = this.#deps;
    let text = '';
    let unsent = '';
    let emitTimer: ReturnType<typeof setTimeout> | undefined;
    const emitNow = (): void => {
      clearTimeout(emitTimer);
      emitTimer = undefined;
      if (unsent === '') return;
      events.emit('chats.token', { conversationId, messageId: answer.id, text: unsent });
      unsent = '';
    };
    let saved = '';
    let lastSave = Date.now();
    let saving: Promise<unknown> = Promise.resolve();
    // Never rejects: an answer whose save fails is kept in memory, shown failed with the reason.
    const finish = async (patch: Partial<ApiMessage>): Promise<void> => {
      emitNow();
      await saving;
      let message: ApiMessage;
      try {
        message = await store.updateMessage(conversationId, answer.id, patch);
      } catch (error) {
        const failure = storageFailureOf(error);
        if (!failure) reportBug('saving a finished answer', error);
        message = failure
          ? this.#unsaved.keep(conversationId, answer, patch, failure)
          : { ...answer, ...patch, status: 'error', error: serializeError(error) };
      }
      // The chat takes a new question from the moment its answer is reported finished.
      this.#running.delete(conversationId);
      events.emit('chats.message', { conversationId, message });
      events.emit('chats.changed', { conversationId });
    };
    let result: AskResult;
    try {
      result = await this.#deps.engine.use(async ({ client }) => {
        if (signal.aborted) throw new LlavaDeskError('ABORTED', 'Stopped before it started.');
        const conversation = await store.get(conversationId);
        const history = conversation.messages.filter((m) => m.id !== answer.id);
        const settings = this.#deps.settings.current;
        const prompt = await promptFromMessages(history, settings.systemPrompt, (message, detail) =>
          this.#deps.images.prepare(message.images, detail),
        );
        return client.complete(
          {
            sessionId: conversationId,
            conversation: prompt.conversation,
            images: prompt.images,
            sampling: {
              temperature: settings.temperature,
              maxTokens: settings.maxTokens,
              seed: randomInt(0, 2 ** 31 - 1),
            },
          },
          {
            signal,
            onToken: (event) => {
              // The engine streams the answer's pieces as its final text has them (leading
              // whitespace already dropped).
              const piece = event.text;
              if (piece === '') return;
              text += piece;
              unsent += piece;
              emitTimer ??= setTimeout(emitNow, EMIT_EVERY_MS);
              if (Date.now() - lastSave >= SAVE_EVERY_MS && text !== saved) {
                lastSave = Date.now();
                saved = text;
                const snapshot = text;
                saving = saving
                  .then(() => store.updateMessage(conversationId, answer.id, { text: snapshot }))
                  .catch(() => undefined);
              }
            },
          },
        );
      });
    } catch (error) {
      const serialized = serializeError(error);
      if (serialized.code === 'ABORTED') {
        await finish({ text, status: 'stopped' });
      } else {
        await finish({ text, status: 'error', error: serialized });
      }
      return;
    }
    const stats = {
      imageEncodeMs: result.stats.imageEncodeMs,
      imageTokens: result.stats.imageTokens,
      promptTokens: result.stats.promptTokens,
      promptMs: result.stats.promptMs,
      generatedTokens: result.stats.generatedTokens,
      tokensPerSecond: result.stats.tokensPerSecond,
      timeToFirstTokenMs: result.stats.timeToFirstTokenMs,
    };
    await finish({
      text: result.text,
      status: result.stopReason === 'aborted' ? 'stopped' : 'complete',
      stats,
    });
  }
}

function summary(c: ApiConversation): ApiConversationSummary {
  return { id: c.id, title: c.title, updatedAt: c.updatedAt, messageCount: c.messages.length };
}
