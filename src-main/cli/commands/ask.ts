import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import type { AskResult, EngineInfo, PreparedImage } from '../../api/engine.js';
import { isErrorCode } from '../../api/errors.js';
import { dataLayout, resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError, serializeError } from '../../common/errors.js';
import { askOnce, RAW_IMAGE_PLACEHOLDER, type OneQuestion } from '../../engine/ask-once.js';
import { EngineClient } from '../../engine/engine-client.js';
import type { Detail } from '../../imaging/index.js';
import { attachToServer } from '../api-client.js';
import { dataDirOption } from '../data-dir-option.js';
import { EXIT } from '../exit-codes.js';
import { exitForErrorCode } from '../exit-for-error.js';
import type { CommandContext } from '../io.js';
import { choice, detail, integer, temperature } from '../option-parsers.js';
import { prepareImages } from '../prepare-images.js';
import { resolveModelPair } from '../resolve-model.js';

interface AskOptions {
  model?: string;
  mmproj?: string;
  image: string[];
  prompt: string;
  system?: string;
  maxTokens: number;
  temperature: number;
  seed?: number;
  threads?: number;
  contextSize?: number;
  short?: boolean;
  raw?: boolean;
  json?: boolean;
  detail: Detail;
  imagePrep: 'app' | 'runtime';
  template: 'auto' | 'vicuna_v1' | 'gguf';
  dataDir?: string;
  standalone?: boolean;
  verbose?: boolean;
}

export function registerAsk(program: Command, ctx: CommandContext): void {
  program
    .command('ask')
    .description('ask a question about one or more images and stream the answer')
    .option('--model <gguf>', 'the LLM GGUF file (default: the installed default model)')
    .option('--mmproj <gguf>', 'the vision projector (mmproj) GGUF file')
    .option('--image <file>', 'an image file; repeat for several, in order', collect, [])
    .option('--prompt <text>', 'the question', 'Describe the image.')
    .option('--system <text>', 'system prompt (default: the model template’s own)')
    .option('--max-tokens <n>', 'maximum tokens to generate', integer('--max-tokens', 1), 512)
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', temperature, 0)
    .option('--seed <s>', 'sampling seed', integer('--seed', 0))
    .option('--threads <n>', 'CPU threads', integer('--threads', 1))
    .option(
      '--context-size <n>',
      'context length in tokens (default: auto)',
      integer('--context-size', 64),
    )
    .option('--detail <level>', 'standard | high (AnyRes tiles)', detail, 'standard')
    .option(
      '--image-prep <who>',
      'app: the app orients, pads and resizes (default); runtime: hand libmtmd the decoded ' +
        'image and let it preprocess, as llama-mtmd-cli does',
      choice(['app', 'runtime'] as const),
      'app',
    )
    .option(
      '--template <name>',
      'auto: the GGUF chat template when there is one, else vicuna_v1; or vicuna_v1 | gguf',
      choice(['auto', 'vicuna_v1', 'gguf'] as const),
      'auto',
    )
    .option('--short', 'ask for a single word or phrase')
    .option(
      '--raw',
      `use the prompt verbatim, each ${RAW_IMAGE_PLACEHOLDER} replaced by the next image`,
    )
    .option('--json', 'print one JSON object {text, tokens, stats} instead of streaming')
    .option(
      '--standalone',
      'load the model in this process even when llava-desk (serve) runs for this data folder',
    )
    .option('--verbose', 'say on stderr whether the answer came from a running server')
    .addOption(dataDirOption())
    .action(async (options: AskOptions) => {
      try {
        const result: AskResult & { engine?: EngineSummary } =
          (options.standalone === true ? undefined : await askAttached(options, ctx)) ??
          (await runAsk(options, ctx));
        if (options.json) {
          ctx.io.out(
            `${JSON.stringify({ text: result.text, tokens: result.tokens, stats: result.stats, ...(result.engine ? { engine: result.engine } : {}) })}\n`,
          );
        } else {
          ctx.io.out('\n');
        }
        ctx.setExit(EXIT.ok);
      } catch (error) {
        const { code, message } = serializeError(error);
        if (options.json) ctx.io.out(`${JSON.stringify({ error: { code, message } })}\n`);
        else ctx.io.err(`llava-desk ask: ${message}\n`);
        ctx.setExit(isErrorCode(code) ? exitForErrorCode(code) : EXIT.failure);
      }
    });
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** What the standalone engine ran on, for --json (how it started, where, how large). */
type EngineSummary = Pick<
  EngineInfo,
  'variant' | 'startup' | 'gpu' | 'gpuLayers' | 'contextSize' | 'threads'
>;

async function runAsk(
  options: AskOptions,
  ctx: CommandContext,
): Promise<AskResult & { engine: EngineSummary }> {
  if (options.image.length === 0 && !options.raw) {
    throw new LlavaDeskError('USAGE', 'Give at least one --image (or use --raw for text only).');
  }
  const dataDir = resolveDataDir(options.dataDir);
  const pair = await resolveModelPair(options, dataDir);
  const engine = new EngineClient();
  try {
    // The engine process validates the pair and loads the model while the images are prepared.
    const loading = engine.load({
      ...pair,
      template: options.template,
      startupMemoPath: dataLayout(dataDir).engineStartFile,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    });
    loading.catch(() => undefined);
    const images = await prepareImages(options.image, options, pair.mmprojPath);
    const info = await loading;
    const { variant, startup, gpu, gpuLayers, contextSize, threads } = info;
    return {
      ...(await answer(engine, info.imageMarker, images, options, ctx)),
      engine: { variant, startup, gpu, gpuLayers, contextSize, threads },
    };
  } finally {
    engine.dispose();
  }
}

async function answer(
  engine: EngineClient,
  imageMarker: string,
  images: PreparedImage[],
  options: AskOptions,
  ctx: CommandContext,
): Promise<AskResult> {
  return askOnce(
    engine,
    imageMarker,
    images,
    { sessionId: 'cli', ...question(options) },
    printer(options, ctx),
  );
}

/** The question as both the private engine and an attached server take it. */
function question(options: AskOptions): Omit<OneQuestion, 'sessionId'> {
  return {
    prompt: options.prompt,
    maxTokens: options.maxTokens,
    temperature: options.temperature,
    ...(options.system !== undefined ? { system: options.system } : {}),
    ...(options.raw === true ? { raw: true } : {}),
    ...(options.short === true ? { short: true } : {}),
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
}

/** Streams the answer to stdout (nothing with --json: the result is printed whole). */
function printer(
  options: AskOptions,
  ctx: CommandContext,
): ((e: { text: string }) => void) | undefined {
  if (options.json) return undefined;
  // The engine's pieces join to the answer's text (its leading space already dropped).
  return (e) => ctx.io.out(e.text);
}

/**
 * Runs the question through the llava-desk server of this data folder when one runs (its loaded
 * model answers; nothing loads here); undefined when there is none, so the caller runs it alone.
 */
async function askAttached(
  options: AskOptions,
  ctx: CommandContext,
): Promise<AskResult | undefined> {
  const verbose = (line: string): void => {
    if (options.verbose === true) ctx.io.err(`llava-desk ask: ${line}\n`);
  };
  if (options.image.length === 0 && !options.raw) {
    throw new LlavaDeskError('USAGE', 'Give at least one --image (or use --raw for text only).');
  }
  if ((options.model === undefined) !== (options.mmproj === undefined)) {
    throw new LlavaDeskError('USAGE', '--model and --mmproj go together: give both files.');
  }
  const client = await attachToServer(resolveDataDir(options.dataDir), verbose);
  if (!client) return undefined;
  try {
    const askId = randomBytes(12).toString('base64url');
    const print = printer(options, ctx);
    if (print) {
      client.onEvent((name, payload) => {
        const p = payload as { askId?: string; text?: string };
        if (name === 'engine.token' && p.askId === askId && typeof p.text === 'string') {
          print({ text: p.text });
        }
      });
    }
    return await client.call('engine.ask', {
      askId,
      ...question(options),
      images: options.image.map((file) => resolve(file)),
      detail: options.detail,
      imagePrep: options.imagePrep,
      ...(options.model !== undefined && options.mmproj !== undefined
        ? { modelPath: resolve(options.model), mmprojPath: resolve(options.mmproj) }
        : {}),
    });
  } finally {
    client.close();
  }
}
