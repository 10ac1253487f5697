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

function loaded(): VisionEngine {
  if (!engine) throw new LlavaDeskError('ENGINE_NOT_LOADED', 'No model is loaded.');
  return engine;
}

async function load(options: EngineLoadOptions): Promise<VisionEngine> {
  const key = JSON.stringify(options);
  if (engine && loadedWith === key) return engine;
  await engine?.dispose();
  engine = undefined;
  engine = await VisionEngine.load(options);
  loadedWith = key;
  return engine;
}

serveRpc<EngineMethods>(processPort(), {
  load: async (options) => (await load(options)).info,
  complete: (request, { emit, signal }) =>
    loaded().complete(request, { onToken: (event) => emit(event), signal }),
  completeMany: ({ requests }, { emit, signal }) =>
    loaded().completeMany(requests, {
      onToken: (index, event) => emit({ index, ...event }),
      signal,
    }),
  embedImages: ({ images }) => loaded().embedImages(images),
  closeSession: async ({ sessionId }) => {
    await engine?.closeSession(sessionId);
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
