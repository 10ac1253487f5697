import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ChatStore } from '../../src-main/chats/chat-store.js';
import { ImageStore } from '../../src-main/chats/image-store.js';

let dir: string;
let clock = 1_000;
const now = (): number => (clock += 1);

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-chats-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the chat store', () => {
  it('creates, lists newest first, renames, searches and deletes conversations', async () => {
    const store = new ChatStore(dir, { now });
    await store.open();
    const a = await store.create({ title: 'Cats' });
    const b = await store.create({ title: 'Receipts' });
    await store.appendMessage(a.id, { role: 'user', text: 'Is this a tabby?' });
    expect((await store.list()).map((c) => c.id)).toEqual([a.id, b.id]);

    await store.rename(b.id, 'Receipts 2024');
    expect((await store.get(b.id)).title).toBe('Receipts 2024');
    expect((await store.search('TABBY')).map((c) => c.id)).toEqual([a.id]);
    expect((await store.search('receipts')).map((c) => c.id)).toEqual([b.id]);

    await store.delete(a.id);
    expect((await store.list()).map((c) => c.id)).toEqual([b.id]);
    await expect(store.get(a.id)).rejects.toMatchObject({ code: 'CHAT_NOT_FOUND' });
  });

  it('keeps history across a restart (a new store over the same folder)', async () => {
    const first = new ChatStore(dir, { now });
    const c = await first.create();
    await first.appendMessage(c.id, {
      role: 'user',
      text: 'What is this?',
      images: [{ id: 'a'.repeat(64), width: 10, height: 20, mime: 'image/png' }],
    });
    await first.appendMessage(c.id, { role: 'assistant', text: 'A red square.' });

    const second = new ChatStore(dir, { now });
    await second.open();
    const reloaded = await second.get(c.id);
    expect(reloaded.messages.map((m) => [m.role, m.text])).toEqual([
      ['user', 'What is this?'],
      ['assistant', 'A red square.'],
    ]);
    expect(reloaded.messages[0]?.images[0]?.id).toBe('a'.repeat(64));
  });

  it('marks an answer left streaming by a crash as stopped and keeps its partial text', async () => {
    const store = new ChatStore(dir, { now });
    const c = await store.create();
    await store.appendMessage(c.id, { role: 'user', text: 'Describe' });
    const answer = await store.appendMessage(c.id, {
      role: 'assistant',
      text: 'The picture shows',
      status: 'streaming',
    });

    const afterRestart = new ChatStore(dir, { now });
    await afterRestart.open();
    const message = (await afterRestart.get(c.id)).messages.find((m) => m.id === answer.id);
    expect(message).toMatchObject({ status: 'stopped', text: 'The picture shows' });
  });

  it('truncates from a message for edit-and-resend and regenerate', async () => {
    const store = new ChatStore(dir, { now });
    const c = await store.create();
    await store.appendMessage(c.id, { role: 'user', text: 'q1' });
    await store.appendMessage(c.id, { role: 'assistant', text: 'a1' });
    const q2 = await store.appendMessage(c.id, { role: 'user', text: 'q2' });
    await store.appendMessage(c.id, { role: 'assistant', text: 'a2' });
    await store.truncateFrom(c.id, q2.id);
    expect((await store.get(c.id)).messages.map((m) => m.text)).toEqual(['q1', 'a1']);
    await expect(store.truncateFrom(c.id, 'nope')).rejects.toMatchObject({
      code: 'MESSAGE_NOT_FOUND',
    });
  });

  it('moves a corrupt file aside and reports it instead of failing', async () => {
    const store = new ChatStore(dir, { now });
    const good = await store.create({ title: 'good' });
    await writeFile(join(dir, 'broken.json'), '{"schemaVersion": 1, "id": "broken", "ti');
    const list = await store.list();
    expect(list.map((c) => c.id)).toEqual([good.id]);
    expect(store.problems).toEqual([
      expect.objectContaining({ file: 'broken.json', code: 'CHAT_CORRUPT' }),
    ]);
    expect((await readdir(dir)).some((n) => n.startsWith('broken.json.corrupt-'))).toBe(true);
  });

  it('leaves a conversation from a newer version untouched', async () => {
    const store = new ChatStore(dir, { now });
    const body = JSON.stringify({ schemaVersion: 99, id: 'future', title: 'x', messages: [] });
    await writeFile(join(dir, 'future.json'), body);
    expect(await store.list()).toEqual([]);
    expect(store.problems[0]).toMatchObject({ code: 'CHAT_FROM_NEWER_VERSION' });
    expect(await readFile(join(dir, 'future.json'), 'utf8')).toBe(body);
  });

  it('serialises concurrent writes to one conversation (none is lost)', async () => {
    const store = new ChatStore(dir, { now });
    const c = await store.create();
    await Promise.all(
      Array.from({ length: 25 }, (_, i) =>
        store.appendMessage(c.id, { role: 'user', text: `m${i}` }),
      ),
    );
    expect((await store.get(c.id)).messages).toHaveLength(25);
  });

  it('deletes temp files of failed or interrupted saves when it opens', async () => {
    const store = new ChatStore(dir, { now });
    const { id } = await store.create({ title: 'kept' });
    const stale = [`.tmp-${id}.json.0a1b2c3d4e5f`, '.tmp-other.json.ffffffffffff'];
    for (const name of stale) await writeFile(join(dir, name), '{"half":');
    await new ChatStore(dir, { now }).open();
    expect((await readdir(dir)).sort()).toEqual([`${id}.json`]);
    expect((await store.get(id)).title).toBe('kept');
  });

  it('refuses ids that could escape the folder', async () => {
    const store = new ChatStore(dir, { now });
    await expect(store.get('../../etc/passwd')).rejects.toMatchObject({ code: 'CHAT_NOT_FOUND' });
  });
});

describe('the image store', () => {
  it('stores by content once, and reads back the original and the thumbnail', async () => {
    const images = new ImageStore(dir);
    const bytes = new Uint8Array([1, 2, 3, 4]);
    const input = { bytes, mime: 'image/png', width: 2, height: 2, thumbnail: new Uint8Array([9]) };
    const ref = await images.put({ ...input, name: 'a.png' });
    const again = await images.put(input);
    expect(again.id).toBe(ref.id);
    expect(ref.id).toBe(ImageStore.idOf(bytes));
    expect(await images.read(ref.id)).toEqual(Buffer.from(bytes));
    expect(await images.readThumbnail(ref.id)).toEqual(Buffer.from([9]));
    expect(await images.has(ref.id)).toBe(true);
    // Width, height and type are kept with it: reading them back decodes nothing.
    expect(await images.readMeta(ref.id)).toEqual({ width: 2, height: 2, mime: 'image/png' });
    expect(await new ImageStore(dir).readMeta(ref.id)).toEqual({
      width: 2,
      height: 2,
      mime: 'image/png',
    });
  });

  it('refuses ids that are not sha256 hex (no path traversal)', async () => {
    const images = new ImageStore(dir);
    expect(() => images.originalPath('../../secret')).toThrow(/not an image id/);
    await expect(images.read('f'.repeat(64))).rejects.toMatchObject({ code: 'IMAGE_NOT_FOUND' });
    expect(await images.has('..')).toBe(false);
  });
});
