import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { ApiModel } from './api-backend.js';
import { badRequest, openAiErrorBody, toApiError } from './api-errors.js';
import { imageUrlContent, type ApiImageInput } from './api-images.js';
import { parseBody, sendJson, type RouteContext, type RouteTable } from './api-route.js';
import {
  resolveModel,
  runCompletion,
  type ApiChatMessage,
  type CompletionOutcome,
  type CompletionUsage,
} from './completion-request.js';

// The OpenAI dialect (/v1): what the official clients and the tools written against them send.
// Unknown fields are ignored, as OpenAI-compatible servers do.

const textPart = z.object({ type: z.literal('text'), text: z.string() });
const imagePart = z.object({
  type: z.literal('image_url'),
  image_url: z.union([
    z.string(),
    z.object({ url: z.string(), detail: z.enum(['auto', 'low', 'high']).nullish() }),
  ]),
});
const messageSchema = z.object({
  role: z.enum(['system', 'developer', 'user', 'assistant']),
  content: z
    .union([z.string(), z.array(z.discriminatedUnion('type', [textPart, imagePart])).max(1000)])
    .nullish(),
});

export const chatCompletionSchema = z.object({
  model: z.string().min(1),
  messages: z.array(messageSchema).min(1).max(1000),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().nullish() }).nullish(),
  max_tokens: z.number().int().min(1).nullish(),
  max_completion_tokens: z.number().int().min(1).nullish(),
  temperature: z.number().min(0).max(2).nullish(),
  top_p: z.number().gt(0).max(1).nullish(),
  seed: z.number().int().nullish(),
  stop: z.union([z.string(), z.array(z.string()).max(16)]).nullish(),
  n: z.literal(1).nullish(),
});

type ChatCompletionBody = z.infer<typeof chatCompletionSchema>;

function modelObject(model: ApiModel): Record<string, unknown> {
  return {
    id: model.id,
    object: 'model',
    created: Math.floor(model.installedAt / 1000),
    owned_by: 'llava-desk',
  };
}

async function messagesOf(body: ChatCompletionBody, ctx: RouteContext): Promise<ApiChatMessage[]> {
  const imageCount = body.messages.reduce(
    (n, m) =>
      n + (Array.isArray(m.content) ? m.content.filter((p) => p.type === 'image_url').length : 0),
    0,
  );
  // Checked before anything is decoded or downloaded.
  if (imageCount > ctx.deps.limits.maxImages) {
    throw badRequest(
      'too_many_images',
      `${imageCount} images in one request; at most ${ctx.deps.limits.maxImages} are accepted.`,
    );
  }
  return Promise.all(
    body.messages.map(async (message, m): Promise<ApiChatMessage> => {
      const role = message.role === 'developer' ? 'system' : message.role;
      const content = message.content ?? '';
      if (typeof content === 'string') return { role, text: content, images: [] };
      const texts: string[] = [];
      const images: Array<Promise<ApiImageInput>> = [];
      for (const part of content) {
        if (part.type === 'text') {
          texts.push(part.text);
          continue;
        }
        const spec = typeof part.image_url === 'string' ? { url: part.image_url } : part.image_url;
        const label = `image ${images.length + 1} of message ${m + 1}`;
        const detail = spec.detail === 'high' ? 'high' : 'standard';
        images.push(
          imageUrlContent(spec.url, label, ctx.deps.imageFetch, ctx.signal).then((bytes) => ({
            bytes,
            detail,
            label,
          })),
        );
      }
      return { role, text: texts.join('\n'), images: await Promise.all(images) };
    }),
  );
}

function usageObject(usage: CompletionUsage): Record<string, unknown> {
  return {
    prompt_tokens: usage.promptTokens,
    completion_tokens: usage.completionTokens,
    total_tokens: usage.promptTokens + usage.completionTokens,
    prompt_tokens_details: { cached_tokens: usage.cachedTokens },
  };
}

/** What llava-desk adds to OpenAI's answer: the image side of the usage and timings. */
function extrasObject(usage: CompletionUsage): Record<string, unknown> {
  return {
    images: usage.images,
    image_tokens: usage.imageTokens,
    image_plans: usage.imagePlans.map((p) => ({
      width: p.width,
      height: p.height,
      detail: p.detail,
      encoder_images: p.encoderImages,
    })),
    cached_images: usage.cachedImages,
    image_encode_ms: Math.round(usage.imageEncodeMs),
    time_to_first_token_ms: Math.round(usage.timeToFirstTokenMs),
    total_ms: Math.round(usage.totalMs),
  };
}

async function chatCompletions(ctx: RouteContext): Promise<void> {
  const body = parseBody(chatCompletionSchema, ctx.body);
  const model = await resolveModel(ctx.deps.backend, body.model);
  const stop = body.stop === undefined || body.stop === null ? [] : [body.stop].flat();
  const request = {
    messages: await messagesOf(body, ctx),
    temperature: body.temperature ?? undefined,
    topP: body.top_p ?? undefined,
    seed: body.seed === undefined || body.seed === null ? undefined : Math.abs(body.seed) % 2 ** 31,
    maxTokens: body.max_completion_tokens ?? body.max_tokens ?? undefined,
    stop,
  };
  const id = `chatcmpl-${randomBytes(12).toString('hex')}`;
  const created = Math.floor(Date.now() / 1000);
  if (body.stream !== true) {
    const outcome = await runCompletion(ctx.deps, request, ctx.signal);
    sendJson(ctx.res, 200, {
      id,
      object: 'chat.completion',
      created,
      model: model.id,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: outcome.text, refusal: null },
          logprobs: null,
          finish_reason: outcome.finishReason,
        },
      ],
      usage: usageObject(outcome.usage),
      llava_desk: extrasObject(outcome.usage),
    });
    return;
  }

  const includeUsage = body.stream_options?.include_usage === true;
  const res = ctx.res;
  let started = false;
  const chunk = (
    delta: Record<string, unknown>,
    finish: CompletionOutcome['finishReason'] | null,
  ): Record<string, unknown> => ({
    id,
    object: 'chat.completion.chunk',
    created,
    model: model.id,
    choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }],
    ...(includeUsage ? { usage: null } : {}),
  });
  const send = (value: unknown): void => {
    res.write(`data: ${JSON.stringify(value)}\n\n`);
  };
  // Headers go out with the first piece: a refusal before it (a bad image) is a plain error.
  const begin = (): void => {
    if (started) return;
    started = true;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-cache',
      Connection: 'keep-alive',
    });
    send(chunk({ role: 'assistant', content: '' }, null));
  };
  let outcome: CompletionOutcome;
  try {
    outcome = await runCompletion(ctx.deps, request, ctx.signal, (piece) => {
      begin();
      send(chunk({ content: piece }, null));
    });
  } catch (error) {
    if (!started) throw error;
    // Mid-stream: the clients raise an `error` event as an APIError.
    send(openAiErrorBody(toApiError(error)));
    res.end();
    return;
  }
  begin();
  send(chunk({}, outcome.finishReason));
  if (includeUsage) {
    send({
      id,
      object: 'chat.completion.chunk',
      created,
      model: model.id,
      choices: [],
      usage: usageObject(outcome.usage),
      llava_desk: extrasObject(outcome.usage),
    });
  }
  res.end('data: [DONE]\n\n');
}

async function listModels(ctx: RouteContext): Promise<void> {
  const model = await ctx.deps.backend.activeModel();
  sendJson(ctx.res, 200, { object: 'list', data: model ? [modelObject(model)] : [] });
}

async function getModel(ctx: RouteContext): Promise<void> {
  const model = await resolveModel(ctx.deps.backend, decodeURIComponent(ctx.rest));
  sendJson(ctx.res, 200, modelObject(model));
}

export const OPENAI_ROUTES: RouteTable = {
  'GET /v1/models': listModels,
  'GET /v1/models/*': getModel,
  'POST /v1/chat/completions': chatCompletions,
};
