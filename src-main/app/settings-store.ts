import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { settingsPatchSchema, type Settings, type SettingsPatch } from '../api/contract.js';
import { writeFileAtomic } from '../common/atomic-write.js';
import { toStorageError } from '../common/storage-errors.js';
import { nodeStoreFs, type StoreFs } from '../common/store-fs.js';
import { DEFAULT_SETTINGS } from '../shared/settings.js';

const storedSchema = z.object({ schemaVersion: z.literal(1), settings: z.unknown() });

/**
 * The user's settings in `settings.json` of the data folder, written atomically. Unknown or
 * invalid fields in the file are ignored one by one (a hand-edited file never blocks the app).
 */
export class SettingsStore {
  readonly file: string;
  #current: Settings = { ...DEFAULT_SETTINGS };
  #queue: Promise<unknown> = Promise.resolve();
  readonly #fs: StoreFs;

  constructor(file: string, fs: StoreFs = nodeStoreFs) {
    this.file = file;
    this.#fs = fs;
  }

  get current(): Settings {
    return { ...this.#current };
  }

  async open(): Promise<Settings> {
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(this.file, 'utf8'));
    } catch {
      return this.current;
    }
    const stored = storedSchema.safeParse(raw);
    const fields = stored.success ? stored.data.settings : raw;
    if (typeof fields === 'object' && fields !== null) {
      const next: Settings = { ...DEFAULT_SETTINGS };
      for (const [key, value] of Object.entries(fields)) {
        const one = settingsPatchSchema.safeParse({ [key]: value });
        if (one.success) Object.assign(next, one.data);
      }
      this.#current = next;
    }
    return this.current;
  }

  /** Applies a validated patch; `modelId: undefined` in `clear` forgets the chosen model. */
  update(patch: SettingsPatch, clear: readonly 'modelId'[] = []): Promise<Settings> {
    const run = async (): Promise<Settings> => {
      const next: Settings = { ...this.#current, ...patch };
      for (const key of clear) delete next[key];
      await writeFileAtomic(
        this.file,
        `${JSON.stringify({ schemaVersion: 1, settings: next }, null, 2)}\n`,
        this.#fs,
      ).catch((error: unknown) => {
        throw toStorageError(error, 'save the settings');
      });
      this.#current = next;
      return this.current;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
