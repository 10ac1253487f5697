// Applies llava-desk's patch series (native/patches/NNNN-*.patch, git format-patch files) to the
// llama.cpp source checkout before anything is compiled from it. See docs/UPSTREAM.md for what
// each patch fixes and its upstream status.
//
// - Idempotent: a marker file in the checkout records the fingerprint (patch names + contents) of
//   the series it carries; an already-patched tree is detected and left alone.
// - A changed series (a patch added, edited or removed) resets the tracked files to the checkout's
//   commit and applies the new series, so the build recompiles what changed.
// - A patch that no longer applies (after a llama.cpp update) fails the build with a message
//   naming the patch, leaving the tree unpatched.
// - writePristineSources() extracts the unpatched version of every file the series touches, so
//   diagnostic tools can be built from the upstream source as well (native/CMakeLists.txt).

import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const MARKER = '.llava-desk-patches.json';
const PATCH_NAME = /^\d{4}-[\w.-]+\.patch$/;

export class LlamaPatchError extends Error {}

function git(srcDir, args) {
  const r = spawnSync('git', ['-C', srcDir, ...args], { encoding: 'utf8' });
  return { ok: r.status === 0 && !r.error, stdout: r.stdout ?? '', stderr: r.stderr ?? '' };
}

/** The series in apply order (file name order), with a fingerprint over names and contents. */
export function readPatchSeries(patchesDir) {
  const names = existsSync(patchesDir)
    ? readdirSync(patchesDir)
        .filter((n) => n.endsWith('.patch'))
        .sort()
    : [];
  const bad = names.find((n) => !PATCH_NAME.test(n));
  if (bad) {
    throw new LlamaPatchError(
      `native/patches/${bad}: patch files must be named NNNN-description.patch (git format-patch)`,
    );
  }
  const hash = createHash('sha256');
  const patches = names.map((name) => {
    const path = join(patchesDir, name);
    const content = readFileSync(path);
    hash.update(name).update('\0').update(content).update('\0');
    return { name, path };
  });
  return { patches, fingerprint: hash.digest('hex').slice(0, 16) };
}

function readMarker(srcDir) {
  try {
    return JSON.parse(readFileSync(join(srcDir, MARKER), 'utf8'));
  } catch {
    return undefined;
  }
}

/** Whether every patch of the series is already in the tree (checked in reverse order). */
function seriesIsApplied(srcDir, patches) {
  if (patches.length === 0) return git(srcDir, ['diff', '--quiet', 'HEAD']).ok;
  return git(srcDir, [
    'apply',
    '--reverse',
    '--check',
    ...[...patches].reverse().map((p) => p.path),
  ]).ok;
}

function resetTree(srcDir) {
  const r = git(srcDir, ['reset', '--quiet', '--hard', 'HEAD']);
  if (!r.ok) throw new LlamaPatchError(`cannot reset the llama.cpp checkout: ${r.stderr.trim()}`);
  rmSync(join(srcDir, MARKER), { force: true });
}

/**
 * Brings `srcDir` (a git checkout of llama.cpp, HEAD = the bundled release) to HEAD plus the
 * series in `patchesDir`. Returns { fingerprint, patches: [names], changed }.
 */
export function applyLlamaPatches({ srcDir, patchesDir, log = () => {} }) {
  const { patches, fingerprint } = readPatchSeries(patchesDir);
  const head = git(srcDir, ['rev-parse', 'HEAD']);
  if (!head.ok) throw new LlamaPatchError(`${srcDir} is not a git checkout: ${head.stderr.trim()}`);
  const commit = head.stdout.trim();
  const names = patches.map((p) => p.name);
  const marker = readMarker(srcDir);

  if (marker?.fingerprint === fingerprint && marker?.commit === commit) {
    if (seriesIsApplied(srcDir, patches)) {
      log(`llama.cpp patches: ${names.length} already applied (${fingerprint})`);
      return { fingerprint, patches: names, changed: false };
    }
    log('llama.cpp patches: the checkout was modified; re-applying the series');
  }

  resetTree(srcDir);
  for (const patch of patches) {
    const r = git(srcDir, ['apply', '--whitespace=nowarn', patch.path]);
    if (!r.ok) {
      resetTree(srcDir);
      throw new LlamaPatchError(
        `native/patches/${patch.name} no longer applies to llama.cpp ${commit.slice(0, 10)}:\n` +
          `${r.stderr.trim()}\n` +
          'If this llama.cpp release fixes what the patch fixed, delete the patch and update its ' +
          'entry in docs/UPSTREAM.md; otherwise rebase it onto the new source ' +
          '(git am in native/build/llama.cpp, then git format-patch).',
      );
    }
  }
  writeFileSync(
    join(srcDir, MARKER),
    JSON.stringify({ commit, fingerprint, patches: names }, null, 2) + '\n',
  );
  log(`llama.cpp patches: applied ${names.length ? names.join(', ') : 'none'} (${fingerprint})`);
  return { fingerprint, patches: names, changed: true };
}

/** True when the working tree's diff of `file` against HEAD removes no line (additions only). */
function onlyAddsLines(srcDir, file) {
  const r = git(srcDir, ['diff', '--unified=0', 'HEAD', '--', file]);
  if (!r.ok) throw new LlamaPatchError(`git diff ${file} failed: ${r.stderr.trim()}`);
  return !r.stdout.split('\n').some((line) => line.startsWith('-') && !line.startsWith('---'));
}

/**
 * Writes the unpatched (HEAD) version of every C/C++ source the applied series changes under
 * `outDir`, at the same relative paths, and returns those paths (the files the unpatched
 * diagnostic build compiles instead). A header may be patched only by adding lines (a new
 * function's declaration): both builds include the one patched header (two copies of it would
 * be two definitions of its types in one translation unit), which is faithful to upstream only
 * when the series adds to it and changes nothing in it. Any other header change is rejected.
 */
export function writePristineSources({ srcDir, outDir }) {
  const diff = git(srcDir, ['diff', '--name-only', 'HEAD']);
  if (!diff.ok)
    throw new LlamaPatchError(`git diff in the llama.cpp checkout failed: ${diff.stderr.trim()}`);
  const files = diff.stdout.split('\n').filter(Boolean).sort();
  const isSource = (f) => /\.(c|cpp)$/.test(f);
  const isHeader = (f) => /\.(h|hpp)$/.test(f);
  const rejected = files.filter((f) => !isSource(f) && !(isHeader(f) && onlyAddsLines(srcDir, f)));
  if (rejected.length) {
    throw new LlamaPatchError(
      `the patch series changes ${rejected.join(', ')}: the unpatched diagnostic build ` +
        '(native/CMakeLists.txt) can swap only .c/.cpp files for their upstream version, and ' +
        'take headers to which the series only adds lines',
    );
  }
  for (const file of files) {
    const dest = join(outDir, file);
    if (!isSource(file)) {
      rmSync(dest, { force: true }); // left by an earlier series
      continue;
    }
    const r = spawnSync('git', ['-C', srcDir, 'show', `HEAD:${file}`], { maxBuffer: 1 << 28 });
    if (r.status !== 0) throw new LlamaPatchError(`git show HEAD:${file} failed`);
    // unchanged files keep their timestamp, so the build does not recompile them
    if (existsSync(dest) && readFileSync(dest).equals(r.stdout)) continue;
    mkdirSync(dirname(dest), { recursive: true });
    writeFileSync(dest, r.stdout);
  }
  return files.filter(isSource);
}
