import type { AskResult, PreparedImage, TokenEvent } from '../api/engine.js';
import { LlavaDeskError } from '../common/errors.js';
import { ChatSession, type CompletionEngine } from './chat-session.js';
import { countImageMarkers } from './kv-plan.js';

/** The placeholder users write in raw prompts; replaced by the runtime's own marker. */
export const RAW_IMAGE_PLACEHOLDER = '<image>';

/** One question about images outside any chat (`llava-desk ask`, standalone or attached). */
export interface OneQuestion {
  /** The engine session it runs in (its sequence is closed by the caller when shared). */
  sessionId: string;
  prompt: string;
  system?: string;
  /** The prompt verbatim, each RAW_IMAGE_PLACEHOLDER replaced by the next image. */
  raw?: boolean;
  short?: boolean;
  maxTokens: number;
  temperature: number;
  seed?: number;
}

/**
 * Answers one question with `images` (already prepared for the model's encoder). The same code
 * runs in the CLI's private engine and in a server the CLI attached to, so both answer alike.
 */
export async function askOnce(
  engine: CompletionEngine,
  imageMarker: string,
  images: PreparedImage[],
  question: OneQuestion,
  onToken?: (event: TokenEvent) => void,
): Promise<AskResult> {
  const sampling = {
    temperature: question.temperature,
    maxTokens: question.maxTokens,
    ...(question.seed !== undefined ? { seed: question.seed } : {}),
  };
  const callbacks = onToken ? { onToken } : {};
  if (question.raw === true) {
    const placeholders = countImageMarkers(question.prompt, RAW_IMAGE_PLACEHOLDER);
    if (placeholders !== images.length) {
      throw new LlavaDeskError(
        'USAGE',
        `The --raw prompt has ${placeholders} ${RAW_IMAGE_PLACEHOLDER} but ${images.length} ` +
          'image(s) were prepared (with --detail high one image can become several).',
      );
    }
    const raw = question.prompt.split(RAW_IMAGE_PLACEHOLDER).join(imageMarker);
    return await engine.complete(
      { sessionId: question.sessionId, raw, images, sampling },
      callbacks,
    );
  }
  const session = new ChatSession(engine, {
    id: question.sessionId,
    ...(question.system !== undefined ? { system: question.system } : {}),
    sampling,
  });
  return await session.ask(
    { text: question.prompt, images, short: question.short === true },
    callbacks,
  );
}
