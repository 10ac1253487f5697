// Entry of the engine process: llama.cpp runs here so that a crash inside native code takes only
// this process down. Started with child_process.fork (CLI, web host, tests) or Electron's
// utilityProcess (desktop app); both speak the same protocol.
import type { EngineLoadOptions } from '../api/engine.js';
import { LlavaDeskError } from '../common/errors.js';
import type { EngineMethods } from './engine-methods.js';
import { processPort, serveRpc } from './process/serve-rpc.js';
import { VisionEngine } from './vision-engine.js';

let engine: VisionEngine | undefined;
let loadedWith: string | undefined;
/** A load under way: calls that arrive meanwhile wait for it rather than fail. */
let loading: Promise<VisionEngine> | undefined;

async function loaded(): Promise<VisionEngine> {
  if (loading) await loading.catch(() => undefined);
  if (!engine) throw new LlavaDeskError('ENGINE_NOT_LOADED', 'No model is loaded.');
  return engine;
}

/**
 * Loads `options` (the app reloads the same process with other sizes, e.g. a batch job's
 * sequences): the previous engine finishes its calls and is freed first, so one copy of the
 * model is in memory.
 */
function load(options: EngineLoadOptions): Promise<VisionEngine> {
  const key = JSON.stringify(options);
  const previous = loading;
  const next = (async (): Promise<VisionEngine> => {
    if (previous) await previous.catch(() => undefined);
    if (engine && loadedWith === key) return engine;
    const old = engine;
    engine = undefined;
    loadedWith = undefined;
    await old?.dispose();
    engine = await VisionEngine.load(options);
    loadedWith = key;
    return engine;
  })();
  loading = next;
  void next
    .finally(() => {
      if (loading === next) loading = undefined;
    })
    .catch(() => undefined);
  return next;
}

serveRpc<EngineMethods>(processPort(), {
  load: async (options) => (await load(options)).info,
  complete: async (request, { emit, signal }) =>
    (await loaded()).complete(request, { onToken: (event) => emit(event), signal }),
  completeMany: async ({ requests }, { emit, signal }) =>
    (await loaded()).completeMany(requests, {
      onToken: (index, event) => emit({ index, ...event }),
      signal,
    }),
  embedImages: async ({ images }) => (await loaded()).embedImages(images),
  closeSession: async ({ sessionId, keepCache }) => {
    await engine?.closeSession(sessionId, { keepCache: keepCache === true });
    return null;
  },
  unload: async () => {
    await engine?.dispose();
    engine = undefined;
    loadedWith = undefined;
    return null;
  },
  pid: () => process.pid,
});
