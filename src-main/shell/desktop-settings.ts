import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { writeFileAtomic } from '../common/atomic-write.js';

// State of the desktop app only (window bounds, the capture shortcut), in `desktop.json` of the
// data folder, next to the core's settings.json (which the core rewrites whole, so the shell keeps
// its own file). Plain Node: unit-tested.

export const DESKTOP_SETTINGS_FILE = 'desktop.json';

const windowSchema = z.object({
  x: z.number().finite().optional(),
  y: z.number().finite().optional(),
  width: z.number().finite(),
  height: z.number().finite(),
  maximized: z.boolean(),
});

const fieldSchemas = {
  window: windowSchema,
  captureShortcut: z.string().max(100),
  /** False when the user switched the capture shortcut off. */
  captureEnabled: z.boolean(),
} as const;

export interface DesktopSettings {
  window?: z.infer<typeof windowSchema>;
  captureShortcut?: string;
  captureEnabled?: boolean;
}

/** The fields of a stored file that are valid, one by one (a bad field never loses the rest). */
export function readDesktopSettings(raw: unknown): DesktopSettings {
  const fields =
    typeof raw === 'object' && raw !== null
      ? ((raw as { settings?: unknown }).settings ?? raw)
      : {};
  const result: Record<string, unknown> = {};
  if (typeof fields !== 'object' || fields === null) return {};
  for (const [key, schema] of Object.entries(fieldSchemas)) {
    const parsed = schema.safeParse((fields as Record<string, unknown>)[key]);
    if (parsed.success) result[key] = parsed.data;
  }
  return result as DesktopSettings;
}

export class DesktopSettingsStore {
  readonly file: string;
  #current: DesktopSettings = {};
  #queue: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.file = join(dataDir, DESKTOP_SETTINGS_FILE);
  }

  get current(): DesktopSettings {
    return { ...this.#current };
  }

  async open(): Promise<DesktopSettings> {
    try {
      this.#current = readDesktopSettings(JSON.parse(await readFile(this.file, 'utf8')));
    } catch {
      this.#current = {};
    }
    return this.current;
  }

  /** Merges and writes atomically; writes are queued so the last one wins on disk too. */
  update(patch: DesktopSettings): Promise<DesktopSettings> {
    const run = async (): Promise<DesktopSettings> => {
      const next = { ...this.#current, ...patch };
      await writeFileAtomic(
        this.file,
        `${JSON.stringify({ schemaVersion: 1, settings: next }, null, 2)}\n`,
      );
      this.#current = next;
      return this.current;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}
