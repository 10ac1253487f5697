import { Option, type Command } from 'commander';
import { dataLayout, resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError, serializeError } from '../../common/errors.js';
import { loadCatalog } from '../../models/catalog/load-catalog.js';
import { discoverModels } from '../../models/discovery/discover-models.js';
import type { DownloadEvent } from '../../models/download/events.js';
import { formatBytes } from '../../shared/format.js';
import { formatProgressLine } from '../progress-text.js';
import { HF_TOKEN_ENV, hfBaseUrl } from '../../models/download/resolve-uri.js';
import { importModel, type ImportMode } from '../../models/import-model.js';
import { startPull } from '../../models/pull.js';
import { listModels, removeModel } from '../../models/registry/registry.js';
import { dataDirOption } from '../data-dir-option.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import type { CommandContext } from '../io.js';
import { exitForErrorCode } from '../exit-for-error.js';

/** Bad input (exit 3): the source, the file or its checksum; everything else is a failure (4). */
export function exitCodeForModelError(error: unknown): ExitCode {
  return error instanceof LlavaDeskError ? exitForErrorCode(error.code) : EXIT.failure;
}

function modelsDirFor(options: { dataDir?: string; dir?: string }): string {
  return options.dir ?? dataLayout(resolveDataDir(options.dataDir)).models;
}

/** `LLAVA_DESK_RETRY_BASE_MS`: first retry delay (tests shorten it; default 1 s). */
function retryFromEnv(): { baseDelayMs: number } | undefined {
  const value = Number(process.env.LLAVA_DESK_RETRY_BASE_MS);
  return Number.isFinite(value) && value >= 0 ? { baseDelayMs: value } : undefined;
}

interface PullOptions {
  mmproj?: string;
  sha256?: string;
  dir?: string;
  json?: boolean;
  baseUrl?: string;
  dataDir?: string;
}

function reportError(ctx: CommandContext, command: string, error: unknown, json = false): void {
  const serialized = serializeError(error);
  if (json) ctx.io.out(`${JSON.stringify({ type: 'error', ...serialized })}\n`);
  ctx.io.err(`llava-desk ${command}: ${serialized.message} (${serialized.code})\n`);
  ctx.setExit(exitCodeForModelError(error));
}

function eventPrinter(ctx: CommandContext, json: boolean): (event: DownloadEvent) => void {
  const { io } = ctx;
  let barShown = false;
  return (event) => {
    if (json) {
      io.out(`${JSON.stringify(event)}\n`);
      return;
    }
    if (event.type === 'progress') {
      if (!io.isTty) return;
      io.out(`\r${formatProgressLine(event)}`);
      barShown = true;
      return;
    }
    const lead = barShown ? '\n' : '';
    barShown = false;
    if (event.type === 'start') {
      const names = event.files.map((f) => `${f.fileName} (${f.role})`).join(' + ');
      io.out(`${lead}downloading ${names}\n`);
    } else if (event.type === 'resume') {
      io.out(`${lead}${event.role}: resuming at ${formatBytes(event.fromByte)}\n`);
    } else if (event.type === 'retry') {
      io.err(`${lead}${event.role}: ${event.reason}; retrying in ${event.delayMs} ms\n`);
    } else if (event.type === 'restart') {
      io.err(`${lead}${event.role}: starting over (${event.reason})\n`);
    } else if (event.type === 'verify') {
      io.out(lead);
    } else if (event.type === 'file-done') {
      io.out(`${lead}${event.role}: verified sha256 ${event.sha256}\n`);
    }
  };
}

async function pull(ctx: CommandContext, source: string, options: PullOptions): Promise<void> {
  const json = options.json === true;
  try {
    const modelsDir = modelsDirFor(options);
    const handle = startPull({
      source,
      mmproj: options.mmproj,
      sha256: options.sha256,
      modelsDir,
      catalog: await loadCatalog(),
      hfBaseUrl: hfBaseUrl(process.env, options.baseUrl),
      token: process.env[HF_TOKEN_ENV] || undefined,
      onEvent: eventPrinter(ctx, json),
      download: { retry: retryFromEnv() },
    });
    const onSigint = (): void => {
      ctx.io.err('\ncancelling; the partial download is kept and resumes next time\n');
      void handle.cancel({ keepPartial: true });
    };
    process.once('SIGINT', onSigint);
    try {
      const { model, alreadyInstalled } = await handle.result;
      if (json) {
        ctx.io.out(
          `${JSON.stringify({ type: 'installed', id: model.id, dir: model.dir, alreadyInstalled })}\n`,
        );
      } else {
        const note = alreadyInstalled ? 'already installed' : 'installed';
        ctx.io.out(`${model.id}: ${note} (${formatBytes(model.sizeBytes)}) in ${model.dir}\n`);
      }
      ctx.setExit(EXIT.ok);
    } finally {
      process.removeListener('SIGINT', onSigint);
    }
  } catch (error) {
    reportError(ctx, 'models pull', error, json);
  }
}

async function list(
  ctx: CommandContext,
  options: { json?: boolean; dataDir?: string },
): Promise<void> {
  try {
    const listing = await listModels(modelsDirFor(options));
    if (options.json) {
      const installed = listing.installed.map((m) => ({
        id: m.id,
        displayName: m.manifest.displayName,
        sizeBytes: m.sizeBytes,
        modelPath: m.modelPath,
        mmprojPath: m.mmprojPath,
        promptTemplate: m.manifest.promptTemplate,
        source: m.manifest.source,
      }));
      ctx.io.out(`${JSON.stringify({ installed, incomplete: listing.incomplete }, null, 2)}\n`);
      return;
    }
    if (listing.installed.length === 0 && listing.incomplete.length === 0) {
      ctx.io.out('no models installed; try: llava-desk models pull llava-1.5-7b-q4_k_m\n');
    }
    for (const m of listing.installed) {
      ctx.io.out(`${m.id}\t${formatBytes(m.sizeBytes)}\t${m.manifest.displayName}\n`);
    }
    for (const m of listing.incomplete) {
      ctx.io.out(
        `${m.id}\t${formatBytes(m.partialBytes)}\t(incomplete download: pull again to resume)\n`,
      );
    }
  } catch (error) {
    reportError(ctx, 'models list', error);
  }
}

export function registerModels(program: Command, ctx: CommandContext): void {
  const models = program.command('models').description('list, download, import and remove models');
  models
    .command('list')
    .description('list installed models')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action((options: { json?: boolean; dataDir?: string }) => list(ctx, options));
  models
    .command('pull <source>')
    .description('download a model pair: a catalog id, an hf: URI or an http(s) URL')
    .option('--mmproj <uri>', 'the projector file, when <source> is a single file')
    .option('--sha256 <hex>', 'expected checksum of the model file')
    .option('--dir <folder>', 'download into this folder instead of the data folder')
    .option('--json', 'print JSON lines')
    .option(
      '--base-url <url>',
      'hub base URL for hf: URIs (default: $LLAVA_DESK_HF_BASE_URL or https://huggingface.co)',
    )
    .addOption(dataDirOption())
    .action((source: string, options: PullOptions) => pull(ctx, source, options));
  models
    .command('import <path>')
    .description('import a GGUF (and its projector) from anywhere on disk')
    .option('--mmproj <path>', 'the projector (default: found next to the model)')
    .addOption(
      new Option('--link <mode>', 'copy the files or link them')
        .choices(['copy', 'hardlink', 'symlink'])
        .default('copy'),
    )
    .option('--id <id>', 'id for the installed model')
    .addOption(dataDirOption())
    .action(
      async (
        path: string,
        options: { mmproj?: string; link: ImportMode; id?: string; dataDir?: string },
      ) => {
        try {
          const model = await importModel({
            path,
            mmprojPath: options.mmproj,
            mode: options.link,
            id: options.id,
            modelsDir: modelsDirFor(options),
          });
          const repaired = model.manifest.repairedMmproj ? ' (projector repaired)' : '';
          ctx.io.out(`${model.id}: imported${repaired} into ${model.dir}\n`);
        } catch (error) {
          reportError(ctx, 'models import', error);
        }
      },
    );
  models
    .command('discover')
    .description('find models already downloaded by LM Studio, Jan, llama.cpp or Ollama')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (options: { json?: boolean }) => {
      const found = await discoverModels();
      if (options.json) {
        ctx.io.out(`${JSON.stringify(found, null, 2)}\n`);
        return;
      }
      if (found.length === 0) ctx.io.out('no models found in other apps\n');
      for (const m of found) {
        ctx.io.out(
          `${m.source}\t${m.status}\t${formatBytes(m.sizeBytes)}\t${m.name}\t${m.modelPath}\n`,
        );
      }
    });
  models
    .command('rm <id>')
    .description('delete an installed model')
    .addOption(dataDirOption())
    .action(async (id: string, options: { dataDir?: string }) => {
      try {
        await removeModel(modelsDirFor(options), id);
        ctx.io.out(`${id}: removed\n`);
      } catch (error) {
        reportError(ctx, 'models rm', error);
      }
    });
}
