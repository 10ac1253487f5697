import { fork } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatStore } from '../../src-main/chats/chat-store.js';

const writer = fileURLToPath(new URL('../fixtures/chat-writer-process.ts', import.meta.url));

describe('the chat store under a crash', () => {
  let dir: string;
  afterEach(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('shows readers only whole conversations while a writer runs and is killed mid-write', async () => {
    dir = await mkdtemp(join(tmpdir(), 'llava-desk-crash-'));
    const store = new ChatStore(dir);
    const { id } = await store.create({ title: 'crash test' });
    const file = join(dir, `${id}.json`);
    let reads = 0;
    const torn: string[] = [];
    let lastCount = 0;

    for (let round = 0; round < 4; round += 1) {
      const child = fork(writer, [dir, id], { execArgv: ['--import', 'tsx'], stdio: 'ignore' });
      await new Promise<void>((resolve) => child.once('message', () => resolve()));
      // Read as fast as possible while the other process rewrites the file: a non-atomic write
      // (truncate, then write) shows up here as empty or cut-off JSON.
      const until = Date.now() + 700;
      while (Date.now() < until) {
        const text = await readFile(file, 'utf8');
        reads += 1;
        try {
          JSON.parse(text);
        } catch {
          torn.push(`${text.length} bytes`);
        }
      }
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;

      const reopened = new ChatStore(dir);
      await reopened.open();
      expect(reopened.problems).toEqual([]);
      const messages = (await reopened.get(id)).messages;
      expect(messages.length).toBeGreaterThanOrEqual(lastCount);
      lastCount = messages.length;
    }
    expect(torn).toEqual([]);
    expect(reads).toBeGreaterThan(100);
    expect(lastCount).toBeGreaterThan(0);
    // Temp files of interrupted writes are never taken for conversations.
    const names = await readdir(dir);
    expect(names.filter((n) => n.endsWith('.json') && !n.startsWith('.tmp-'))).toEqual([
      `${id}.json`,
    ]);
  });
});
