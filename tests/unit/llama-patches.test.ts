// The llama.cpp patch step (scripts/lib/llama-patches.mjs) on a small real git checkout.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LlamaPatchError,
  applyLlamaPatches,
  writePristineSources,
} from '../../scripts/lib/llama-patches.mjs';

let root: string;
let src: string;
let patches: string;

const git = (cwd: string, ...args: string[]): string =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.invalid', ...args], {
    cwd,
    encoding: 'utf8',
  });

/** A format-patch file changing `file`, on top of the series so far (as git format-patch makes). */
async function makePatch(name: string, file: string, from: string, to: string): Promise<void> {
  const scratch = join(root, `scratch-${name}`);
  git(root, 'clone', '-q', src, scratch);
  const earlier = (await readdir(patches)).sort().map((p) => join(patches, p));
  if (earlier.length) git(scratch, 'am', '-q', ...earlier);
  const path = join(scratch, file);
  await writeFile(path, (await readFile(path, 'utf8')).replace(from, to));
  git(scratch, 'commit', '-qam', `change ${file}`);
  await writeFile(join(patches, name), git(scratch, 'format-patch', '-1', '--stdout'));
}

beforeEach(async () => {
  root = await mkdtemp(join(tmpdir(), 'llava-desk-patches-'));
  src = join(root, 'llama.cpp');
  patches = join(root, 'patches');
  await mkdir(join(src, 'tools'), { recursive: true });
  await mkdir(patches);
  await writeFile(join(src, 'tools', 'graph.cpp'), text(1, 2));
  git(src, 'init', '-q');
  git(src, 'add', '.');
  git(src, 'commit', '-qm', 'upstream');
  await makePatch('0001-first.patch', 'tools/graph.cpp', 'first = 1', 'first = 10');
});

afterEach(async () => {
  await rm(root, { recursive: true, force: true });
});

/** The file the patches change: two lines far enough apart for separate patch contexts. */
const text = (first: number, second: number | string): string =>
  `int first = ${first};\n${'// ...\n'.repeat(8)}${typeof second === 'number' ? `int second = ${second};` : second}\n`;

const graph = (): Promise<string> => readFile(join(src, 'tools', 'graph.cpp'), 'utf8');

describe('applyLlamaPatches', () => {
  it('applies the series once and recognises an already-patched tree', async () => {
    const first = applyLlamaPatches({ srcDir: src, patchesDir: patches });
    expect(first).toMatchObject({ patches: ['0001-first.patch'], changed: true });
    expect(await graph()).toBe(text(10, 2));
    const again = applyLlamaPatches({ srcDir: src, patchesDir: patches });
    expect(again).toEqual({ ...first, changed: false });
    expect(await graph()).toBe(text(10, 2));
  });

  it('re-applies when the series changes, and restores upstream when it is emptied', async () => {
    const before = applyLlamaPatches({ srcDir: src, patchesDir: patches });
    await makePatch('0002-second.patch', 'tools/graph.cpp', 'second = 2', 'second = 20');
    const after = applyLlamaPatches({ srcDir: src, patchesDir: patches });
    expect(after.changed).toBe(true);
    expect(after.fingerprint).not.toBe(before.fingerprint);
    expect(await graph()).toBe(text(10, 20));

    await rm(join(patches, '0001-first.patch'));
    await rm(join(patches, '0002-second.patch'));
    expect(applyLlamaPatches({ srcDir: src, patchesDir: patches }).changed).toBe(true);
    expect(await graph()).toBe(text(1, 2));
  });

  it('repairs a checkout edited by hand', async () => {
    applyLlamaPatches({ srcDir: src, patchesDir: patches });
    await writeFile(join(src, 'tools', 'graph.cpp'), 'int first = 99;\n');
    expect(applyLlamaPatches({ srcDir: src, patchesDir: patches }).changed).toBe(true);
    expect(await graph()).toBe(text(10, 2));
  });

  it('names the patch that no longer applies and leaves the tree unpatched', async () => {
    await makePatch('0002-second.patch', 'tools/graph.cpp', 'second = 2', 'second = 20');
    // upstream moved on: the line the second patch changes is gone
    await writeFile(join(src, 'tools', 'graph.cpp'), text(1, 'int third = 3;'));
    git(src, 'commit', '-qam', 'upstream update');
    let error: unknown;
    try {
      applyLlamaPatches({ srcDir: src, patchesDir: patches });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(LlamaPatchError);
    expect((error as Error).message).toMatch(/0002-second\.patch no longer applies/);
    expect(await graph()).toBe(text(1, 'int third = 3;'));
    expect(existsSync(join(src, '.llava-desk-patches.json'))).toBe(false);
  });

  it('rejects patch files not named NNNN-description.patch', async () => {
    await writeFile(join(patches, 'fix.patch'), '');
    expect(() => applyLlamaPatches({ srcDir: src, patchesDir: patches })).toThrow(
      /NNNN-description\.patch/,
    );
  });
});

describe('writePristineSources', () => {
  it('writes the upstream version of every patched file', async () => {
    applyLlamaPatches({ srcDir: src, patchesDir: patches });
    const out = join(root, 'upstream');
    expect(writePristineSources({ srcDir: src, outDir: out })).toEqual(['tools/graph.cpp']);
    expect(await readFile(join(out, 'tools', 'graph.cpp'), 'utf8')).toBe(text(1, 2));
  });

  it('lets both builds share a header the series only adds a declaration to', async () => {
    await writeFile(join(src, 'tools', 'graph.h'), 'int first(void);\n');
    git(src, 'add', '.');
    git(src, 'commit', '-qm', 'upstream header');
    await makePatch(
      '0002-decl.patch',
      'tools/graph.h',
      'int first(void);',
      'int first(void);\nint second(void);',
    );
    applyLlamaPatches({ srcDir: src, patchesDir: patches });
    const out = join(root, 'upstream');
    expect(writePristineSources({ srcDir: src, outDir: out })).toEqual(['tools/graph.cpp']);
    // both builds include the patched header: a second copy would define its types twice
    expect(existsSync(join(out, 'tools', 'graph.h'))).toBe(false);
  });

  it('rejects a series that changes a line of a header', async () => {
    await writeFile(join(src, 'tools', 'graph.h'), 'struct s { int a; };\n');
    git(src, 'add', '.');
    git(src, 'commit', '-qm', 'upstream header');
    await rm(join(patches, '0001-first.patch'));
    await makePatch('0001-layout.patch', 'tools/graph.h', 'int a;', 'int a; int b;');
    applyLlamaPatches({ srcDir: src, patchesDir: patches });
    expect(() => writePristineSources({ srcDir: src, outDir: join(root, 'upstream') })).toThrow(
      /changes tools\/graph\.h: .*only adds lines/s,
    );
  });
});
