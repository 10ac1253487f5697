import type { Command } from 'commander';
import { open, rename, rm } from 'node:fs/promises';
import { isErrorCode } from '../../api/errors.js';
import { resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError, serializeError } from '../../common/errors.js';
import { EngineClient } from '../../engine/engine-client.js';
import type { Detail } from '../../imaging/index.js';
import { dataDirOption } from '../data-dir-option.js';
import { EXIT } from '../exit-codes.js';
import { exitForErrorCode } from '../exit-for-error.js';
import type { CommandContext } from '../io.js';
import { choice, detail, integer } from '../option-parsers.js';
import { prepareImages } from '../prepare-images.js';
import { resolveModelPair } from '../resolve-model.js';

interface EmbedOptions {
  model?: string;
  mmproj?: string;
  image: string;
  out: string;
  detail: Detail;
  imagePrep: 'app' | 'runtime';
  threads?: number;
  flashAttn: 'auto' | 'on' | 'off';
  dataDir?: string;
}

/**
 * `llava-desk embed`, a diagnostic: the image's embeddings exactly as the engine feeds them to the
 * LLM (CLIP + projector), written as raw float32 (little-endian), tokens x width, row-major.
 * Prints `{"tokens":N,"width":W}`. Used to compare the engine with a reference implementation
 * (docs/UPSTREAM.md) and a trained model with its training code.
 */
export function registerEmbed(program: Command, ctx: CommandContext): void {
  program
    .command('embed')
    .description(
      'diagnostic: write the image embeddings fed to the LLM (float32, tokens x width) to a file',
    )
    .option('--model <gguf>', 'the LLM GGUF file (default: the installed default model)')
    .option('--mmproj <gguf>', 'the vision projector (mmproj) GGUF file')
    .requiredOption('--image <file>', 'the image file')
    .requiredOption('--out <file>', 'where to write the embeddings (raw float32, little-endian)')
    .option('--detail <level>', 'standard | high (AnyRes tiles)', detail, 'standard')
    .option(
      '--image-prep <who>',
      'app: the app orients, pads and resizes (default, as ask); runtime: libmtmd preprocesses',
      choice(['app', 'runtime'] as const),
      'app',
    )
    .option('--threads <n>', 'CPU threads', integer('--threads', 1))
    .option(
      '--flash-attn <mode>',
      "the image encoder's flash attention: auto (default, as ask) | on | off",
      choice(['auto', 'on', 'off'] as const),
      'auto',
    )
    .addOption(dataDirOption())
    .action(async (options: EmbedOptions) => {
      try {
        const shape = await runEmbed(options);
        ctx.io.out(`${JSON.stringify(shape)}\n`);
        ctx.setExit(EXIT.ok);
      } catch (error) {
        const { code, message } = serializeError(error);
        ctx.io.err(`llava-desk embed: ${message}\n`);
        ctx.setExit(isErrorCode(code) ? exitForErrorCode(code) : EXIT.failure);
      }
    });
}

async function runEmbed(options: EmbedOptions): Promise<{ tokens: number; width: number }> {
  const pair = await resolveModelPair(options, resolveDataDir(options.dataDir));
  // Written beside the target and renamed on success: a failed run leaves an existing --out file
  // as it was, and a wrong --out fails before the model loads.
  const partial = `${options.out}.partial-${process.pid}`;
  const out = await open(partial, 'wx').catch((error: unknown) => {
    throw new LlavaDeskError(
      'OUTPUT_NOT_WRITABLE',
      `Cannot write ${options.out}: ${error instanceof Error ? error.message : String(error)}`,
    );
  });
  const engine = new EngineClient();
  let done = false;
  try {
    const loading = engine.load({
      ...pair,
      ...(options.threads !== undefined ? { threads: options.threads } : {}),
      encoderFlashAttn: options.flashAttn,
      contextSize: 256, // no text is evaluated
    });
    loading.catch(() => undefined);
    const images = await prepareImages([options.image], options, pair.mmprojPath);
    await loading;
    const { tokens, width, data } = await engine.embedImages(images);
    await out.writeFile(
      littleEndian(new Uint8Array(data.buffer, data.byteOffset, data.byteLength)),
    );
    await out.close();
    await rename(partial, options.out);
    done = true;
    return { tokens, width };
  } finally {
    engine.dispose();
    if (!done) {
      await out.close().catch(() => undefined);
      await rm(partial, { force: true });
    }
  }
}

/** float32 bytes in little-endian order whatever this machine's order is. */
function littleEndian(bytes: Uint8Array): Uint8Array {
  if (new Uint8Array(new Uint16Array([1]).buffer)[0] === 1) return bytes;
  const swapped = Buffer.from(bytes);
  swapped.swap32();
  return swapped;
}
