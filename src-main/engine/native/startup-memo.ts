// The remembered start: what node-llama-cpp's getLlama() found on this machine and install (the
// binary variant that passed its test, its backends folder, the CPU's math cores) and the memory
// plans made for the pairs loaded so far, kept in one JSON file of the data folder. An engine
// that finds a memo matching this install loads the backends itself (addon.loadBackends) and
// skips node-llama-cpp altogether: its import and its binary-test child process are most of a
// cold start's overhead against a plain libmtmd program. Any change of the install, the machine
// or a pair's files makes the memo not match, and the next start probes again and rewrites it.
import { createHash } from 'node:crypto';
import { mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { cpus, freemem, hostname } from 'node:os';
import { dirname, join } from 'node:path';

const MEMO_VERSION = 1;
/** Plans kept per memo: the pairs and sizes a user switches between. */
const MAX_FITS = 16;

/** What getLlama() decided, as the remembered start needs it. */
export interface RememberedRuntime {
  variant: string;
  gpu: string | false;
  /** The variant's folder of prebuilt libraries (the addon is linked against them). */
  binsDir: string;
  cpuMathCores: number;
}

/** A memory plan made by planModelFit for one pair and request. */
export interface RememberedFit {
  gpuLayers: number;
  contextSize: number;
  expectedRamBytes: number;
  /** The context the model was trained with, when it says. */
  trainContextSize?: number;
}

/** What a load asks for, as far as its plan depends on it. */
export interface FitRequestKey {
  modelPath: string;
  mmprojPath: string;
  gpuLayers: 'auto' | number;
  contextSize: 'auto' | number;
}

interface MemoFile {
  version: number;
  install: string;
  runtime: RememberedRuntime;
  fits: Record<string, RememberedFit>;
}

/**
 * The files whose change means another install: the addon, its build info (which names the
 * node-llama-cpp version and llama.cpp commit) and the variant's libllama it is linked to.
 */
export interface InstallFiles {
  addonPath: string;
  buildInfoPath: string;
  libraryPath: string;
}

async function fileStamp(path: string): Promise<string> {
  const s = await stat(path);
  return `${path}:${s.size}:${Math.round(s.mtimeMs)}`;
}

/** One string for this machine and install; a memo made under another one is not used. */
export async function installKey(files: InstallFiles): Promise<string> {
  const parts = [
    process.platform,
    process.arch,
    hostname(),
    cpus()[0]?.model ?? '',
    String(cpus().length),
    await fileStamp(files.addonPath),
    await fileStamp(files.buildInfoPath),
    await fileStamp(files.libraryPath),
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

/** The key of a plan: the request and both files as they are now (size and time). */
export async function fitKey(request: FitRequestKey): Promise<string> {
  const parts = [
    await fileStamp(request.modelPath),
    await fileStamp(request.mmprojPath),
    String(request.gpuLayers),
    String(request.contextSize),
  ];
  return createHash('sha256').update(parts.join('\n')).digest('hex');
}

function isMemo(value: unknown): value is MemoFile {
  if (value === null || typeof value !== 'object') return false;
  const memo = value as Partial<MemoFile>;
  const runtime = memo.runtime as Partial<RememberedRuntime> | undefined;
  return (
    memo.version === MEMO_VERSION &&
    typeof memo.install === 'string' &&
    typeof memo.fits === 'object' &&
    memo.fits !== null &&
    runtime !== undefined &&
    typeof runtime.variant === 'string' &&
    (runtime.gpu === false || typeof runtime.gpu === 'string') &&
    typeof runtime.binsDir === 'string' &&
    typeof runtime.cpuMathCores === 'number' &&
    runtime.cpuMathCores >= 1
  );
}

async function readMemo(path: string): Promise<MemoFile | undefined> {
  try {
    const parsed: unknown = JSON.parse(await readFile(path, 'utf8'));
    return isMemo(parsed) ? parsed : undefined;
  } catch {
    return undefined;
  }
}

/** What the remembered start may use for one load; undefined: probe with getLlama(). */
export interface RememberedStart {
  runtime: RememberedRuntime;
  /** Set when the load needs a plan (a size left to 'auto') and the remembered one still holds. */
  fit?: RememberedFit;
}

/**
 * The remembered start for `request`, when the memo at `path` was written by this install and
 * the load needs nothing only node-llama-cpp can tell: on a GPU variant only explicit layer and
 * context sizes (free VRAM is not known without it); on the CPU an explicit context size, or a
 * plan for these very files that still fits the free memory and was not cut short by memory
 * when it was made (else more memory now could allow a larger context).
 */
export async function rememberedStart(
  path: string,
  filesFor: (runtime: RememberedRuntime) => InstallFiles | undefined,
  request: FitRequestKey,
): Promise<RememberedStart | undefined> {
  const memo = await readMemo(path);
  if (!memo) return undefined;
  const files = filesFor(memo.runtime);
  try {
    if (!files || memo.install !== (await installKey(files))) return undefined;
  } catch {
    return undefined;
  }
  const { runtime } = memo;
  if (runtime.gpu !== false) {
    return typeof request.gpuLayers === 'number' && typeof request.contextSize === 'number'
      ? { runtime }
      : undefined;
  }
  if (typeof request.contextSize === 'number') return { runtime };
  const fit = memo.fits[await fitKey(request).catch(() => '')];
  if (!fit) return undefined;
  const cutByMemory = fit.trainContextSize !== undefined && fit.contextSize < fit.trainContextSize;
  if (cutByMemory || fit.expectedRamBytes > freemem()) return undefined;
  return { runtime, fit };
}

/**
 * Records what a probed start found (and its plan, if it made one) for the next start. Best
 * effort: a data folder that cannot be written only means the next start probes again.
 */
export async function rememberStart(
  path: string,
  files: InstallFiles,
  runtime: RememberedRuntime,
  planned?: { request: FitRequestKey; fit: RememberedFit },
): Promise<void> {
  try {
    const install = await installKey(files);
    const previous = await readMemo(path);
    const fits = previous?.install === install ? { ...previous.fits } : {};
    if (planned) {
      const key = await fitKey(planned.request);
      delete fits[key];
      fits[key] = planned.fit;
      const keys = Object.keys(fits);
      for (const old of keys.slice(0, Math.max(0, keys.length - MAX_FITS))) delete fits[old];
    }
    const memo: MemoFile = { version: MEMO_VERSION, install, runtime, fits };
    await mkdir(dirname(path), { recursive: true });
    const temporary = join(dirname(path), `.engine-start-${process.pid}.json`);
    await writeFile(temporary, `${JSON.stringify(memo, null, 1)}\n`, { mode: 0o600 });
    await rename(temporary, path);
  } catch {
    // Not remembered: the next start probes again.
  }
}

/**
 * Drops the memo after a remembered start failed (a GPU driver removed, a library replaced in
 * place), so the next start probes in a clean process rather than failing the same way again.
 */
export async function forgetStart(path: string): Promise<void> {
  await rm(path, { force: true }).catch(() => undefined);
}
