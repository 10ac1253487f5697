import { mkdtemp, rm, stat } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { DATA_DIR_ENV, ensureDataLayout, resolveDataDir } from '../../src-main/common/data-dir.js';

describe('the data folder', () => {
  const made: string[] = [];
  afterEach(async () => {
    await Promise.all(made.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });

  it('prefers --data-dir, then LLAVA_DESK_HOME, then the OS app-data folder', () => {
    const env = { [DATA_DIR_ENV]: '/tmp/from-env' };
    expect(resolveDataDir('/tmp/explicit', env)).toBe('/tmp/explicit');
    expect(resolveDataDir(undefined, env)).toBe('/tmp/from-env');
    const fallback = resolveDataDir(undefined, {});
    expect(fallback.startsWith(homedir()) || fallback.includes('llava-desk')).toBe(true);
    expect(fallback).toMatch(/llava-desk$/);
  });

  it('ignores an empty LLAVA_DESK_HOME and makes relative folders absolute', () => {
    expect(resolveDataDir(undefined, { [DATA_DIR_ENV]: '  ' })).toMatch(/llava-desk$/);
    expect(resolveDataDir('rel/dir', {})).toBe(resolve('rel/dir'));
  });

  it('creates every state folder under the one root', async () => {
    const root = await mkdtemp(join(tmpdir(), 'llava-desk-data-'));
    made.push(root);
    const layout = await ensureDataLayout(join(root, 'home'));
    for (const dir of [layout.models, layout.chats, layout.images, layout.jobs]) {
      expect(dir.startsWith(layout.root)).toBe(true);
      expect((await stat(dir)).isDirectory()).toBe(true);
    }
    expect(layout.settingsFile).toBe(join(root, 'home', 'settings.json'));
  });
});
