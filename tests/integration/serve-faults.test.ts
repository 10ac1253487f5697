import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { networkInterfaces, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { makeLlavaPair, type LlavaPairResult } from '../../scripts/test-model/llava-pair.js';
import type {
  ApiConversation,
  ApiMessage,
  EngineStatus,
  SendResult,
  WireServerMessage,
} from '../../src-main/api/contract.js';
import { isErrorCode } from '../../src-main/api/errors.js';
import { installPair } from '../support/data-folder.js';
import { MAX_SMALL_FRAME_BYTES } from '../../src-main/server/client-frames.js';
import {
  ApiSocket,
  enginePids,
  isRunning,
  startServe,
  within,
  type ServeProcess,
} from '../support/serve-process.js';

// Web mode probed as an attacker and an unlucky user meet it: a real `llava-desk serve` (from
// source), a real WebSocket client, the tiny generated LLaVA pair, loopback only.

let dir: string;
let pair: LlavaPairResult;
let serve: ServeProcess | undefined;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-serve-faults-'));
  pair = await makeLlavaPair({ outDir: join(dir, 'pair'), seed: 7 });
});

afterEach(async () => {
  if (serve) expect(serve.problems()).toEqual([]);
  await serve?.stop();
  serve = undefined;
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A fresh data folder with the tiny pair installed; long answers so that they can be caught. */
async function dataFolder(name: string, maxTokens: number): Promise<string> {
  const dataDir = join(dir, name);
  await installPair(dataDir, pair, { threads: 1, contextSize: 4096, maxTokens });
  return dataDir;
}

const isEnd = (answerId: string) => (m: WireServerMessage) =>
  m.type === 'event' &&
  m.name === 'chats.message' &&
  (m.payload as { message: ApiMessage }).message.id === answerId;
const isToken = (answerId: string) => (m: WireServerMessage) =>
  m.type === 'event' &&
  m.name === 'chats.token' &&
  (m.payload as { messageId: string }).messageId === answerId;

/** Frames no page of ours sends: every JSON value type, wrong shapes, hostile nesting. */
function hostileFrames(): Array<{ frame: string; id?: number }> {
  const deepArray = `${'['.repeat(200_000)}${']'.repeat(200_000)}`;
  const deepParams = `{"type":"call","id":901,"method":"chats.list","params":{"query":${'{"a":'.repeat(100_000)}1${'}'.repeat(100_000)}}}`;
  return [
    { frame: 'null' },
    { frame: 'true' },
    { frame: 'false' },
    { frame: '0' },
    { frame: '-1.5e300' },
    { frame: '"call"' },
    { frame: '[]' },
    { frame: '[{"type":"call","id":1,"method":"app.info"}]' },
    { frame: '{}' },
    { frame: 'not json at all' },
    { frame: '{"type":"call"' },
    { frame: '' },
    { frame: '{"type":"call"}' },
    { frame: '{"type":"call","id":"7","method":"app.info"}' },
    { frame: '{"type":"call","id":1.5,"method":"app.info"}' },
    { frame: '{"type":"call","id":null,"method":"app.info"}' },
    { frame: '{"type":"result","id":801,"ok":true,"value":1}', id: 801 },
    { frame: '{"type":"call","id":802}', id: 802 },
    { frame: '{"type":"call","id":803,"method":42}', id: 803 },
    { frame: '{"type":"call","id":804,"method":"app.info","params":null}', id: 804 },
    { frame: '{"type":"call","id":805,"method":"app.info","params":[1]}', id: 805 },
    { frame: '{"type":"call","id":806,"method":"app.info","params":"x"}', id: 806 },
    { frame: '{"type":"call","id":807,"method":"__proto__","params":{}}', id: 807 },
    { frame: '{"type":"call","id":808,"method":"constructor","params":{}}', id: 808 },
    { frame: '{"type":"call","id":809,"method":"chats.get","params":{"id":null}}', id: 809 },
    {
      frame: '{"type":"call","id":810,"method":"chats.get","params":{"id":{"$bytes":"AA=="}}}',
      id: 810,
    },
    {
      frame:
        '{"type":"call","id":811,"method":"chats.send","params":{"conversationId":"x","text":{}}}',
      id: 811,
    },
    {
      frame: '{"type":"call","id":812,"method":"images.add","params":{"name":"a","data":"x"}}',
      id: 812,
    },
    { frame: '{"__proto__":{"type":"call"},"id":813,"method":"app.info"}', id: 813 },
    { frame: deepArray },
    // Too deep to decode: refused whole, without an id.
    { frame: deepParams },
  ];
}

function expectTypedRefusal(answer: WireServerMessage | undefined, what: string): void {
  expect(answer, what).toBeDefined();
  expect(answer?.type, what).toBe('result');
  if (answer?.type !== 'result') return;
  expect(answer.ok, what).toBe(false);
  if (answer.ok) return;
  expect(isErrorCode(answer.error.code), what).toBe(true);
  expect(answer.error.code, what).not.toBe('INTERNAL');
}

describe('llava-desk serve under hostile and unlucky use', () => {
  it('answers every malformed frame with a typed error, mid-answer too, and keeps serving', async () => {
    serve = await startServe(await dataFolder('fuzz', 400));
    const api = await ApiSocket.open(serve);
    const chat = await api.value<ApiConversation>('chats.create', {});
    const sent = await api.value<SendResult>('chats.send', {
      conversationId: chat.id,
      text: 'Tell me a long story.',
    });
    const ended = api.next(isEnd(sent.answer.id), true);
    // The crash of the probe: one `null` while an answer streams.
    await api.next(isToken(sent.answer.id), true);

    const frames = hostileFrames();
    const before = api.received.length;
    for (const { frame } of frames) api.ws.send(frame);
    // Binary frames are not part of the API.
    api.ws.send(Buffer.from([0, 1, 2, 3, 255]), { binary: true });
    api.ws.send(Buffer.from('{"type":"call","id":950,"method":"app.info"}'), { binary: true });
    // A large frame that is not an image upload is refused before it is parsed; a large image
    // upload is read (and its junk bytes refused by the image pipeline).
    const big = `{"type":"call","id":960,"method":"chats.list","params":{"query":"${'a'.repeat(MAX_SMALL_FRAME_BYTES)}"}}`;
    api.ws.send(big);
    const bigNumbers = `[${'1,'.repeat(MAX_SMALL_FRAME_BYTES)}1]`;
    api.ws.send(bigNumbers);
    const upload = `{"type":"call","id":961,"method":"images.add","params":{"name":"junk.png","data":{"$bytes":"${Buffer.alloc(MAX_SMALL_FRAME_BYTES + 10, 7).toString('base64')}"}}}`;
    api.ws.send(upload);
    const sentCount = frames.length + 5;

    // Every frame gets exactly one answer.
    const results = async (): Promise<WireServerMessage[]> => {
      await within(60_000, () => resultsSince(api, before).length >= sentCount);
      return resultsSince(api, before);
    };
    const answers = await results();
    expect(answers).toHaveLength(sentCount);
    for (const answer of answers) expectTypedRefusal(answer, JSON.stringify(answer).slice(0, 200));
    // Where a frame had a usable id, the answer carries it; where not, id is null.
    for (const { id } of frames.filter((f) => f.id !== undefined)) {
      expect(
        answers.some((a) => a.type === 'result' && a.id === id),
        `id ${id}`,
      ).toBe(true);
    }
    const byId = (id: number) => answers.find((a) => a.type === 'result' && a.id === id);
    expect(byId(960)).toMatchObject({ ok: false, error: { code: 'REQUEST_TOO_LARGE' } });
    expect(['IMAGE_CORRUPT', 'IMAGE_UNSUPPORTED']).toContain(
      (byId(961) as { error: { code: string } }).error.code,
    );
    expect(answers.filter((a) => a.type === 'result' && a.id === null).length).toBeGreaterThan(10);

    // The answer streaming meanwhile ends normally, with its end event.
    const end = (await ended) as { payload: { message: ApiMessage } };
    expect(end.payload.message.status).toBe('complete');
    expect(end.payload.message.text.length).toBeGreaterThan(0);

    // A burst: hundreds of messages at once, good and bad interleaved, all answered.
    const burst = await Promise.all(
      Array.from({ length: 300 }, (_, i) =>
        i % 3 === 0
          ? api.call('app.info')
          : api.call('chats.get', { id: i % 3 === 1 ? '../x' : 'nope' }),
      ),
    );
    expect(burst.filter((a) => a.type === 'result' && a.ok)).toHaveLength(100);
    for (const answer of burst.filter((a) => a.type === 'result' && !a.ok)) {
      expectTypedRefusal(answer, 'burst');
    }

    // Still serving, on this socket and a new one, and the chat is intact.
    expect(serve.child.exitCode).toBeNull();
    const again = await ApiSocket.open(serve);
    const stored = await again.value<ApiConversation>('chats.get', { id: chat.id });
    expect(stored.messages.map((m) => m.status)).toEqual(['complete', 'complete']);
    expect(await again.value<{ mode: string }>('app.info')).toMatchObject({ mode: 'web' });
    api.close();
    again.close();
  });

  it('tells at once that the engine died, and answers again afterwards', async () => {
    serve = await startServe(await dataFolder('engine-death', 24));
    const api = await ApiSocket.open(serve);
    const chat = await api.value<ApiConversation>('chats.create', {});
    const first = await api.value<SendResult>('chats.send', {
      conversationId: chat.id,
      text: 'Hi',
    });
    await api.next(isEnd(first.answer.id), true);
    const [engine] = enginePids(serve.pid);
    expect(engine).toBeDefined();

    const died = api.next(
      (m) =>
        m.type === 'event' &&
        m.name === 'engine.status' &&
        (m.payload as EngineStatus).state === 'error',
    );
    process.kill(engine as number, 'SIGKILL');
    const event = (await died) as { payload: EngineStatus };
    expect(event.payload.error?.code).toBe('ENGINE_CRASHED');
    expect((await api.value<EngineStatus>('engine.status')).state).toBe('error');

    const next = await api.value<SendResult>('chats.send', {
      conversationId: chat.id,
      text: 'Again',
    });
    const end = (await api.next(isEnd(next.answer.id), true)) as {
      payload: { message: ApiMessage };
    };
    expect(end.payload.message.status).toBe('complete');
    expect((await api.value<EngineStatus>('engine.status')).state).toBe('ready');
    api.close();
  });

  it('leaves no engine process behind when serve is killed mid-answer', async () => {
    serve = await startServe(await dataFolder('orphan', 4000));
    const api = await ApiSocket.open(serve);
    const chat = await api.value<ApiConversation>('chats.create', {});
    const sent = await api.value<SendResult>('chats.send', {
      conversationId: chat.id,
      text: 'Tell me a long story.',
    });
    await api.next(isToken(sent.answer.id), true);
    const engines = enginePids(serve.pid);
    expect(engines).toHaveLength(1);
    const engine = engines[0] as number;

    const exited = new Promise((resolve) => serve?.child.once('exit', resolve));
    serve.child.kill('SIGKILL');
    await exited;
    expect(await within(2000, () => !isRunning(engine))).toBe(true);
    serve = undefined;
  });
});

describe('llava-desk serve --allow-remote', () => {
  it('warns that everything crosses the network in clear text and still checks Host', async () => {
    serve = await startServe(join(dir, 'remote'), ['--host', '0.0.0.0', '--allow-remote']);
    expect(serve.stderr()).toMatch(/warning: --allow-remote .* clear text/);
    const port = serve.port;
    expect(await statusFor(port, `127.0.0.1:${port}`)).toBe(200);
    expect(await statusFor(port, `localhost:${port}`)).toBe(200);
    // An address of this machine, as a browser elsewhere on the network would name it.
    const lan = Object.values(networkInterfaces())
      .flat()
      .find((entry) => entry?.family === 'IPv4' && !entry.internal);
    if (lan) expect(await statusFor(port, `${lan.address}:${port}`)).toBe(200);
    // DNS rebinding: a foreign name pointed at this machine is still refused.
    expect(await statusFor(port, `attacker.example:${port}`)).toBe(421);
    expect(await statusFor(port, `192.0.2.1:${port}`)).toBe(421);
  });
});

/** The HTTP status of GET / sent to 127.0.0.1:port with this Host header. */
function statusFor(port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/', headers: { host } }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.once('error', reject);
    req.end();
  });
}

function resultsSince(api: ApiSocket, index: number): WireServerMessage[] {
  return api.received
    .slice(index)
    .filter((m) => m.type === 'result' && (m.id === null || m.id >= 800));
}
