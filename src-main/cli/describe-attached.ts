import { resolve } from 'node:path';
import type { BatchItem, BatchProgress, BatchSummary, MethodParams } from '../api/contract.js';
import { isErrorCode } from '../api/errors.js';
import type { JobOptions } from '../batch/index.js';
import { LlavaDeskError } from '../common/errors.js';
import { formatDuration } from '../shared/format.js';
import { attachToServer, type ApiClient } from './api-client.js';
import type { CliIo } from './io.js';
import { formatBatchLine } from './progress-text.js';

/** What `describe` reports when its job ran in a server. */
export interface AttachedSummary extends BatchSummary {
  total: number;
  failures: Array<{ path: string; code: string; message: string }>;
}

export interface AttachOptions {
  dataDir: string;
  json: boolean;
  verbose: boolean;
  model?: string;
  mmproj?: string;
}

/**
 * Runs a describe job in the llava-desk server of this data folder when one runs (its loaded
 * model describes the images; the job shows in the app's Batch view); undefined when there is
 * none. Progress is printed from the server's `batch.*` events.
 */
export async function describeAttached(
  options: JobOptions,
  attach: AttachOptions,
  io: CliIo,
): Promise<AttachedSummary | undefined> {
  const verbose = (line: string): void => {
    if (attach.verbose) io.err(`llava-desk describe: ${line}\n`);
  };
  const client = await attachToServer(attach.dataDir, verbose);
  if (!client) return undefined;
  const onSigint = (): void => {
    client.call('batch.cancel', {}).catch(() => undefined);
  };
  process.once('SIGINT', onSigint);
  try {
    return await runJob(client, options, attach, io);
  } finally {
    process.removeListener('SIGINT', onSigint);
    client.close();
  }
}

function runJob(
  client: ApiClient,
  options: JobOptions,
  attach: AttachOptions,
  io: CliIo,
): Promise<AttachedSummary> {
  const failures: AttachedSummary['failures'] = [];
  let jobId: string | undefined;
  let total = 0;
  let current = '';
  let lastDraw = 0;
  const print = attach.json
    ? (event: Record<string, unknown>) => io.out(`${JSON.stringify(event)}\n`)
    : undefined;
  return new Promise<AttachedSummary>((resolvePromise, reject) => {
    const onItem = (item: BatchItem): void => {
      if (item.state === 'running') {
        current = item.path;
        print?.({ type: 'started', path: item.path });
      } else if (item.state === 'done') {
        if (print) print({ type: 'done', path: item.path, text: item.text ?? '' });
        else if (!io.isTty) io.out(`described ${item.path}\n`);
      } else if (item.state === 'skipped') {
        if (print) print({ type: 'skipped', path: item.path });
        else if (!io.isTty) io.out(`skipped ${item.path}\n`);
      } else if (item.state === 'failed') {
        const failure = {
          path: item.path,
          code: item.error?.code ?? 'INTERNAL',
          message: item.error?.message ?? 'failed',
        };
        failures.push(failure);
        if (print) print({ type: 'failed', ...failure });
        else io.out(`${io.isTty ? '\r\x1b[2K' : ''}FAILED ${item.path}: ${failure.message}\n`);
      }
    };
    const onProgress = (p: {
      state: string;
      jobId?: string;
      progress: BatchProgress;
      summary?: BatchSummary;
      error?: { code: string; message: string };
    }): void => {
      if (p.progress.total > 0) total = p.progress.total;
      if (jobId === undefined && p.jobId !== undefined) {
        jobId = p.jobId;
        if (print) print({ type: 'queued', jobId, total: p.progress.total });
        else if (!io.isTty) io.out(`${p.progress.total} image(s) in ${jobId}\n`);
      }
      if (io.isTty && !print) {
        const now = performance.now();
        if (now - lastDraw >= 100 || p.state === 'finished') {
          lastDraw = now;
          const etaMs =
            p.progress.etaSeconds === undefined ? undefined : p.progress.etaSeconds * 1000;
          io.out(`\r\x1b[2K${formatBatchLine({ ...p.progress, etaMs }, current)}`);
          if (p.state === 'finished') io.out('\n');
        }
      }
      if (p.state === 'finished' && p.summary) {
        print?.({ type: 'finished', summary: p.summary });
        resolvePromise({ ...p.summary, total, failures });
      } else if (p.state === 'error' && p.error) {
        const code = isErrorCode(p.error.code) ? p.error.code : 'INTERNAL';
        reject(new LlavaDeskError(code, p.error.message));
      }
    };
    client.onEvent((name, payload) => {
      if (name === 'batch.item') {
        const p = payload as { jobId: string; item: BatchItem };
        if (jobId === undefined || p.jobId === jobId) onItem(p.item);
      } else if (name === 'batch.progress') {
        onProgress(payload as Parameters<typeof onProgress>[0]);
      }
    });
    client.call('batch.start', startParams(options, attach)).catch(reject);
  });
}

/** The job's options as `batch.start` takes them (the folder made absolute for the server). */
function startParams(o: JobOptions, attach: AttachOptions): MethodParams<'batch.start'> {
  const k = o.keywords;
  return {
    folder: resolve(o.folder),
    ...(o.recursive !== undefined ? { recursive: o.recursive } : {}),
    ...(o.prompt !== undefined ? { prompt: o.prompt } : {}),
    ...(o.preset !== undefined ? { preset: o.preset } : {}),
    ...(o.outputs !== undefined ? { outputs: [...o.outputs] } : {}),
    ...(o.existing !== undefined ? { existing: o.existing } : {}),
    ...(o.xmpName !== undefined ? { xmpName: o.xmpName } : {}),
    ...(o.embed !== undefined ? { embed: o.embed } : {}),
    ...(o.backup !== undefined ? { backup: o.backup } : {}),
    ...(k
      ? {
          keywords: {
            ...(k.case !== undefined ? { case: k.case } : {}),
            ...(k.max !== undefined ? { max: k.max } : {}),
            ...(k.exclude !== undefined ? { exclude: [...k.exclude] } : {}),
            ...(k.vocabulary !== undefined ? { vocabulary: k.vocabulary } : {}),
            ...(k.hierarchy !== undefined ? { hierarchy: k.hierarchy } : {}),
          },
        }
      : {}),
    ...(o.short !== undefined ? { short: o.short } : {}),
    ...(o.detail !== undefined ? { detail: o.detail } : {}),
    ...(o.maxTokens !== undefined ? { maxTokens: o.maxTokens } : {}),
    ...(o.temperature !== undefined ? { temperature: o.temperature } : {}),
    ...(o.seed !== undefined ? { seed: o.seed } : {}),
    ...(o.extensions !== undefined ? { extensions: [...o.extensions] } : {}),
    ...(attach.model !== undefined && attach.mmproj !== undefined
      ? { modelPath: resolve(attach.model), mmprojPath: resolve(attach.mmproj) }
      : {}),
  };
}

/** The end-of-job lines on stderr, as a local job prints them. */
export function printAttachedSummary(io: CliIo, s: AttachedSummary): void {
  io.err(
    `${s.described} described, ${s.skipped} skipped, ${s.failed} failed` +
      ` of ${s.total} in ${formatDuration(s.ms)}\n`,
  );
  if (s.cancelled) io.err('Stopped: run the same command again to continue.\n');
  for (const f of s.failures) io.err(`  ${f.path}: ${f.code}: ${f.message}\n`);
}
