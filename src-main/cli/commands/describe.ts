import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { isErrorCode } from '../../api/errors.js';
import {
  DEFAULT_PARALLEL,
  isPresetName,
  openEngineJob,
  OUTPUT_FORMATS,
  PRESET_NAMES,
  ProgressTracker,
  scanFolder,
  type BatchEvent,
  KEYWORD_CASES,
  parseVocabulary,
  parseKeywordList,
  XMP_NAMINGS,
  type JobOptions,
  type JobSummary,
  type KeywordCase,
  type KeywordOptions,
  type OutputFormat,
  type PresetName,
  type XmpNaming,
} from '../../batch/index.js';
import { resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError, serializeError } from '../../common/errors.js';
import type { Detail } from '../../imaging/index.js';
import { validatePair } from '../../models/pairing.js';
import { formatDuration } from '../../shared/format.js';
import { dataDirOption } from '../data-dir-option.js';
import { describeAttached, printAttachedSummary } from '../describe-attached.js';
import { EXIT, type ExitCode } from '../exit-codes.js';
import { exitForErrorCode } from '../exit-for-error.js';
import { formatBatchLine } from '../progress-text.js';
import type { CliIo, CommandContext } from '../io.js';
import { choice, detail, integer, temperature } from '../option-parsers.js';
import { resolveModelPair } from '../resolve-model.js';

interface DescribeOptions {
  model?: string;
  mmproj?: string;
  recursive?: boolean;
  prompt?: string;
  preset?: string;
  short?: boolean;
  detail: Detail;
  ext?: string;
  out: string;
  skipExisting?: boolean;
  overwrite?: boolean;
  xmpName?: XmpNaming;
  embed?: boolean;
  /** false with --no-backup. */
  backup: boolean;
  keywordCase?: KeywordCase;
  maxKeywords?: number;
  excludeKeywords?: string;
  vocabulary?: string;
  hierarchy?: string;
  parallel: number;
  maxTokens?: number;
  temperature: number;
  seed?: number;
  threads?: number;
  contextSize?: number;
  json?: boolean;
  dataDir?: string;
  standalone?: boolean;
  verbose?: boolean;
}

export function registerDescribe(program: Command, ctx: CommandContext): void {
  program
    .command('describe <folder>')
    .description('describe every image in a folder into sidecar .txt / JSONL / CSV / XMP files')
    .option('--model <gguf>', 'the LLM GGUF file (default: the default installed model)')
    .option('--mmproj <gguf>', 'the vision projector (mmproj) GGUF file')
    .option('--recursive', 'include sub-folders')
    .option('--prompt <text>', 'the prompt for every image')
    .option('--preset <name>', `${PRESET_NAMES.join(' | ')} (default: detailed)`)
    .option('--short', 'ask for a single word or phrase')
    .option('--detail <level>', 'standard | high (AnyRes tiles)', detail, 'standard')
    .option('--ext <list>', 'comma-separated image extensions (default: common photo formats)')
    .option('--out <formats>', `comma-separated outputs: ${OUTPUT_FORMATS.join(',')}`, 'txt')
    .option('--skip-existing', 'keep sidecars this job did not write and skip their images')
    .option('--overwrite', 'describe every image again and replace every output')
    .option(
      '--xmp-name <name>',
      `${XMP_NAMINGS.join(' | ')} (default: the one already there, else photo.jpg.xmp)`,
      choice(XMP_NAMINGS),
    )
    .option(
      '--embed',
      'also write the description and keywords into the image files (JPEG, TIFF, PNG, WebP, HEIC, AVIF)',
    )
    .option('--no-backup', 'with --embed: do not keep the originals as photo.jpg_original')
    .option(
      '--keyword-case <case>',
      `keywords preset: ${KEYWORD_CASES.join(' | ')} (default: as-is)`,
      choice(KEYWORD_CASES),
    )
    .option('--max-keywords <n>', 'keywords preset: keep at most N', integer('--max-keywords', 1))
    .option('--exclude-keywords <file>', 'keywords preset: never keep the words in this file')
    .option(
      '--vocabulary <file>',
      'keywords preset: keep only the keywords of this list (one a line, or a Lightroom keyword export)',
    )
    .option(
      '--hierarchy <parent>',
      'keywords preset: also write lr:hierarchicalSubject under this parent keyword (a|b nests)',
    )
    .option(
      '--parallel <n>',
      'images in flight at once',
      integer('--parallel', 1),
      DEFAULT_PARALLEL,
    )
    .option('--max-tokens <n>', 'maximum tokens per description', integer('--max-tokens', 1))
    .option('--temperature <t>', 'sampling temperature (0 = greedy)', temperature, 0)
    .option('--seed <s>', 'sampling seed', integer('--seed', 0))
    .option('--threads <n>', 'CPU threads', integer('--threads', 1))
    .option(
      '--context-size <n>',
      'tokens per sequence (default: auto)',
      integer('--context-size', 64),
    )
    .option('--json', 'print one JSON object per event instead of a progress bar')
    .option(
      '--standalone',
      'load the model in this process even when llava-desk (serve) runs for this data folder',
    )
    .option('--verbose', 'say on stderr whether the job runs in a running server')
    .addOption(dataDirOption())
    .action(async (folder: string, options: DescribeOptions) => {
      try {
        const summary = await runDescribe(folder, options, ctx.io);
        ctx.setExit(exitFor(summary));
      } catch (error) {
        const { code, message } = serializeError(error);
        if (options.json) ctx.io.out(`${JSON.stringify({ type: 'error', code, message })}\n`);
        else ctx.io.err(`llava-desk describe: ${message}\n`);
        const usage = code === 'FOLDER_NOT_FOUND';
        ctx.setExit(usage ? EXIT.usage : isErrorCode(code) ? exitForErrorCode(code) : EXIT.failure);
      }
    });
}

function exitFor(summary: { failed: number; cancelled: boolean }): ExitCode {
  if (summary.failed > 0) return EXIT.partial;
  return summary.cancelled ? EXIT.failure : EXIT.ok;
}

async function readListFile(option: string, path: string): Promise<string> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    throw new LlavaDeskError('USAGE', `${option}: cannot read ${path} (${code}).`);
  }
}

/** The keyword options, their files read. */
async function keywordOptions(o: DescribeOptions): Promise<KeywordOptions | undefined> {
  const given = [
    o.keywordCase !== undefined && '--keyword-case',
    o.maxKeywords !== undefined && '--max-keywords',
    o.excludeKeywords !== undefined && '--exclude-keywords',
    o.vocabulary !== undefined && '--vocabulary',
    o.hierarchy !== undefined && '--hierarchy',
  ].filter((g): g is string => g !== false);
  if (given.length === 0) return undefined;
  if (o.preset !== 'keywords' || o.prompt !== undefined) {
    throw new LlavaDeskError('USAGE', `${given.join(', ')} need --preset keywords.`);
  }
  const options: KeywordOptions = {};
  if (o.keywordCase) options.case = o.keywordCase;
  if (o.maxKeywords !== undefined) options.max = o.maxKeywords;
  if (o.excludeKeywords !== undefined) {
    options.exclude = parseKeywordList(await readListFile('--exclude-keywords', o.excludeKeywords));
  }
  if (o.vocabulary !== undefined) {
    const text = await readListFile('--vocabulary', o.vocabulary);
    if (parseVocabulary(text).size === 0) {
      throw new LlavaDeskError('USAGE', `--vocabulary: ${o.vocabulary} holds no keywords.`);
    }
    options.vocabulary = text;
  }
  if (o.hierarchy !== undefined) {
    if (o.hierarchy.split('|').every((p) => p.trim() === '')) {
      throw new LlavaDeskError('USAGE', '--hierarchy needs a parent keyword.');
    }
    options.hierarchy = o.hierarchy;
  }
  return options;
}

async function jobOptions(folder: string, o: DescribeOptions): Promise<JobOptions> {
  const usage = (message: string): never => {
    throw new LlavaDeskError('USAGE', message);
  };
  if (o.prompt !== undefined && o.preset !== undefined)
    usage('Give --prompt or --preset, not both.');
  if (o.skipExisting && o.overwrite) usage('Give --skip-existing or --overwrite, not both.');
  if (o.prompt !== undefined && o.prompt.trim() === '') usage('--prompt is empty.');
  let preset: PresetName | undefined;
  if (o.preset !== undefined) {
    if (!isPresetName(o.preset)) usage(`--preset is one of ${PRESET_NAMES.join(', ')}.`);
    preset = o.preset as PresetName;
  }
  const outputs = o.out.split(',').map((s) => s.trim().toLowerCase());
  const unknown = outputs.filter((f) => !(OUTPUT_FORMATS as readonly string[]).includes(f));
  if (unknown.length > 0 || outputs.length === 0) {
    usage(`--out takes ${OUTPUT_FORMATS.join(', ')} (got ${unknown.join(', ') || 'nothing'}).`);
  }
  if (!o.backup && !o.embed) usage('--no-backup goes with --embed.');
  const keywords = await keywordOptions(o);
  const extensions = o.ext
    ?.split(',')
    .map((e) => e.trim().replace(/^\./, '').toLowerCase())
    .filter((e) => e !== '');
  return {
    folder,
    recursive: o.recursive === true,
    ...(extensions && extensions.length > 0 ? { extensions } : {}),
    ...(o.prompt !== undefined ? { prompt: o.prompt } : {}),
    ...(preset ? { preset } : {}),
    short: o.short === true,
    detail: o.detail,
    outputs: [...new Set(outputs)] as OutputFormat[],
    existing: o.overwrite ? 'overwrite' : o.skipExisting ? 'skip' : 'ask',
    ...(o.xmpName ? { xmpName: o.xmpName } : {}),
    ...(o.embed ? { embed: true, backup: o.backup } : {}),
    ...(keywords ? { keywords } : {}),
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
    temperature: o.temperature,
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
  };
}

async function runDescribe(
  folder: string,
  o: DescribeOptions,
  io: CliIo,
): Promise<{ failed: number; cancelled: boolean }> {
  const options = await jobOptions(folder, o);
  await scanFolder(folder, { recursive: false }); // a wrong folder is told before the model loads
  const dataDir = resolveDataDir(o.dataDir);
  if (o.standalone !== true) {
    if ((o.model === undefined) !== (o.mmproj === undefined)) {
      throw new LlavaDeskError('USAGE', '--model and --mmproj go together: give both files.');
    }
    const attached = await describeAttached(
      options,
      {
        dataDir,
        json: o.json === true,
        verbose: o.verbose === true,
        ...(o.model !== undefined ? { model: o.model } : {}),
        ...(o.mmproj !== undefined ? { mmproj: o.mmproj } : {}),
      },
      io,
    );
    if (attached) {
      if (!o.json) printAttachedSummary(io, attached);
      return attached;
    }
  }
  const pair = await resolveModelPair(o, dataDir);
  await validatePair(pair.modelPath, pair.mmprojPath);
  const { job, close } = await openEngineJob(options, {
    ...pair,
    dataDir,
    parallel: o.parallel,
    ...(o.threads !== undefined ? { threads: o.threads } : {}),
    ...(o.contextSize !== undefined ? { contextSize: o.contextSize } : {}),
  });
  const report = o.json ? jsonReporter(io) : io.isTty ? barReporter(io) : lineReporter(io);
  job.on(report);
  // Ctrl-C stops cleanly: what is done is saved, and the next run continues from there.
  const onSigint = (): void => job.cancel();
  process.once('SIGINT', onSigint);
  try {
    const summary = await job.run();
    if (!o.json) printSummary(io, summary);
    return { failed: summary.failed.length, cancelled: summary.cancelled };
  } finally {
    process.removeListener('SIGINT', onSigint);
    close();
  }
}

function jsonReporter(io: CliIo): (event: BatchEvent) => void {
  return (event) => {
    if (event.type === 'started') {
      io.out(`${JSON.stringify({ type: event.type, path: event.path })}\n`);
      return;
    }
    io.out(`${JSON.stringify(event)}\n`);
  };
}

/** Keywords the vocabulary left out, as the progress output names them. */
function outside(record: { notInVocabulary?: string[] }): string {
  const words = record.notInVocabulary ?? [];
  return words.length > 0 ? ` (not in the vocabulary: ${words.join(', ')})` : '';
}

function lineReporter(io: CliIo): (event: BatchEvent) => void {
  return (event) => {
    if (event.type === 'queued') io.out(`${event.total} image(s) in ${event.jobId}\n`);
    else if (event.type === 'done') io.out(`described ${event.path}${outside(event.record)}\n`);
    else if (event.type === 'skipped') io.out(`skipped ${event.path} (${event.reason})\n`);
    else if (event.type === 'failed') io.out(`FAILED ${event.path}: ${event.message}\n`);
  };
}

function barReporter(io: CliIo): (event: BatchEvent) => void {
  const tracker = new ProgressTracker();
  let lastDraw = 0;
  let current = '';
  return (event) => {
    tracker.update(event);
    if (event.type === 'started') current = event.path;
    if (event.type === 'failed') io.out(`\r\x1b[2KFAILED ${event.path}: ${event.message}\n`);
    const now = performance.now();
    if (event.type === 'tokens' && now - lastDraw < 100) return;
    lastDraw = now;
    io.out(`\r\x1b[2K${formatBatchLine(tracker.snapshot(), current)}`);
    if (event.type === 'finished') io.out('\n');
  };
}

function printSummary(io: CliIo, s: JobSummary): void {
  const files = [s.files.jsonl, s.files.csv].filter((f) => f !== undefined).join(', ');
  io.err(
    `${s.described} described, ${s.skipped} skipped, ${s.failed.length} failed` +
      ` of ${s.total} in ${formatDuration(s.ms)}${files ? ` (${files})` : ''}\n`,
  );
  if (s.cancelled) io.err('Stopped: run the same command again to continue.\n');
  for (const f of s.failed) io.err(`  ${f.path}: ${f.code}: ${f.message}\n`);
}
