import { randomUUID } from 'node:crypto';
import type { MethodResult, ParsedParams } from '../api/contract.js';
import { LlavaDeskError } from '../common/errors.js';
import { askOnce } from '../engine/ask-once.js';
import { prepareImageFiles } from '../imaging/index.js';
import type { EngineHost } from './engine-host.js';
import type { CoreEvents } from './events.js';

/**
 * `engine.ask`: one question about image files, outside any chat, on the app's loaded model
 * (what `llava-desk ask` runs when it attaches to a running server). Tokens go out as
 * `engine.token` events with the caller's ask id; the question's sequence is freed after it (its
 * tokens kept for a later question that starts the same way).
 */
export class AskService {
  readonly #engine: EngineHost;
  readonly #events: CoreEvents;

  constructor(deps: { engine: EngineHost; events: CoreEvents }) {
    this.#engine = deps.engine;
    this.#events = deps.events;
  }

  async ask(p: ParsedParams<'engine.ask'>): Promise<MethodResult<'engine.ask'>> {
    if ((p.modelPath === undefined) !== (p.mmprojPath === undefined)) {
      throw new LlavaDeskError('USAGE', '--model and --mmproj go together: give both files.');
    }
    if (p.images.length === 0 && p.raw !== true) {
      throw new LlavaDeskError('USAGE', 'Give at least one --image (or use --raw for text only).');
    }
    await this.#engine.assertActivePair(p);
    const sessionId = `ask-${p.askId}-${randomUUID()}`;
    return this.#engine.use(async ({ client, model }) => {
      const images = await prepareImageFiles(p.images, p, model.mmprojPath);
      const marker = client.info?.imageMarker;
      if (marker === undefined)
        throw new LlavaDeskError('ENGINE_NOT_LOADED', 'No model is loaded.');
      try {
        return await askOnce(
          client,
          marker,
          images,
          {
            sessionId,
            prompt: p.prompt,
            maxTokens: p.maxTokens,
            temperature: p.temperature,
            ...(p.system !== undefined ? { system: p.system } : {}),
            ...(p.raw !== undefined ? { raw: p.raw } : {}),
            ...(p.short !== undefined ? { short: p.short } : {}),
            ...(p.seed !== undefined ? { seed: p.seed } : {}),
          },
          (event) => this.#events.emit('engine.token', { askId: p.askId, text: event.text }),
        );
      } finally {
        // Its tokens stay as a prefix: the same question about the same image, asked again
        // (the CLI does that in scripts), starts after them.
        await this.#engine.closeSession(sessionId, { keepCache: true });
      }
    });
  }
}
