// Downloads one file over Node's own http/https rather than node-llama-cpp's createModelDownloader
// (ipull). The job needs things that library does not expose: byte-exact Range + If-Range resume
// from a sidecar we own, the hub's X-Linked-ETag sha256 from the redirect hop, typed errors per
// status, ENOSPC handling that keeps the partial, a bounded retry policy, and a file-system layer
// that tests can make fail. One connection per file is plenty for a local app.

import { createHash, type Hash } from 'node:crypto';
import { join } from 'node:path';
import { LlavaDeskError } from '../../common/errors.js';
import type { BodyReader } from './body-reader.js';
import type { DownloadFs } from './download-fs.js';
import type { DownloadEvent, FileRole } from './events.js';
import { httpGet, responseHeader, sha256FromEtag, type HttpGetResult } from './http-get.js';
import {
  partialPathFor,
  readPartialState,
  statePathFor,
  writePartialState,
  type PartialState,
} from './partial-state.js';
import {
  backoffDelayMs,
  isRetryableNetworkError,
  isRetryableStatus,
  sleep,
  type RetryPolicy,
} from './retry-policy.js';

export interface FileDownloadSpec {
  role: FileRole;
  url: string;
  /** Whether `url` is on the hub (the token goes only there). */
  isHub: boolean;
  fileName: string;
  dir: string;
  expectedSha256?: string;
  sha256Source?: 'catalog' | 'user';
  /** Expected size; only an exact one is enforced, any is used for the free-space check. */
  expectedSize?: number;
  sizeExact?: boolean;
}

export interface FileDownloadContext {
  fs: DownloadFs;
  signal: AbortSignal;
  retry: RetryPolicy;
  idleTimeoutMs: number;
  token?: string;
  hubOrigin: string;
  /** Bytes the files after this one still need, so the free-space check covers the whole job. */
  reserveBytes: number;
  /** Free space kept on the volume beyond the download itself. */
  diskMarginBytes: number;
  emit(event: DownloadEvent): void;
  /** Called as bytes land: the running size of this file and its total when known. */
  onBytes(doneBytes: number, totalBytes: number | undefined): void;
}

export interface DownloadedFile {
  role: FileRole;
  path: string;
  sha256: string;
  sizeBytes: number;
}

/** A failure for which another attempt may help. */
class TransientError extends Error {
  constructor(
    message: string,
    readonly truncated = false,
  ) {
    super(message);
  }
}

function statusError(status: number, url: string): LlavaDeskError {
  if (status === 401 || status === 403) {
    return new LlavaDeskError(
      'MODEL_GATED',
      `${url} answered ${status}: this model needs an access token (set HF_TOKEN) or its license ` +
        'accepted on the hub first',
    );
  }
  if (status === 404 || status === 410) {
    return new LlavaDeskError('MODEL_NOT_FOUND', `${url} answered ${status}: no such file`);
  }
  return new LlavaDeskError('NETWORK_FAILED', `${url} answered ${status}`);
}

function parseContentRange(
  value: string | undefined,
): { start: number; total?: number } | undefined {
  const match = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(value?.trim() ?? '');
  if (!match) return undefined;
  const total = match[3] === '*' ? undefined : Number(match[3]);
  return { start: Number(match[1]), total };
}

function isDiskFull(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return code === 'ENOSPC' || code === 'EDQUOT';
}

async function hashExisting(fs: DownloadFs, path: string, hash: Hash): Promise<number> {
  let bytes = 0;
  for await (const chunk of fs.readChunks(path)) {
    hash.update(chunk);
    bytes += chunk.length;
  }
  return bytes;
}

/**
 * Downloads `spec` into `spec.dir`: bytes go to `<name>.part` (with a `<name>.download.json`
 * sidecar), the sha256 is checked, and only then is the file renamed to `<name>`. Resumes a
 * partial left by an earlier run or a dropped connection.
 */
export async function downloadFile(
  spec: FileDownloadSpec,
  ctx: FileDownloadContext,
): Promise<DownloadedFile> {
  const { fs } = ctx;
  const finalPath = join(spec.dir, spec.fileName);
  const partPath = partialPathFor(finalPath);
  await fs.mkdir(spec.dir);

  let state = await readPartialState(fs, finalPath);
  const finished = await finishedEarlier(fs, finalPath, state, spec);
  if (finished) return finished;
  if (state && state.url !== spec.url) state = undefined;

  let offset = (await fs.size(partPath)) ?? 0;
  if (offset > 0 && !state?.etag && !state?.lastModified) {
    // A partial we cannot validate against the server: start over.
    await fs.truncate(partPath, 0);
    offset = 0;
  }
  state ??= { version: 1, url: spec.url };
  if (spec.expectedSha256) {
    state.expectedSha256 = spec.expectedSha256;
    state.sha256Source = spec.sha256Source ?? 'catalog';
  }

  let hash = createHash('sha256');
  if (offset > 0) {
    offset = await hashExisting(fs, partPath, hash);
    ctx.emit({ type: 'resume', role: spec.role, fromByte: offset });
  }
  ctx.onBytes(offset, state.totalBytes ?? spec.expectedSize);

  let bestOffset = offset;
  let attemptsWithoutProgress = 0;
  let attempts = 0;
  for (;;) {
    attempts++;
    try {
      offset = await transferOnce(spec, ctx, state, partPath, offset, hash);
      break;
    } catch (error) {
      if (ctx.signal.aborted) throw cancelled(spec);
      if (error instanceof RestartFromZero) {
        ctx.emit({ type: 'restart', role: spec.role, reason: error.message });
        await fs.truncate(partPath, 0);
        offset = 0;
        hash = createHash('sha256');
        forgetServerFile(state);
        continue;
      }
      const transient = error instanceof TransientError || isRetryableNetworkError(error);
      if (!transient) throw error;
      const progressed = (error as { offset?: number }).offset;
      if (typeof progressed === 'number') offset = progressed;
      if (offset > bestOffset) {
        bestOffset = offset;
        attemptsWithoutProgress = 0;
      } else {
        attemptsWithoutProgress++;
      }
      const exhausted =
        attemptsWithoutProgress >= ctx.retry.maxAttemptsWithoutProgress ||
        attempts >= ctx.retry.maxAttemptsTotal;
      if (exhausted) {
        if (error instanceof TransientError && error.truncated) {
          throw new LlavaDeskError(
            'DOWNLOAD_TRUNCATED',
            `${spec.url} ended at byte ${offset} of ${state.totalBytes ?? '?'} again and again; ` +
              'the server sends less than it announces',
          );
        }
        throw new LlavaDeskError(
          'NETWORK_FAILED',
          `downloading ${spec.fileName} failed after ${attempts} attempts: ${(error as Error).message}`,
          { cause: error },
        );
      }
      const delayMs = backoffDelayMs(ctx.retry, Math.max(1, attemptsWithoutProgress));
      ctx.emit({
        type: 'retry',
        role: spec.role,
        attempt: attempts,
        delayMs,
        reason: (error as Error).message,
      });
      try {
        await sleep(delayMs, ctx.signal);
      } catch {
        throw cancelled(spec);
      }
    }
  }

  return verifyAndPublish(spec, ctx, state, partPath, finalPath, offset, hash);
}

class RestartFromZero extends Error {}

/** A write error other than a full disk: not a network problem, so never retried. */
class WriteFailure extends Error {
  constructor(override readonly cause: unknown) {
    super('write failed');
  }
}

function cancelled(spec: FileDownloadSpec): LlavaDeskError {
  return new LlavaDeskError('DOWNLOAD_CANCELLED', `download of ${spec.fileName} cancelled`);
}

async function finishedEarlier(
  fs: DownloadFs,
  finalPath: string,
  state: PartialState | undefined,
  spec: FileDownloadSpec,
): Promise<DownloadedFile | undefined> {
  if (!state?.completedSha256 || state.url !== spec.url) return undefined;
  if (spec.expectedSha256 && spec.expectedSha256 !== state.completedSha256) return undefined;
  const size = await fs.size(finalPath);
  if (size === undefined || (state.totalBytes !== undefined && size !== state.totalBytes)) {
    return undefined;
  }
  return { role: spec.role, path: finalPath, sha256: state.completedSha256, sizeBytes: size };
}

/** Drops what was learnt about the server's copy, after it turned out to have changed. */
function forgetServerFile(state: PartialState): void {
  delete state.totalBytes;
  delete state.etag;
  delete state.lastModified;
  if (state.sha256Source === 'hub') {
    delete state.expectedSha256;
    delete state.sha256Source;
  }
}

/**
 * One HTTP request: opens, checks the answer, appends the body; returns the new size. Updates
 * `state` (and its sidecar) with what the server said. Throws TransientError to retry.
 */
async function transferOnce(
  spec: FileDownloadSpec,
  ctx: FileDownloadContext,
  state: PartialState,
  partPath: string,
  offset: number,
  hash: Hash,
): Promise<number> {
  const headers: Record<string, string> = { 'user-agent': 'llava-desk', accept: '*/*' };
  if (offset > 0) {
    headers.range = `bytes=${offset}-`;
    const validator = state.etag && !state.etag.startsWith('W/') ? state.etag : state.lastModified;
    if (validator) headers['if-range'] = validator;
  }
  const answer = await httpGet(spec.url, {
    headers,
    authorization:
      spec.isHub && ctx.token ? { origin: ctx.hubOrigin, value: `Bearer ${ctx.token}` } : undefined,
    signal: ctx.signal,
    idleTimeoutMs: ctx.idleTimeoutMs,
  });
  try {
    return await handleResponse(spec, ctx, state, partPath, offset, hash, answer);
  } catch (error) {
    // Whatever went wrong, never leave a half-read connection open.
    if (!answer.response.complete) answer.response.destroy();
    throw error;
  }
}

async function handleResponse(
  spec: FileDownloadSpec,
  ctx: FileDownloadContext,
  state: PartialState,
  partPath: string,
  offset: number,
  hash: Hash,
  { response, body, linkedEtag, linkedSize }: HttpGetResult,
): Promise<number> {
  const status = response.statusCode ?? 0;

  if (status === 416 && offset > 0) {
    body.discard();
    const range = parseContentRange(responseHeader(response, 'content-range'));
    if (range?.total === offset && state.totalBytes === offset) return offset;
    if (
      range?.total !== undefined &&
      state.totalBytes !== undefined &&
      range.total < state.totalBytes
    ) {
      throw new LlavaDeskError(
        'DOWNLOAD_TRUNCATED',
        `${spec.fileName}: the server announced ${state.totalBytes} bytes but has only ` +
          `${range.total}; the partial file is kept`,
      );
    }
    throw new TransientError(
      `the server has no bytes from ${offset} on (it reports ${range?.total ?? 'no'} total)`,
      true,
    );
  }
  if (isRetryableStatus(status)) {
    body.discard();
    throw new TransientError(`${spec.url} answered ${status}`);
  }
  if (status !== 200 && status !== 206) {
    body.discard();
    throw statusError(status, spec.url);
  }

  let total: number | undefined;
  if (status === 206) {
    const range = parseContentRange(responseHeader(response, 'content-range'));
    if (!range || range.start !== offset) {
      body.discard();
      throw new RestartFromZero(`the server resumed at a different byte than ${offset}`);
    }
    total = range.total;
    if (state.totalBytes !== undefined && total !== undefined && total !== state.totalBytes) {
      body.discard();
      throw new RestartFromZero('the file on the server changed since the partial download');
    }
  } else {
    if (offset > 0) {
      body.discard();
      throw new RestartFromZero('the server sent the whole file instead of the rest');
    }
    const length = Number(responseHeader(response, 'content-length'));
    total = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  }
  total ??= linkedSize ?? state.totalBytes;

  if (
    spec.sizeExact &&
    spec.expectedSize !== undefined &&
    total !== undefined &&
    total !== spec.expectedSize
  ) {
    body.discard();
    throw new LlavaDeskError(
      'DOWNLOAD_SIZE_MISMATCH',
      `${spec.fileName}: the server has ${total} bytes, the catalog expects ${spec.expectedSize}`,
    );
  }

  await checkFreeSpace(spec, ctx, (total ?? spec.expectedSize ?? 0) - offset, body);

  const hubSha = sha256FromEtag(linkedEtag);
  if (total !== undefined) state.totalBytes = total;
  state.etag = responseHeader(response, 'etag') ?? state.etag;
  state.lastModified = responseHeader(response, 'last-modified') ?? state.lastModified;
  if (!state.expectedSha256 && hubSha) {
    state.expectedSha256 = hubSha;
    state.sha256Source = 'hub';
  }
  await writePartialState(ctx.fs, join(spec.dir, spec.fileName), state);

  const written = await appendBody(body, spec, ctx, partPath, offset, hash, total);
  if (total !== undefined && written < total) {
    throw Object.assign(
      new TransientError(`${spec.fileName}: the body ended at byte ${written} of ${total}`, true),
      { offset: written },
    );
  }
  if (total === undefined) state.totalBytes = written;
  return written;
}

async function checkFreeSpace(
  spec: FileDownloadSpec,
  ctx: FileDownloadContext,
  remainingBytes: number,
  body: BodyReader,
): Promise<void> {
  const need = Math.max(0, remainingBytes) + ctx.reserveBytes + ctx.diskMarginBytes;
  const free = await ctx.fs.freeBytes(spec.dir);
  if (free < need) {
    body.discard();
    throw new LlavaDeskError(
      'INSUFFICIENT_DISK',
      `not enough free space in ${spec.dir}: ${need} bytes needed, ${free} available`,
    );
  }
}

async function appendBody(
  body: BodyReader,
  spec: FileDownloadSpec,
  ctx: FileDownloadContext,
  partPath: string,
  offset: number,
  hash: Hash,
  total: number | undefined,
): Promise<number> {
  const file = await ctx.fs.openAppend(partPath);
  let written = offset;
  try {
    try {
      for await (const chunk of body.chunks()) {
        try {
          await file.write(chunk);
        } catch (error) {
          body.response.destroy();
          if (isDiskFull(error)) {
            throw new LlavaDeskError(
              'DISK_FULL',
              `the disk filled up while writing ${spec.fileName} at byte ${written}; ` +
                'free some space and resume (the partial file is kept)',
              { cause: error },
            );
          }
          throw new WriteFailure(error);
        }
        hash.update(chunk);
        written += chunk.length;
        ctx.onBytes(written, total);
      }
    } catch (error) {
      if (error instanceof LlavaDeskError) throw error;
      if (error instanceof WriteFailure) throw error.cause;
      throw Object.assign(
        new TransientError(`connection lost at byte ${written}: ${(error as Error).message}`),
        { offset: written, code: (error as NodeJS.ErrnoException).code },
      );
    }
    if (!body.response.complete) {
      throw Object.assign(new TransientError(`connection closed at byte ${written}`), {
        offset: written,
      });
    }
  } finally {
    await file.close();
  }
  return written;
}

async function verifyAndPublish(
  spec: FileDownloadSpec,
  ctx: FileDownloadContext,
  state: PartialState,
  partPath: string,
  finalPath: string,
  size: number,
  hash: Hash,
): Promise<DownloadedFile> {
  const source = state.expectedSha256 ? (state.sha256Source ?? 'catalog') : 'none';
  ctx.emit({ type: 'verify', role: spec.role, sha256Source: source });
  const sha256 = hash.digest('hex');
  if (state.expectedSha256 && state.expectedSha256 !== sha256) {
    await ctx.fs.remove(partPath);
    await ctx.fs.remove(statePathFor(finalPath));
    throw new LlavaDeskError(
      'CHECKSUM_MISMATCH',
      `${spec.fileName}: sha256 ${sha256} does not match the expected ${state.expectedSha256} ` +
        `(from the ${source}); the file was removed`,
    );
  }
  await ctx.fs.rename(partPath, finalPath);
  await writePartialState(ctx.fs, finalPath, {
    ...state,
    totalBytes: size,
    completedSha256: sha256,
  });
  const done = { role: spec.role, path: finalPath, sha256, sizeBytes: size };
  ctx.emit({ type: 'file-done', ...done });
  return done;
}
