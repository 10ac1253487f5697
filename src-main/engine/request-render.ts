// A request as prompt text: rendered with the model's template (or taken raw), its image markers
// checked against the images and keyed with their ids for KV planning; and an answer as the next
// render of the conversation will show it, so that render shares the cache's text.
import { LlavaDeskError } from '../common/errors.js';
import type { CompletionRequest } from './engine-requests.js';
import { countImageMarkers, keyImageMarkers } from './kv-plan.js';
import type { PromptTemplate } from './prompt/conversation.js';
import { LLAVA_V1_SYSTEM, vicunaV1 } from './prompt/vicuna-v1.js';

export class RequestRenderer {
  readonly #template: PromptTemplate;
  readonly #marker: string;

  constructor(template: PromptTemplate, imageMarker: string) {
    this.#template = template;
    this.#marker = imageMarker;
  }

  /** The system prompt used when a conversation sets none. */
  get defaultSystem(): string | undefined {
    return this.#template === vicunaV1 ? LLAVA_V1_SYSTEM : undefined;
  }

  /** The prompt with each image marker keyed with its image's id; INVALID_ARGUMENT on a miscount. */
  keyed(request: CompletionRequest): string {
    const plainPrompt = this.#render(request);
    const markers = countImageMarkers(plainPrompt, this.#marker);
    if (markers !== request.images.length) {
      throw new LlavaDeskError(
        'INVALID_ARGUMENT',
        `The prompt has ${markers} image place(s) but ${request.images.length} image(s) were given.`,
      );
    }
    return keyImageMarkers(
      plainPrompt,
      this.#marker,
      request.images.map((image) => image.id),
    );
  }

  /**
   * The answer as the template will render it in the next call (the glue before it included), so
   * that render shares the cache's text as a prefix. The cache keeps the tokens the model actually
   * generated, as chat engines do; only where the two differ (leading spaces) is this a
   * convention. Undefined when the template renders history in a way that cannot be matched.
   */
  answerAsRendered(request: CompletionRequest, prompt: string, answer: string): string | undefined {
    const conversation = request.conversation;
    const last = conversation?.turns.at(-1);
    if (!conversation || !last) return undefined;
    const turns = [...conversation.turns.slice(0, -1), { ...last, assistant: answer }];
    const withAnswer = keyImageMarkers(
      this.#render({ ...request, conversation: { ...conversation, turns } }),
      this.#marker,
      request.images.map((image) => image.id),
    );
    if (!withAnswer.startsWith(prompt)) return undefined;
    const region = withAnswer.slice(prompt.length);
    const at = region.indexOf(answer);
    return at < 0 ? undefined : region.slice(0, at + answer.length);
  }

  #render(request: CompletionRequest): string {
    if (request.raw !== undefined) return request.raw;
    if (!request.conversation) {
      throw new LlavaDeskError(
        'INVALID_ARGUMENT',
        'A completion needs a conversation or raw text.',
      );
    }
    const conversation = request.conversation;
    const system = conversation.system ?? this.defaultSystem;
    return this.#template.render(
      system === undefined ? conversation : { ...conversation, system },
      this.#marker,
    );
  }
}
