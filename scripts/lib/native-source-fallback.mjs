// Where no prebuilt node-llama-cpp variant can be linked (an unknown platform, prebuilt binaries
// from another llama.cpp release, or LLAVA_DESK_NATIVE_FROM_SOURCE=1), node-llama-cpp is built
// from the llama.cpp source it ships, with its own commands, and the bridge links that build:
//   node-llama-cpp source download --skipBuild   (clones its git bundle offline, applies its own
//                                                 patches; skipped when already cloned)
//   node-llama-cpp source build --gpu <gpu>      (compiles into llama/localBuilds/<name>/Release)
// node-llama-cpp loads a local build before any prebuilt one, so the app then runs on exactly
// the libraries the bridge was linked against.
//
// That build compiles llama.cpp from node-llama-cpp's own checkout (llama/llama.cpp), not from
// native/build/llama.cpp: libmtmd (the only llama.cpp code the bridge compiles itself) still
// comes from native/build/llama.cpp, as with prebuilt binaries.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

export class SourceBuildError extends Error {}

/**
 * Why the bridge has to use a source build, or undefined when a prebuilt variant will do.
 * @param {{ platformSupported: boolean, variants: readonly { release?: string }[], tag: string, env?: NodeJS.ProcessEnv }} o
 */
export function sourceBuildReason({ platformSupported, variants, tag, env = process.env }) {
  if (env.LLAVA_DESK_NATIVE_FROM_SOURCE === '1') return 'LLAVA_DESK_NATIVE_FROM_SOURCE=1';
  if (!platformSupported) return 'node-llama-cpp has no prebuilt binaries for this platform';
  if (variants.length === 0)
    return 'no node-llama-cpp prebuilt binaries are installed for this platform';
  if (variants.every((v) => v.release && v.release !== tag))
    return `the installed prebuilt binaries were built from llama.cpp ${variants[0]?.release}, not ${tag}`;
  return undefined;
}

/** @param {string} path */
function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/**
 * @param {string} nlcDir node_modules/node-llama-cpp
 * @param {string[]} args
 * @param {(line: string) => void} log
 * @param {boolean} verbose
 */
function runNodeLlamaCppCli(nlcDir, args, log, verbose) {
  const cli = join(nlcDir, 'dist', 'cli', 'cli.js');
  log(`node-llama-cpp ${args.join(' ')}`);
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [cli, ...args], {
      stdio: ['ignore', verbose ? 'inherit' : 'pipe', verbose ? 'inherit' : 'pipe'],
    });
    /** @type {string[]} */
    const tail = [];
    const keep = (/** @type {Buffer} */ b) => {
      for (const line of String(b).split('\n')) {
        if (!line.trim()) continue;
        tail.push(line);
        if (tail.length > 60) tail.shift();
        const step = /^\[(\d+)\/(\d+)\]/.exec(line);
        if (step && Number(step[1]) % 20 === 0)
          log(`  node-llama-cpp build step ${step[1]}/${step[2]}`);
      }
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (err) => reject(new SourceBuildError(String(err))));
    child.on('close', (code) => {
      if (code === 0) resolve(undefined);
      else {
        if (!verbose) console.error(tail.join('\n'));
        reject(
          new SourceBuildError(
            `"node-llama-cpp ${args.join(' ')}" failed (exit ${code}; its last output is above)`,
          ),
        );
      }
    });
  });
}

/**
 * The finished local builds of node-llama-cpp (folder, gpu, release, time), newest first.
 * @param {string} nlcDir
 */
export function localBuilds(nlcDir) {
  const root = join(nlcDir, 'llama', 'localBuilds');
  if (!existsSync(root)) return [];
  const builds = [];
  for (const name of readdirSync(root)) {
    const dir = join(root, name, 'Release');
    const meta = readJson(join(dir, '_nlcBuildMetadata.json'));
    if (!meta || !existsSync(join(root, name, 'buildDone.status'))) continue;
    builds.push({
      name,
      dir,
      gpu: meta.buildOptions?.gpu ?? false,
      release: meta.buildOptions?.llamaCpp?.release,
      mtimeMs: statSync(join(dir, '_nlcBuildMetadata.json')).mtimeMs,
    });
  }
  return builds.sort((a, b) => b.mtimeMs - a.mtimeMs);
}

/**
 * Builds node-llama-cpp from its bundled llama.cpp source (unless a finished local build for
 * this release and GPU type exists) and returns that build's folder.
 * `afterCheckout` runs on node-llama-cpp's llama.cpp checkout before it is compiled (e.g. to apply
 * the same source patches as native/build/llama.cpp gets, where they touch libllama/libggml).
 * @param {{ nlcDir: string, tag: string, gpu: string, log: (line: string) => void, verbose: boolean, force: boolean, afterCheckout?: (llamaCppDir: string) => void | Promise<void> }} o
 */
export async function buildNodeLlamaCppFromSource({
  nlcDir,
  tag,
  gpu,
  log,
  verbose,
  force,
  afterCheckout,
}) {
  const wanted = (/** @type {{ gpu: string | false, release?: string }} */ b) =>
    b.release === tag && (gpu === 'auto' || String(b.gpu) === gpu);
  const existing = localBuilds(nlcDir).find(wanted);
  if (existing && !force) {
    log(`node-llama-cpp local build ${existing.name} (llama.cpp ${tag}) already exists`);
    return existing;
  }
  const cloneInfo = readJson(join(nlcDir, 'llama', 'llama.cpp.info.json'));
  if (!existsSync(join(nlcDir, 'llama', 'llama.cpp', '.git')) || cloneInfo?.tag !== tag) {
    await runNodeLlamaCppCli(
      nlcDir,
      ['source', 'download', '--skipBuild', '--noUsageExample'],
      log,
      verbose,
    );
  }
  await afterCheckout?.(join(nlcDir, 'llama', 'llama.cpp'));
  await runNodeLlamaCppCli(
    nlcDir,
    ['source', 'build', '--gpu', gpu, '--noUsageExample'],
    log,
    verbose,
  );
  const built = localBuilds(nlcDir).find(wanted);
  if (!built)
    throw new SourceBuildError(
      `node-llama-cpp's source build finished but no local build for llama.cpp ${tag} (gpu ${gpu}) is in ${join(nlcDir, 'llama', 'localBuilds')}`,
    );
  return built;
}
