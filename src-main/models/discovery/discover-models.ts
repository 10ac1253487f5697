import { readdir, readFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import { inspectGguf, type GgufSummary } from '../gguf/inspect-gguf.js';
import { pairProblem } from '../pairing.js';
import {
  defaultDiscoveryRoots,
  type DiscoveryRoots,
  type DiscoverySource,
} from './default-roots.js';

/** A model found on disk, offered for import. */
export interface DiscoveredModel {
  source: DiscoverySource;
  name: string;
  modelPath: string;
  mmprojPath?: string;
  sizeBytes: number;
  /** `ready`: imports as is; `needs-repair`: old projector, a repaired copy is written. */
  status: 'ready' | 'needs-repair' | 'no-mmproj';
}

export interface DiscoveryOptions {
  roots?: Partial<DiscoveryRoots>;
  /** Bounds on the walk, so a huge folder cannot stall the app. */
  maxDepth?: number;
  maxFiles?: number;
}

async function findGgufFiles(root: string, maxDepth: number, maxFiles: number): Promise<string[]> {
  const found: string[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > maxDepth || found.length >= maxFiles) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      // Symlinked folders are not followed (no loops); symlinked files are fine.
      if (entry.isDirectory()) await walk(path, depth + 1);
      else if (entry.name.toLowerCase().endsWith('.gguf') && found.length < maxFiles)
        found.push(path);
    }
  };
  await walk(root, 0);
  return found;
}

async function inspectAll(paths: string[]): Promise<GgufSummary[]> {
  const out: GgufSummary[] = [];
  for (const path of paths) {
    const summary = await inspectGguf(path).catch(() => undefined);
    if (summary) out.push(summary);
  }
  return out;
}

const prefixLength = (a: string, b: string): number => {
  let n = 0;
  while (n < a.length && n < b.length && a[n] === b[n]) n++;
  return n;
};

/** Pairs LLMs with projectors in the same folder (width, then the closest file name). */
function pairInFolders(
  source: DiscoverySource,
  root: string,
  files: GgufSummary[],
): DiscoveredModel[] {
  const out: DiscoveredModel[] = [];
  const mmprojs = files.filter((f) => f.role === 'mmproj');
  for (const model of files.filter((f) => f.role === 'model')) {
    const candidates = mmprojs
      .filter((m) => dirname(m.path) === dirname(model.path))
      .map((m) => ({ m, problem: pairProblem(model, m) }))
      .filter((c) => c.problem === undefined || c.problem.code === 'MMPROJ_OUTDATED')
      .sort(
        (a, b) =>
          prefixLength(b.m.path, model.path) - prefixLength(a.m.path, model.path) ||
          Number(a.problem !== undefined) - Number(b.problem !== undefined),
      );
    const best = candidates[0];
    out.push({
      source,
      name: relative(root, model.path).replace(/\.gguf$/i, ''),
      modelPath: model.path,
      mmprojPath: best?.m.path,
      sizeBytes: model.sizeBytes + (best?.m.sizeBytes ?? 0),
      status: !best ? 'no-mmproj' : best.problem ? 'needs-repair' : 'ready',
    });
  }
  return out;
}

interface OllamaManifest {
  layers?: { mediaType?: string; digest?: string }[];
}

const blobPath = (root: string, digest: string): string =>
  join(root, 'blobs', digest.replace(':', '-'));

/** Ollama keeps `manifests/<registry>/<namespace>/<model>/<tag>` JSON naming blob digests. */
async function discoverOllama(root: string, maxFiles: number): Promise<DiscoveredModel[]> {
  const manifestsDir = join(root, 'manifests');
  const out: DiscoveredModel[] = [];
  const walk = async (dir: string, depth: number): Promise<void> => {
    if (depth > 4 || out.length >= maxFiles) return;
    let entries;
    try {
      entries = await readdir(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) {
        await walk(path, depth + 1);
        continue;
      }
      let manifest: OllamaManifest;
      try {
        manifest = JSON.parse(await readFile(path, 'utf8')) as OllamaManifest;
      } catch {
        continue;
      }
      const digestOf = (type: string): string | undefined =>
        manifest.layers?.find((l) => l.mediaType === `application/vnd.ollama.image.${type}`)
          ?.digest;
      const modelDigest = digestOf('model');
      if (!modelDigest) continue;
      const model = await inspectGguf(blobPath(root, modelDigest)).catch(() => undefined);
      if (!model || model.role !== 'model') continue;
      const projectorDigest = digestOf('projector');
      const mmproj = projectorDigest
        ? await inspectGguf(blobPath(root, projectorDigest)).catch(() => undefined)
        : undefined;
      const problem = mmproj ? pairProblem(model, mmproj) : undefined;
      const usable = mmproj && (!problem || problem.code === 'MMPROJ_OUTDATED');
      const [, namespace, name] = relative(manifestsDir, dirname(path)).split(/[\\/]/);
      out.push({
        source: 'ollama',
        name: `${namespace && namespace !== 'library' ? `${namespace}/` : ''}${name ?? '?'}:${entry.name}`,
        modelPath: model.path,
        mmprojPath: usable ? mmproj.path : undefined,
        sizeBytes: model.sizeBytes + (usable ? mmproj.sizeBytes : 0),
        status: !usable ? 'no-mmproj' : problem ? 'needs-repair' : 'ready',
      });
    }
  };
  await walk(manifestsDir, 0);
  return out;
}

/**
 * Models other apps already downloaded (LM Studio, Jan, llama.cpp's cache, Ollama), with their
 * projectors paired, for the user to import instead of downloading again.
 */
export async function discoverModels(options: DiscoveryOptions = {}): Promise<DiscoveredModel[]> {
  const roots = { ...defaultDiscoveryRoots(), ...options.roots };
  const maxDepth = options.maxDepth ?? 6;
  const maxFiles = options.maxFiles ?? 500;
  const found: DiscoveredModel[] = [];
  for (const source of ['lmstudio', 'jan', 'llama.cpp'] as const) {
    for (const root of roots[source]) {
      const files = await inspectAll(await findGgufFiles(root, maxDepth, maxFiles));
      found.push(...pairInFolders(source, root, files));
    }
  }
  for (const root of roots.ollama) found.push(...(await discoverOllama(root, maxFiles)));
  return found;
}
