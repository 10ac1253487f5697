import { createHash } from 'node:crypto';
import { z } from 'zod';
import type { ApiModel } from './api-backend.js';
import { ollamaErrorBody, toApiError } from './api-errors.js';
import { base64Bytes, imageUrlBytes, type ApiImageInput } from './api-images.js';
import { parseBody, sendJson, type RouteContext, type RouteTable } from './api-route.js';
import {
  resolveModel,
  runCompletion,
  type ApiChatMessage,
  type ApiCompletion,
  type CompletionOutcome,
} from './completion-request.js';

// The Ollama dialect (/api): what the `ollama` clients and the tools written for Ollama send.
// `keep_alive` is accepted (the model stays loaded for the app anyway); `format` and `raw` are
// accepted and ignored; unknown fields are ignored.

const optionsSchema = z
  .object({
    temperature: z.number().min(0).max(5).nullish(),
    num_predict: z.number().int().nullish(),
    seed: z.number().int().nullish(),
    top_p: z.number().gt(0).max(1).nullish(),
    top_k: z.number().int().min(0).nullish(),
    repeat_penalty: z.number().min(0).nullish(),
    stop: z.array(z.string()).max(16).nullish(),
  })
  .nullish();

const keepAlive = z.union([z.string(), z.number()]).nullish();
const imagesSchema = z.array(z.string()).max(1000).nullish();

export const ollamaChatSchema = z.object({
  model: z.string().min(1),
  messages: z
    .array(
      z.object({
        role: z.enum(['system', 'user', 'assistant']),
        content: z.string().nullish(),
        images: imagesSchema,
      }),
    )
    .max(1000)
    .nullish(),
  stream: z.boolean().nullish(),
  options: optionsSchema,
  keep_alive: keepAlive,
});

export const ollamaGenerateSchema = z.object({
  model: z.string().min(1),
  prompt: z.string().nullish(),
  system: z.string().nullish(),
  images: imagesSchema,
  stream: z.boolean().nullish(),
  options: optionsSchema,
  keep_alive: keepAlive,
});

const showSchema = z
  .object({ model: z.string().min(1).nullish(), name: z.string().min(1).nullish() })
  .refine((b) => (b.model ?? b.name) !== undefined, { message: 'model is required' });

function imagesOf(images: readonly string[] | null | undefined, where: string): ApiImageInput[] {
  return (images ?? []).map((text, i) => {
    const label = `image ${i + 1} of ${where}`;
    // Ollama takes bare base64; a data URL is accepted too.
    const bytes = /^data:/i.test(text) ? imageUrlBytes(text, label) : base64Bytes(text, label);
    return { bytes, detail: 'standard' as const, label };
  });
}

function samplingOf(
  options: z.infer<typeof optionsSchema>,
): Omit<ApiCompletion, 'messages' | 'stop'> & { stop: string[] } {
  const predict = options?.num_predict;
  return {
    temperature: options?.temperature ?? undefined,
    topP: options?.top_p ?? undefined,
    topK: options?.top_k ?? undefined,
    repeatPenalty: options?.repeat_penalty ?? undefined,
    seed: options?.seed === undefined || options.seed === null ? undefined : Math.abs(options.seed),
    // -1 (until done) and -2 (fill the context) mean "as much as allowed".
    maxTokens:
      predict === undefined || predict === null
        ? undefined
        : predict > 0
          ? predict
          : Number.MAX_SAFE_INTEGER,
    stop: options?.stop ?? [],
  };
}

function details(model: ApiModel): Record<string, unknown> {
  return {
    parent_model: '',
    format: 'gguf',
    family: model.family,
    families: [model.family, 'clip'],
    parameter_size: '',
    quantization_level: '',
  };
}

function digestOf(model: ApiModel): string {
  return createHash('sha256').update(`${model.id}:${model.installedAt}`).digest('hex');
}

/** Ollama's timings are nanoseconds. */
const ns = (ms: number): number => Math.round(ms * 1e6);

function finalStats(outcome: CompletionOutcome): Record<string, unknown> {
  const u = outcome.usage;
  return {
    done_reason: outcome.finishReason,
    total_duration: ns(u.totalMs),
    load_duration: 0,
    prompt_eval_count: u.promptTokens,
    prompt_eval_duration: ns(u.promptMs),
    eval_count: u.completionTokens,
    eval_duration: ns(Math.max(0, u.totalMs - u.promptMs)),
  };
}

/** Answers in Ollama's two shapes: one JSON object, or NDJSON lines (the default). */
async function answer(
  ctx: RouteContext,
  model: ApiModel,
  request: ApiCompletion,
  stream: boolean,
  piece: (text: string) => Record<string, unknown>,
): Promise<void> {
  const base = (): Record<string, unknown> => ({
    model: model.id,
    created_at: new Date().toISOString(),
  });
  if (!stream) {
    const outcome = await runCompletion(ctx.deps, request, ctx.signal);
    sendJson(ctx.res, 200, {
      ...base(),
      ...piece(outcome.text),
      done: true,
      ...finalStats(outcome),
    });
    return;
  }
  const res = ctx.res;
  let started = false;
  const line = (value: unknown): void => {
    if (!started) {
      started = true;
      res.writeHead(200, { 'Content-Type': 'application/x-ndjson; charset=utf-8' });
    }
    res.write(`${JSON.stringify(value)}\n`);
  };
  let outcome: CompletionOutcome;
  try {
    outcome = await runCompletion(ctx.deps, request, ctx.signal, (text) =>
      line({ ...base(), ...piece(text), done: false }),
    );
  } catch (error) {
    if (!started) throw error;
    // Mid-stream, as Ollama does: a line with `error` (the client throws it).
    line(ollamaErrorBody(toApiError(error)));
    res.end();
    return;
  }
  line({ ...base(), ...piece(''), done: true, ...finalStats(outcome) });
  res.end();
}

/** Ollama loads a model when asked with nothing to answer; here it is already the app's. */
function loaded(ctx: RouteContext, model: ApiModel, shape: Record<string, unknown>): void {
  sendJson(ctx.res, 200, {
    model: model.id,
    created_at: new Date().toISOString(),
    ...shape,
    done: true,
    done_reason: 'load',
  });
}

async function chat(ctx: RouteContext): Promise<void> {
  const body = parseBody(ollamaChatSchema, ctx.body);
  const model = await resolveModel(ctx.deps.backend, body.model);
  const messages: ApiChatMessage[] = (body.messages ?? []).map((m, i) => ({
    role: m.role,
    text: m.content ?? '',
    images: imagesOf(m.images, `message ${i + 1}`),
  }));
  if (messages.length === 0) {
    loaded(ctx, model, { message: { role: 'assistant', content: '' } });
    return;
  }
  const request: ApiCompletion = { messages, ...samplingOf(body.options) };
  await answer(ctx, model, request, body.stream !== false, (text) => ({
    message: { role: 'assistant', content: text },
  }));
}

async function generate(ctx: RouteContext): Promise<void> {
  const body = parseBody(ollamaGenerateSchema, ctx.body);
  const model = await resolveModel(ctx.deps.backend, body.model);
  const prompt = body.prompt ?? '';
  const images = imagesOf(body.images, 'the request');
  if (prompt === '' && images.length === 0) {
    loaded(ctx, model, { response: '' });
    return;
  }
  const system = body.system ?? '';
  const messages: ApiChatMessage[] = [
    ...(system !== '' ? [{ role: 'system' as const, text: system, images: [] }] : []),
    { role: 'user', text: prompt, images },
  ];
  const request: ApiCompletion = { messages, ...samplingOf(body.options) };
  await answer(ctx, model, request, body.stream !== false, (text) => ({ response: text }));
}

async function tags(ctx: RouteContext): Promise<void> {
  const model = await ctx.deps.backend.activeModel();
  sendJson(ctx.res, 200, {
    models: model
      ? [
          {
            name: model.id,
            model: model.id,
            modified_at: new Date(model.installedAt).toISOString(),
            size: model.sizeBytes,
            digest: digestOf(model),
            details: details(model),
          },
        ]
      : [],
  });
}

/** The models in memory: the app's, once the engine has loaded it. */
async function running(ctx: RouteContext): Promise<void> {
  const model = await ctx.deps.backend.activeModel();
  sendJson(ctx.res, 200, {
    models:
      model && ctx.deps.backend.loaded()
        ? [
            {
              name: model.id,
              model: model.id,
              size: model.sizeBytes,
              digest: digestOf(model),
              details: details(model),
              // Loaded for as long as the app runs (keep_alive does not unload it).
              expires_at: new Date(Date.now() + 24 * 3600 * 1000).toISOString(),
              size_vram: 0,
            },
          ]
        : [],
  });
}

async function show(ctx: RouteContext): Promise<void> {
  const body = parseBody(showSchema, ctx.body);
  const model = await resolveModel(ctx.deps.backend, body.model ?? body.name ?? '');
  sendJson(ctx.res, 200, {
    license: '',
    modelfile: '',
    parameters: '',
    template: model.template === 'gguf' ? '(the GGUF chat template)' : 'vicuna_v1',
    details: details(model),
    model_info: { 'general.architecture': model.family, 'general.name': model.displayName },
    capabilities: ['completion', 'vision'],
    modified_at: new Date(model.installedAt).toISOString(),
  });
}

async function version(ctx: RouteContext): Promise<void> {
  sendJson(ctx.res, 200, { version: ctx.deps.backend.version });
}

export const OLLAMA_ROUTES: RouteTable = {
  'GET /api/tags': tags,
  'GET /api/version': version,
  'GET /api/ps': running,
  'POST /api/show': show,
  'POST /api/chat': chat,
  'POST /api/generate': generate,
};
