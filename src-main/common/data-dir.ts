import { mkdir } from 'node:fs/promises';
import { isAbsolute, join, resolve } from 'node:path';
import envPaths from 'env-paths';

/** Environment variable that moves all of llava-desk's state to another folder. */
export const DATA_DIR_ENV = 'LLAVA_DESK_HOME';

/** The sub-folders of the data folder; every piece of state lives in exactly one of them. */
export interface DataLayout {
  root: string;
  models: string;
  chats: string;
  images: string;
  jobs: string;
  settingsFile: string;
  /** What the engine remembers of its last start on this machine (engine/native/startup-memo.ts). */
  engineStartFile: string;
}

/**
 * Resolves the one folder that holds models, chats, images, settings and job state.
 * Order: an explicit folder (`--data-dir`), then `LLAVA_DESK_HOME`, then the OS app-data folder.
 * The desktop shell uses this too (not Electron's userData), so the app, the CLI and the web host
 * always see the same models and chats.
 */
export function resolveDataDir(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  const chosen = explicit ?? env[DATA_DIR_ENV];
  if (chosen !== undefined && chosen.trim() !== '') {
    return isAbsolute(chosen) ? chosen : resolve(chosen);
  }
  return envPaths('llava-desk', { suffix: '' }).data;
}

export function dataLayout(root: string): DataLayout {
  return {
    root,
    models: join(root, 'models'),
    chats: join(root, 'chats'),
    images: join(root, 'images'),
    jobs: join(root, 'jobs'),
    settingsFile: join(root, 'settings.json'),
    engineStartFile: join(root, 'engine-start.json'),
  };
}

/** Creates the data folder and its sub-folders when missing; returns the layout. */
export async function ensureDataLayout(root: string): Promise<DataLayout> {
  const layout = dataLayout(root);
  await Promise.all(
    [layout.models, layout.chats, layout.images, layout.jobs].map((dir) =>
      mkdir(dir, { recursive: true }),
    ),
  );
  return layout;
}
