#!/usr/bin/env node
// Builds llava-desk's native multimodal bridge (native/) for every node-llama-cpp binary variant
// installed for this platform, plus upstream `llama-mtmd-cli` (used by tests and benchmarks) and
// `llama-batched-bench` (the batch benchmark's ceiling).
//
// How it works: node-llama-cpp ships the llama.cpp source it was built from as a git bundle and
// prebuilt libllama/libggml per variant (CPU, CUDA, Vulkan, ...). We compile llama.cpp's libmtmd
// from that exact source plus our N-API classes and link them against each variant's *prebuilt*
// libraries, so at run time the addon shares node-llama-cpp's single llama/ggml instance.
//
// Linux, macOS and Windows (platform specifics: scripts/lib/native-platform.mjs). Where no prebuilt
// variant can be linked, node-llama-cpp is built from its bundled source first and the bridge is
// linked against that build (scripts/lib/native-source-fallback.mjs).
//
// Usage: node scripts/build-native.mjs [--variant <name>] [--force] [--verbose]
//   --variant <name>  build only this variant (e.g. linux-x64, linux-x64-cuda, linux-x64-vulkan)
//   --force           wipe native/build (source checkout, cmake tree, outputs) and rebuild
//   --verbose         stream the compiler output
// Env: LLAVA_DESK_BUILD_JOBS (parallel jobs, default: available cores), CXX / CC (compilers),
//      LLAVA_DESK_NATIVE_FROM_SOURCE=1 (link against node-llama-cpp built from source even where
//      prebuilt binaries exist), LLAVA_DESK_NATIVE_SOURCE_GPU (that build's --gpu, default auto),
//      LLAVA_DESK_NATIVE_DIR (output folder instead of native/build; the app reads the same).
//
// Outputs: native/build/<variant>/llava_desk_mtmd.node (+ build-info.json)
//          native/build/bin/llama-mtmd-cli, native/build/bin/llama-batched-bench
//          native/build/bin/llava-desk-mtmd-embed(-upstream) (diagnostic, docs/UPSTREAM.md)
//          native/build/bin/llava-desk-mtmd-ask(-upstream) (a plain libmtmd answer: bench:engine's
//          floor, eval:shapes-model's patched and unpatched columns)
//          native/build/bench/<CPU variant>/llava_desk_mtmd.node: the addon plus libmtmd's own image
//          loader and tokenizer (native/bench/), for the imaging benchmark and tests; never packaged
// The llama.cpp source gets llava-desk's patch series (native/patches) before anything is built.

import { spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  lstatSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  unlinkSync,
  writeFileSync,
} from 'node:fs';
import { availableParallelism } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  cmakeGenerator,
  installHint,
  isSupportedPlatform,
  platformPrefix,
  runtimeSearchPath,
  variantLibraries,
  windowsMachine,
  writeModuleDefinitions,
} from './lib/native-platform.mjs';
import {
  SourceBuildError,
  buildNodeLlamaCppFromSource,
  sourceBuildReason,
} from './lib/native-source-fallback.mjs';

import { LlamaPatchError, applyLlamaPatches, writePristineSources } from './lib/llama-patches.mjs';

// ---- pinned versions: the native code is written against exactly this llama.cpp ----------------
const EXPECTED_NODE_LLAMA_CPP_VERSION = '3.22.1';
const EXPECTED_LLAMA_CPP_TAG = 'v0.5.0';
const MIN_CMAKE_VERSION = [3, 19];

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NATIVE_DIR = join(ROOT, 'native');
const BUILD_DIR = process.env.LLAVA_DESK_NATIVE_DIR
  ? resolve(process.env.LLAVA_DESK_NATIVE_DIR)
  : join(NATIVE_DIR, 'build');
const PLATFORM = process.platform;
const SRC_DIR = join(BUILD_DIR, 'llama.cpp');
const CMAKE_DIR = join(BUILD_DIR, 'cmake');
const BIN_DIR = join(BUILD_DIR, 'bin');
const BENCH_DIR = join(BUILD_DIR, 'bench'); // the imaging benchmark's addon, never packaged
const PATCHES_DIR = join(NATIVE_DIR, 'patches');
const UPSTREAM_SRC_DIR = join(BUILD_DIR, 'llama.cpp-upstream');
const CPU_ONLY_SUFFIXES = new Set(['']); // variant name == `${platform}-${arch}` is the CPU build

const started = Date.now();
const log = (msg) => console.log(`build-native: ${msg}`);
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;

class BuildError extends Error {}
const fail = (msg) => {
  throw new BuildError(msg);
};

// ---- args --------------------------------------------------------------------------------------
function parseArgs(argv) {
  const out = { variant: undefined, force: false, verbose: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--force') out.force = true;
    else if (a === '--verbose') out.verbose = true;
    else if (a === '--variant') {
      out.variant = argv[++i];
      if (!out.variant) fail('--variant needs a name, e.g. --variant linux-x64');
    } else if (a.startsWith('--variant=')) out.variant = a.slice('--variant='.length);
    else if (a === '--help' || a === '-h') {
      console.log('usage: node scripts/build-native.mjs [--variant <name>] [--force] [--verbose]');
      process.exit(0);
    } else
      fail(
        `unknown argument "${a}" (usage: node scripts/build-native.mjs [--variant <name>] [--force] [--verbose])`,
      );
  }
  return out;
}

// ---- helpers -----------------------------------------------------------------------------------
function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  return {
    ok: r.status === 0 && !r.error,
    status: r.status,
    stdout: r.stdout ?? '',
    stderr: r.stderr ?? '',
    error: r.error,
  };
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

function writeIfChanged(path, content) {
  if (existsSync(path) && readFileSync(path, 'utf8') === content) return false;
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, content);
  return true;
}

// Streams a long build; prints condensed progress, keeps the tail for error reports.
function runBuild(cmd, args, { verbose, label }) {
  return new Promise((resolvePromise) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    const tail = [];
    let lastReport = Date.now();
    let buffered = '';
    const onData = (chunk) => {
      const text = chunk.toString();
      if (verbose) process.stdout.write(text);
      buffered += text;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        tail.push(line);
        if (tail.length > 400) tail.shift();
        const m = /^\[(\d+)\/(\d+)\]/.exec(line) ?? /^\[\s*(\d+)%\]/.exec(line);
        if (m && !verbose) {
          const now = Date.now();
          if (now - lastReport > 10000) {
            lastReport = now;
            log(`${label}: ${m[2] ? `step ${m[1]}/${m[2]}` : `${m[1]}%`} (${elapsed()})`);
          }
        }
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.on('error', (err) => resolvePromise({ ok: false, tail: [String(err)] }));
    child.on('close', (status) => {
      if (buffered) tail.push(buffered);
      resolvePromise({ ok: status === 0, tail });
    });
  });
}

function firstErrorLine(tail) {
  const line =
    tail.find((l) => /undefined reference|cannot find -l|error:|No such file/i.test(l)) ??
    tail.filter((l) => l.trim()).slice(-1)[0] ??
    'unknown error';
  return line.trim().slice(0, 300);
}

// ---- checks ------------------------------------------------------------------------------------
function checkToolchain() {
  const cmake = run('cmake', ['--version']);
  if (!cmake.ok)
    fail(`cmake was not found. ${installHint('cmake')}, then run "npm run build:native" again.`);
  const ver = /cmake version (\d+)\.(\d+)/.exec(cmake.stdout);
  if (ver) {
    const [maj, min] = [Number(ver[1]), Number(ver[2])];
    if (
      maj < MIN_CMAKE_VERSION[0] ||
      (maj === MIN_CMAKE_VERSION[0] && min < MIN_CMAKE_VERSION[1])
    ) {
      fail(
        `cmake ${maj}.${min} is too old (need >= ${MIN_CMAKE_VERSION.join('.')}). ${installHint('cmake')}.`,
      );
    }
  }
  // On Windows CMake finds Visual Studio's compiler itself (cl.exe is on PATH only inside a
  // developer prompt); a missing one fails the configure step with CMake's own message.
  const msvcOnPath = PLATFORM === 'win32' && run('where', ['cl']).ok;
  const cxxCandidates = process.env.CXX ? [process.env.CXX] : ['c++', 'g++', 'clang++'];
  const cxx =
    PLATFORM === 'win32' && !process.env.CXX
      ? 'MSVC'
      : cxxCandidates.find((c) => run(c, ['--version']).ok);
  if (!cxx) {
    fail(
      `no C++ compiler found (tried ${cxxCandidates.join(', ')}). ` +
        `${installHint(process.platform === 'linux' ? 'g++' : 'a C++ compiler')}, or set CXX, then run "npm run build:native" again.`,
    );
  }
  const git = run('git', ['--version']);
  if (!git.ok)
    fail(
      `git was not found (needed to unpack the llama.cpp source bundle offline). ${installHint('git')}.`,
    );
  const ninja = run('ninja', ['--version']).ok;
  const ccache = run('ccache', ['--version']).ok;
  return { cmakeVersion: ver ? `${ver[1]}.${ver[2]}` : '?', cxx, ninja, ccache, msvcOnPath };
}

function findNodeLlamaCpp() {
  const dir = join(ROOT, 'node_modules', 'node-llama-cpp');
  const pkg = readJson(join(dir, 'package.json'));
  if (!pkg)
    fail(
      'node-llama-cpp is not installed (node_modules/node-llama-cpp missing). Run "npm install" first.',
    );
  if (pkg.version !== EXPECTED_NODE_LLAMA_CPP_VERSION) {
    fail(
      `node-llama-cpp ${pkg.version} is installed but the native bridge is pinned to ${EXPECTED_NODE_LLAMA_CPP_VERSION} ` +
        `(its llama.cpp ABI). Install node-llama-cpp@${EXPECTED_NODE_LLAMA_CPP_VERSION}, or update ` +
        'EXPECTED_NODE_LLAMA_CPP_VERSION / EXPECTED_LLAMA_CPP_TAG in scripts/build-native.mjs after checking native/src against the new llama.cpp.',
    );
  }
  const info = readJson(join(dir, 'llama', 'llama.cpp.info.json'));
  if (!info || info.tag !== EXPECTED_LLAMA_CPP_TAG) {
    fail(
      `node-llama-cpp's llama/llama.cpp.info.json says tag "${info?.tag ?? '(missing)'}", expected "${EXPECTED_LLAMA_CPP_TAG}". ` +
        'Reinstall node-llama-cpp (npm ci) so its bundled llama.cpp source matches.',
    );
  }
  const bundle = join(dir, 'llama', 'gitRelease.bundle');
  if (!existsSync(bundle))
    fail(
      `${bundle} is missing: the llama.cpp source bundle is needed. Reinstall node-llama-cpp (npm ci).`,
    );
  return { dir, bundle, version: pkg.version, tag: info.tag };
}

// ---- llama.cpp source --------------------------------------------------------------------------
function prepareSource(nlc, force) {
  const heads = run('git', ['bundle', 'list-heads', nlc.bundle]);
  if (!heads.ok) fail(`cannot read ${nlc.bundle}: ${heads.stderr.trim()}`);
  const headCommit = heads.stdout.trim().split(/\s+/)[0];
  const marker = join(SRC_DIR, '.llava-desk-source.json');
  const have = readJson(marker);
  if (
    !force &&
    have &&
    have.tag === nlc.tag &&
    have.commit === headCommit &&
    existsSync(join(SRC_DIR, 'tools', 'mtmd', 'mtmd.h'))
  ) {
    log(
      `llama.cpp source ${nlc.tag} (${headCommit.slice(0, 10)}) already at native/build/llama.cpp`,
    );
    return { commit: headCommit };
  }
  log(`unpacking llama.cpp ${nlc.tag} from node-llama-cpp's git bundle (offline)...`);
  rmSync(SRC_DIR, { recursive: true, force: true });
  mkdirSync(BUILD_DIR, { recursive: true });
  const clone = run('git', ['clone', '--quiet', '--no-checkout', nlc.bundle, SRC_DIR]);
  if (!clone.ok) fail(`git clone of the bundle failed: ${clone.stderr.trim()}`);
  const co = run('git', [
    '-C',
    SRC_DIR,
    '-c',
    'advice.detachedHead=false',
    'checkout',
    '--quiet',
    '--detach',
    headCommit,
  ]);
  if (!co.ok) fail(`git checkout failed: ${co.stderr.trim()}`);
  run('git', ['-C', SRC_DIR, 'tag', '-f', nlc.tag, headCommit]);
  writeFileSync(marker, JSON.stringify({ tag: nlc.tag, commit: headCommit }, null, 2) + '\n');
  return { commit: headCommit };
}

// ---- variants ------------------------------------------------------------------------------------
function discoverVariants() {
  const scopeDir = join(ROOT, 'node_modules', '@node-llama-cpp');
  const prefix = platformPrefix();
  const variants = [];
  if (!existsSync(scopeDir) || !isSupportedPlatform(PLATFORM)) return variants;
  for (const pkg of readdirSync(scopeDir).sort()) {
    const binsRoot = join(scopeDir, pkg, 'bins');
    if (!existsSync(binsRoot)) continue;
    for (const name of readdirSync(binsRoot).sort()) {
      if (name !== prefix && !name.startsWith(`${prefix}-`)) continue;
      const binsDir = join(binsRoot, name);
      const meta = readJson(join(binsDir, '_nlcBuildMetadata.json'));
      const found = variantFromFolder(name, binsDir, meta, prefix);
      if (found) variants.push({ ...found, pkg });
    }
  }
  return variants;
}

// One folder of node-llama-cpp libraries (a prebuilt variant or a local source build).
function variantFromFolder(name, binsDir, meta, prefix = platformPrefix()) {
  const libs = isSupportedPlatform(PLATFORM)
    ? variantLibraries(readdirSync(binsDir), PLATFORM)
    : variantLibraries(readdirSync(binsDir), 'linux');
  if (!libs) return undefined;
  return {
    name,
    binsDir,
    gpu: meta?.buildOptions?.gpu ?? false,
    release: meta?.buildOptions?.llamaCpp?.release,
    isCpu: CPU_ONLY_SUFFIXES.has(name.slice(prefix.length)),
    libs: libs.link.map((f) => join(binsDir, f)),
    common: libs.common ? join(binsDir, libs.common) : undefined,
    backends: libs.backends,
  };
}

// Where no prebuilt variant can be linked: node-llama-cpp built from its bundled source.
async function sourceBuiltVariant(nlc, args) {
  const gpu = process.env.LLAVA_DESK_NATIVE_SOURCE_GPU || 'auto';
  const build = await buildNodeLlamaCppFromSource({
    nlcDir: nlc.dir,
    tag: nlc.tag,
    gpu,
    log,
    verbose: args.verbose,
    force: args.force,
  });
  const meta = readJson(join(build.dir, '_nlcBuildMetadata.json'));
  const prefix = platformPrefix();
  // named like the variant node-llama-cpp reports for this build (binding.ts: variantForLlama)
  const name = build.gpu === false ? prefix : `${prefix}-${build.gpu}`;
  const variant = variantFromFolder(name, build.dir, meta, prefix);
  if (!variant) fail(`node-llama-cpp's local build in ${build.dir} lacks libllama/libggml`);
  return { ...variant, pkg: 'node-llama-cpp (source build)', fromSource: true };
}

const cmakeQuote = (s) => `"${s.replace(/\\/g, '/').replace(/"/g, '\\"')}"`;

// What the linker gets for a variant's libraries: the libraries themselves, or on Windows .def
// files that native/CMakeLists.txt turns into import libraries.
function linkInputs(v, files) {
  if (PLATFORM !== 'win32') return files;
  return writeModuleDefinitions(files, join(CMAKE_DIR, 'import-libs', v.name));
}

function variantsCmake(variants, cliVariant) {
  const lines = ['# generated by scripts/build-native.mjs; do not edit'];
  const platform = isSupportedPlatform(PLATFORM) ? PLATFORM : 'linux';
  for (const v of variants) {
    const rpath = runtimeSearchPath(platform, join(BUILD_DIR, v.name), v.binsDir);
    lines.push(
      `llava_desk_add_variant(${[v.name, v.binsDir, rpath, ...linkInputs(v, v.libs)].map(cmakeQuote).join(' ')})`,
    );
  }
  if (cliVariant) {
    const rpath = runtimeSearchPath(platform, BIN_DIR, cliVariant.binsDir);
    const [common, ...libs] = linkInputs(cliVariant, [cliVariant.common, ...cliVariant.libs]);
    lines.push(
      `llava_desk_add_cli(${[cliVariant.binsDir, rpath, common, ...libs].map(cmakeQuote).join(' ')})`,
    );
    const benchRpath = runtimeSearchPath(
      platform,
      join(BENCH_DIR, cliVariant.name),
      cliVariant.binsDir,
    );
    const benchLibs = linkInputs(cliVariant, cliVariant.libs);
    lines.push(
      `llava_desk_add_bench_addon(${[cliVariant.name, cliVariant.binsDir, benchRpath, ...benchLibs].map(cmakeQuote).join(' ')})`,
    );
  }
  return lines.join('\n') + '\n';
}

// llama-mtmd-cli loads ggml backends from its own folder: link the CPU variant's backend libs there.
// On Windows (no rpath) the tools need every DLL of the variant beside them: copies.
function linkCliBackends(cpu) {
  mkdirSync(BIN_DIR, { recursive: true });
  if (PLATFORM === 'win32') {
    for (const dll of [...cpu.libs, cpu.common, ...cpu.backends.map((f) => join(cpu.binsDir, f))])
      if (dll) copyFileSync(dll, join(BIN_DIR, basename(dll)));
    return;
  }
  for (const f of cpu.backends) {
    const dst = join(BIN_DIR, f);
    const target = join(cpu.binsDir, f);
    let ok = false;
    try {
      ok = lstatSync(dst).isSymbolicLink() && readlinkSync(dst) === target;
      if (!ok) unlinkSync(dst);
    } catch {
      // missing
    }
    if (!ok) symlinkSync(target, dst);
  }
}

// ---- main --------------------------------------------------------------------------------------
async function main() {
  const args = parseArgs(process.argv.slice(2));
  const tools = checkToolchain();
  log(
    `toolchain: cmake ${tools.cmakeVersion}, ${tools.cxx}, ${tools.ninja ? 'ninja' : 'make'}${tools.ccache ? ', ccache' : ''}`,
  );
  const nlc = findNodeLlamaCpp();
  log(`node-llama-cpp ${nlc.version}, llama.cpp ${nlc.tag}`);

  if (args.force) {
    log('--force: removing native/build');
    rmSync(BUILD_DIR, { recursive: true, force: true });
  }
  const src = prepareSource(nlc, args.force);
  // llava-desk's fixes to llama.cpp (native/patches, docs/UPSTREAM.md), before anything is compiled
  const patched = applyLlamaPatches({ srcDir: SRC_DIR, patchesDir: PATCHES_DIR, log });
  const patchedSources = writePristineSources({ srcDir: SRC_DIR, outDir: UPSTREAM_SRC_DIR });

  let all = discoverVariants();
  const fromSource = sourceBuildReason({
    platformSupported: isSupportedPlatform(PLATFORM),
    variants: all,
    tag: nlc.tag,
  });
  if (fromSource) {
    log(`linking against node-llama-cpp built from its bundled source (${fromSource})`);
    all = [await sourceBuiltVariant(nlc, args)];
  } else {
    // prebuilt binaries of another llama.cpp release cannot be linked against this source
    all = all.filter((v) => !v.release || v.release === nlc.tag);
  }
  let selected = all;
  if (args.variant) {
    selected = all.filter((v) => v.name === args.variant);
    if (selected.length === 0)
      fail(
        `variant "${args.variant}" is not installed; available: ${all.map((v) => v.name).join(', ')}`,
      );
  }
  const cpu = all.find((v) => v.isCpu);
  const cliVariant =
    cpu && cpu.common && (!args.variant || selected.includes(cpu)) ? cpu : undefined;
  log(
    `variants: ${selected.map((v) => `${v.name} (${v.libs.map((l) => basename(l)).join(', ')})`).join('; ')}`,
  );

  // configure (only when the generated inputs changed or there is no cache yet)
  const napiInclude = join(ROOT, 'node_modules', 'node-api-headers', 'include');
  const addonApiDir = join(ROOT, 'node_modules', 'node-addon-api');
  if (!existsSync(join(napiInclude, 'node_api.h')))
    fail('node-api-headers is not installed (needed for Node-API headers). Run "npm install".');
  if (!existsSync(join(addonApiDir, 'napi.h')))
    fail('node-addon-api is not installed. Run "npm install".');
  const generator = cmakeGenerator(isSupportedPlatform(PLATFORM) ? PLATFORM : 'linux', tools);
  const variantsFile = join(CMAKE_DIR, 'llava-desk-variants.cmake');
  const configureArgs = [
    '-S',
    NATIVE_DIR,
    '-B',
    CMAKE_DIR,
    ...generator.args,
    '-DCMAKE_BUILD_TYPE=Release',
    `-DLLAVA_DESK_LLAMA_SRC=${SRC_DIR}`,
    `-DLLAVA_DESK_NODE_API_INCLUDE=${napiInclude}`,
    `-DLLAVA_DESK_NODE_ADDON_API_DIR=${addonApiDir}`,
    `-DLLAVA_DESK_VARIANTS_FILE=${variantsFile}`,
    `-DLLAVA_DESK_OUT_DIR=${BUILD_DIR}`,
    ...(PLATFORM === 'win32'
      ? [
          `-DLLAVA_DESK_LIB_MACHINE=${windowsMachine()}`,
          `-DLLAVA_DESK_NODE_API_DEF=${join(ROOT, 'node_modules', 'node-api-headers', 'def', 'node_api.def')}`,
        ]
      : []),
    `-DLLAVA_DESK_PATCHED_SOURCES=${patchedSources.join(';')}`,
    `-DLLAVA_DESK_UPSTREAM_DIR=${UPSTREAM_SRC_DIR}`,
    ...(tools.ccache
      ? ['-DCMAKE_C_COMPILER_LAUNCHER=ccache', '-DCMAKE_CXX_COMPILER_LAUNCHER=ccache']
      : []),
    ...(process.env.CXX ? [`-DCMAKE_CXX_COMPILER=${process.env.CXX}`] : []),
    ...(process.env.CC ? [`-DCMAKE_C_COMPILER=${process.env.CC}`] : []),
  ];
  const stampPath = join(CMAKE_DIR, '.llava-desk-configure.json');
  const stamp = JSON.stringify({ configureArgs, commit: src.commit, patches: patched.fingerprint });
  const prevStamp = existsSync(stampPath) ? readFileSync(stampPath, 'utf8') : '';
  const cacheFile = join(CMAKE_DIR, 'CMakeCache.txt');
  if (
    existsSync(cacheFile) &&
    !readFileSync(cacheFile, 'utf8').includes(`CMAKE_GENERATOR:INTERNAL=${generator.name}`)
  ) {
    rmSync(CMAKE_DIR, { recursive: true, force: true });
  }
  // every installed variant gets a target; only the selected ones are built
  const variantsChanged = writeIfChanged(
    variantsFile,
    variantsCmake(all, cpu?.common ? cpu : undefined),
  );
  if (!existsSync(cacheFile) || prevStamp !== stamp) {
    log('configuring (cmake)...');
    const r = run('cmake', configureArgs);
    if (!r.ok) {
      console.error((r.stdout + r.stderr).split('\n').slice(-40).join('\n'));
      fail('cmake configure failed (see above)');
    }
    writeFileSync(stampPath, stamp);
  } else if (variantsChanged) {
    log('variant list changed; cmake will re-configure');
  }

  const jobs = Math.max(1, Number(process.env.LLAVA_DESK_BUILD_JOBS) || availableParallelism());
  const buildTargets = async (label, targets) =>
    runBuild(
      'cmake',
      // --config: multi-config generators (Visual Studio) build Debug unless told
      [
        '--build',
        CMAKE_DIR,
        '--config',
        'Release',
        '--parallel',
        String(jobs),
        '--target',
        ...targets,
      ],
      {
        verbose: args.verbose,
        label,
      },
    );

  // 1) CPU variant (+ CLI): must build
  const built = [];
  const skipped = [];
  const ordered = [...selected].sort((a, b) => Number(b.isCpu) - Number(a.isCpu));
  for (const v of ordered) {
    const targets = [`llava_desk_mtmd_${v.name}`];
    if (v === cliVariant)
      targets.push(
        'llama-mtmd-cli',
        'llama-batched-bench',
        'llava_desk_mtmd_bench',
        'llava-desk-mtmd-embed',
        'llava-desk-mtmd-embed-upstream',
        'llava-desk-mtmd-ask',
        'llava-desk-mtmd-ask-upstream',
      );
    log(
      `building ${v.name}${v === cliVariant ? ' + llama-mtmd-cli, llama-batched-bench' : ''} (-j${jobs})...`,
    );
    const r = await buildTargets(v.name, targets);
    if (!r.ok) {
      if (v.isCpu) {
        console.error(r.tail.slice(-60).join('\n'));
        fail(`the CPU variant ${v.name} failed to build (see above)`);
      }
      const reason = firstErrorLine(r.tail);
      log(`skipping ${v.name}: ${reason}`);
      skipped.push(v.name);
      continue;
    }
    writeIfChanged(
      join(BUILD_DIR, v.name, 'build-info.json'),
      JSON.stringify(
        {
          variant: v.name,
          gpu: v.gpu,
          binsDir: v.binsDir,
          libs: v.libs.map((l) => basename(l)),
          ...(v.fromSource ? { source: 'node-llama-cpp source build' } : {}),
          nodeLlamaCpp: nlc.version,
          llamaCpp: { tag: nlc.tag, commit: src.commit, patches: patched.patches },
        },
        null,
        2,
      ) + '\n',
    );
    built.push(v.name);
  }
  if (cliVariant && built.includes(cliVariant.name)) linkCliBackends(cliVariant);

  log(
    `done in ${elapsed()}: built ${built.join(', ') || 'nothing'}${skipped.length ? `; skipped ${skipped.join(', ')}` : ''}`,
  );
  for (const name of built) log(`  native/build/${name}/llava_desk_mtmd.node`);
  if (cliVariant && built.includes(cliVariant.name)) {
    log('  native/build/bin/llama-mtmd-cli');
    log('  native/build/bin/llama-batched-bench');
    log(`  native/build/bench/${cliVariant.name}/llava_desk_mtmd.node (imaging benchmark)`);
  }
}

main().catch((err) => {
  if (
    err instanceof BuildError ||
    err instanceof SourceBuildError ||
    err instanceof LlamaPatchError
  ) {
    console.error(`build-native: error: ${err.message}`);
  } else {
    console.error('build-native: unexpected error:', err);
  }
  process.exit(1);
});
