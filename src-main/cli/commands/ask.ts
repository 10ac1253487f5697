import type { Command } from 'commander';
import type { AskResult, PreparedImage } from '../../api/engine.js';
import { isErrorCode } from '../../api/errors.js';
import { resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError, serializeError } from '../../common/errors.js';
import { ChatSession } from '../../engine/chat-session.js';
import { EngineClient } from '../../engine/engine-client.js';
import { countImageMarkers } from '../../engine/kv-plan.js';
import type { Detail } from '../../imaging/index.js';
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
}

/** The placeholder users write in --raw prompts; replaced by the runtime's own marker. */
const RAW_IMAGE_PLACEHOLDER = '<image>';

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
    .addOption(dataDirOption())
    .action(async (options: AskOptions) => {
      try {
        const result = await runAsk(options, ctx);
        if (options.json) {
          ctx.io.out(
            `${JSON.stringify({ text: result.text, tokens: result.tokens, stats: result.stats })}\n`,
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

async function runAsk(options: AskOptions, ctx: CommandContext): Promise<AskResult> {
  if (options.image.length === 0 && !options.raw) {
    throw new LlavaDeskError('USAGE', 'Give at least one --image (or use --raw for text only).');
  }
  const pair = await resolveModelPair(options, resolveDataDir(options.dataDir));
  const engine = new EngineClient();
  try {
    // The engine process validates the pair and loads the model while the images are prepared.
    const loading = engine.load({
      ...pair,
      template: options.template,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      ...(options.contextSize !== undefined ? { contextSize: options.contextSize } : {}),
    });
    loading.catch(() => undefined);
    const images = await prepareImages(options.image, options, pair.mmprojPath);
    const info = await loading;
    return await answer(engine, info.imageMarker, images, options, ctx);
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
  const sampling = {
    temperature: options.temperature,
    maxTokens: options.maxTokens,
    ...(options.seed !== undefined ? { seed: options.seed } : {}),
  };
  // The engine's pieces join to the answer's text (its leading space already dropped).
  const onToken = options.json ? undefined : (e: { text: string }) => ctx.io.out(e.text);
  if (options.raw) {
    const placeholders = countImageMarkers(options.prompt, RAW_IMAGE_PLACEHOLDER);
    if (placeholders !== images.length) {
      throw new LlavaDeskError(
        'USAGE',
        `The --raw prompt has ${placeholders} ${RAW_IMAGE_PLACEHOLDER} but ${images.length} image(s) ` +
          'were prepared (with --detail high one image can become several).',
      );
    }
    return await engine.complete(
      {
        sessionId: 'cli',
        raw: options.prompt.split(RAW_IMAGE_PLACEHOLDER).join(imageMarker),
        images,
        sampling,
      },
      onToken ? { onToken } : {},
    );
  }
  const session = new ChatSession(engine, {
    ...(options.system !== undefined ? { system: options.system } : {}),
    sampling,
  });
  return await session.ask(
    { text: options.prompt, images, short: options.short === true },
    onToken ? { onToken } : {},
  );
}
