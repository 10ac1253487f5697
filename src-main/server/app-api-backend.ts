import type { ApiBackend, ApiModel } from './api-backend.js';
import { LLAVA_15_ENCODER, readEncoderSpec, type EncoderSpec } from '../imaging/index.js';
import type { InstalledModel } from '../models/registry/registry.js';
import type { AppCore } from '../app/app-core.js';

/**
 * The local HTTP API's view of the app core: the model the chats use, loaded once in the app's
 * engine process (an API request and a chat share the model, the context's sequences and the
 * embedding cache keyed by pixels), with the user's temperature and token limit as defaults.
 */
export function apiBackendOf(core: AppCore): ApiBackend {
  const specs = new Map<string, Promise<EncoderSpec>>();
  return {
    version: core.version,
    activeModel: async () => {
      const model = await core.engine.activeModel();
      return model ? apiModel(model) : undefined;
    },
    loaded: () => core.engine.status.state === 'ready',
    defaults: async () => {
      const settings = await core.call('settings.get', {});
      return { temperature: settings.temperature, maxTokens: settings.maxTokens };
    },
    encoder: async () => {
      const model = await core.engine.activeModel();
      if (!model) return LLAVA_15_ENCODER;
      let spec = specs.get(model.mmprojPath);
      if (!spec) {
        spec = readEncoderSpec(model.mmprojPath).catch(() => LLAVA_15_ENCODER);
        specs.set(model.mmprojPath, spec);
      }
      return spec;
    },
    complete: (request, callbacks) =>
      core.engine.use(({ client }) =>
        client.complete(
          {
            // Through the host's use(): the request counts as work, so the idle unload waits for it.
            // Stateless requests: a session of their own each; the engine's sequence pool still
            // starts them from the longest prompt prefix any sequence holds (KV reuse).
            sessionId: `api-${crypto.randomUUID()}`,
            conversation: request.conversation,
            images: [...request.images],
            sampling: request.sampling,
          },
          callbacks,
        ),
      ),
  };
}

function apiModel(model: InstalledModel): ApiModel {
  const { manifest } = model;
  const installedAt = Date.parse(manifest.installedAt);
  return {
    id: model.id,
    aliases: [manifest.catalogId, manifest.displayName].filter(
      (name): name is string => name !== undefined && name !== '',
    ),
    displayName: manifest.displayName,
    sizeBytes: model.sizeBytes,
    installedAt: Number.isFinite(installedAt) ? installedAt : 0,
    family: manifest.family ?? 'llava',
    template: manifest.promptTemplate === 'gguf-jinja' ? 'gguf' : 'vicuna_v1',
  };
}
