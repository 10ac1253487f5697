import { randomUUID } from 'node:crypto';
import { readdir, readFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { removeStaleTempFiles, TEMP_PREFIX, writeFileAtomic } from '../common/atomic-write.js';
import { LlavaDeskError } from '../common/errors.js';
import { toStorageError } from '../common/storage-errors.js';
import { nodeStoreFs, type StoreFs } from '../common/store-fs.js';
import {
  CHAT_SCHEMA_VERSION,
  conversationSchema,
  messageSchema,
  type ChatMessage,
  type Conversation,
  type ConversationSummary,
} from './schema.js';

export type NewMessage = Omit<ChatMessage, 'id' | 'createdAt' | 'images' | 'status'> &
  Partial<Pick<ChatMessage, 'id' | 'createdAt' | 'images' | 'status'>>;

export interface StoreProblem {
  file: string;
  code: 'CHAT_CORRUPT' | 'CHAT_FROM_NEWER_VERSION';
  message: string;
}

const FILE_SUFFIX = '.json';

/**
 * Conversations as one JSON file each, written atomically (a crash mid-write leaves the previous
 * version). Writes to one conversation are serialised; a file that cannot be read is moved aside,
 * reported, and never overwritten.
 */
export class ChatStore {
  readonly dir: string;
  #queues = new Map<string, Promise<unknown>>();
  #problems: StoreProblem[] = [];
  #now: () => number;
  #fs: StoreFs;

  /** `fs`: the calls writes go through (tests inject disk faults there). */
  constructor(dir: string, options: { now?: () => number; fs?: StoreFs } = {}) {
    this.dir = dir;
    this.#now = options.now ?? Date.now;
    this.#fs = options.fs ?? nodeStoreFs;
  }

  /** Files that could not be read at the last `list()`, moved aside or left untouched. */
  get problems(): readonly StoreProblem[] {
    return this.#problems;
  }

  /**
   * Opens the store: answers left `streaming` by a crash or a quit become `stopped`, keeping
   * their partial text; temp files of saves that failed or were cut short are deleted.
   */
  async open(): Promise<void> {
    await this.#fs.mkdir(this.dir, { recursive: true });
    await removeStaleTempFiles(this.dir, this.#fs);
    for (const summary of await this.list()) {
      const conversation = await this.get(summary.id);
      if (conversation.messages.some((m) => m.status === 'streaming')) {
        // A read-only folder still opens (to be read); the mark waits for a writable one.
        await this.#mutate(summary.id, (c) => {
          for (const message of c.messages) {
            if (message.status === 'streaming') message.status = 'stopped';
          }
        }).catch(() => undefined);
      }
    }
  }

  async list(): Promise<ConversationSummary[]> {
    const names = await readdir(this.dir).catch(() => [] as string[]);
    const problems: StoreProblem[] = [];
    const summaries: ConversationSummary[] = [];
    for (const name of names) {
      if (!name.endsWith(FILE_SUFFIX) || name.startsWith(TEMP_PREFIX)) continue;
      try {
        const c = await this.#read(join(this.dir, name));
        summaries.push({
          id: c.id,
          title: c.title,
          updatedAt: c.updatedAt,
          messageCount: c.messages.length,
        });
      } catch (error) {
        if (error instanceof LlavaDeskError && error.code === 'CHAT_CORRUPT') {
          await rename(join(this.dir, name), join(this.dir, `${name}.corrupt-${this.#now()}`));
          problems.push({ file: name, code: 'CHAT_CORRUPT', message: error.message });
        } else if (error instanceof LlavaDeskError && error.code === 'CHAT_FROM_NEWER_VERSION') {
          problems.push({ file: name, code: error.code, message: error.message });
        } else {
          throw error;
        }
      }
    }
    this.#problems = problems;
    return summaries.sort((a, b) => b.updatedAt - a.updatedAt);
  }

  async get(id: string): Promise<Conversation> {
    return this.#read(this.#file(id));
  }

  async create(
    init: { title?: string; system?: string; modelId?: string } = {},
  ): Promise<Conversation> {
    const now = this.#now();
    const conversation: Conversation = {
      schemaVersion: CHAT_SCHEMA_VERSION,
      id: randomUUID(),
      title: init.title ?? 'Untitled chat',
      createdAt: now,
      updatedAt: now,
      ...(init.system !== undefined ? { system: init.system } : {}),
      ...(init.modelId !== undefined ? { modelId: init.modelId } : {}),
      messages: [],
    };
    await this.#enqueue(conversation.id, () => this.#write(conversation));
    return conversation;
  }

  rename(id: string, title: string): Promise<Conversation> {
    return this.#mutate(id, (c) => {
      c.title = title;
    });
  }

  async delete(id: string): Promise<void> {
    await this.#enqueue(id, async () => {
      const file = this.#file(id);
      await this.#fs.rm(file, { force: true }).catch((error: unknown) => {
        throw toStorageError(error, 'delete the conversation');
      });
    });
  }

  /** Conversations whose title or any message contains the query (case-insensitive). */
  async search(query: string): Promise<ConversationSummary[]> {
    const q = query.trim().toLowerCase();
    const all = await this.list();
    if (q === '') return all;
    const hits: ConversationSummary[] = [];
    for (const summary of all) {
      const c = await this.get(summary.id);
      if (
        c.title.toLowerCase().includes(q) ||
        c.messages.some((m) => m.text.toLowerCase().includes(q))
      ) {
        hits.push(summary);
      }
    }
    return hits;
  }

  async appendMessage(id: string, message: NewMessage): Promise<ChatMessage> {
    const full = messageSchema.parse({
      id: randomUUID(),
      createdAt: this.#now(),
      ...message,
    });
    await this.#mutate(id, (c) => {
      c.messages.push(full);
    });
    return full;
  }

  async updateMessage(
    id: string,
    messageId: string,
    patch: Partial<Omit<ChatMessage, 'id' | 'role'>>,
  ): Promise<ChatMessage> {
    let updated: ChatMessage | undefined;
    await this.#mutate(id, (c) => {
      const index = c.messages.findIndex((m) => m.id === messageId);
      const current = c.messages[index];
      if (!current) throw notFound('MESSAGE_NOT_FOUND', `message ${messageId}`);
      updated = messageSchema.parse({ ...current, ...patch });
      c.messages[index] = updated;
    });
    return updated as ChatMessage;
  }

  /** Drops the message and everything after it (edit-and-resend, regenerate). */
  truncateFrom(id: string, messageId: string): Promise<Conversation> {
    return this.#mutate(id, (c) => {
      const index = c.messages.findIndex((m) => m.id === messageId);
      if (index < 0) throw notFound('MESSAGE_NOT_FOUND', `message ${messageId}`);
      c.messages.splice(index);
    });
  }

  #file(id: string): string {
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(id)) throw notFound('CHAT_NOT_FOUND', `conversation ${id}`);
    return join(this.dir, `${id}${FILE_SUFFIX}`);
  }

  async #read(file: string): Promise<Conversation> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
        throw notFound('CHAT_NOT_FOUND', `conversation file ${file}`);
      }
      throw error;
    }
    let raw: unknown;
    try {
      raw = JSON.parse(text);
    } catch {
      throw new LlavaDeskError('CHAT_CORRUPT', `${file} is not valid JSON`);
    }
    const version = (raw as { schemaVersion?: unknown } | null)?.schemaVersion;
    if (typeof version === 'number' && version > CHAT_SCHEMA_VERSION) {
      throw new LlavaDeskError(
        'CHAT_FROM_NEWER_VERSION',
        `${file} was written by a newer llava-desk (schema ${version}); it is left untouched.`,
      );
    }
    const parsed = conversationSchema.safeParse(raw);
    if (!parsed.success) {
      throw new LlavaDeskError('CHAT_CORRUPT', `${file} does not match the chat schema`);
    }
    return parsed.data;
  }

  async #write(conversation: Conversation): Promise<void> {
    try {
      await writeFileAtomic(
        this.#file(conversation.id),
        `${JSON.stringify(conversation, null, 1)}\n`,
        this.#fs,
      );
    } catch (error) {
      throw toStorageError(error, 'save the conversation');
    }
  }

  #mutate(id: string, change: (c: Conversation) => void): Promise<Conversation> {
    return this.#enqueue(id, async () => {
      const conversation = await this.get(id);
      change(conversation);
      conversation.updatedAt = this.#now();
      await this.#write(conversation);
      return conversation;
    });
  }

  #enqueue<T>(id: string, task: () => Promise<T>): Promise<T> {
    const previous = this.#queues.get(id) ?? Promise.resolve();
    const next = previous.then(task, task);
    const settled = next.catch(() => undefined);
    this.#queues.set(id, settled);
    void settled.then(() => {
      if (this.#queues.get(id) === settled) this.#queues.delete(id);
    });
    return next;
  }
}

function notFound(code: 'CHAT_NOT_FOUND' | 'MESSAGE_NOT_FOUND', what: string): LlavaDeskError {
  return new LlavaDeskError(code, `${what} does not exist`);
}
