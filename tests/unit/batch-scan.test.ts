import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isInside, scanFolder } from '../../src-main/batch/scan.js';
import { sidecarPaths } from '../../src-main/batch/sidecars.js';
import { makeBatchTree, type BatchTree } from '../fixtures/batch-tree.js';

let dir: string;
let tree: BatchTree;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-batch-scan-'));
  tree = await makeBatchTree(dir, join(dir, 'outside'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('scanFolder', () => {
  it('lists the images of the tree once each, sorted, symlinks resolved', async () => {
    const scan = await scanFolder(tree.root, { recursive: true });
    expect(scan.images.map((i) => i.path)).toEqual(
      [...tree.images, ...tree.corrupt, tree.foreign.image].sort(),
    );
    expect(scan.ignored).toEqual(
      expect.arrayContaining([
        { path: 'outside-link', reason: 'outside' },
        { path: 'trips/deep/loop', reason: 'loop' },
        { path: 'trips/a-again.png', reason: 'duplicate' },
      ]),
    );
  });

  it('stays in the folder itself unless recursive, and filters extensions', async () => {
    const flat = await scanFolder(tree.root);
    expect(flat.images.map((i) => i.path)).toEqual(['a.jpg', 'a.png', 'café ☕.png']);
    const jpegs = await scanFolder(tree.root, { recursive: true, extensions: ['JPEG'] });
    expect(jpegs.images.map((i) => i.path)).toEqual(['trips/été 2024/plage.jpeg']);
  });

  it('refuses a missing folder with FOLDER_NOT_FOUND', async () => {
    await expect(scanFolder(join(dir, 'nope'))).rejects.toMatchObject({
      code: 'FOLDER_NOT_FOUND',
    });
  });

  it('knows what is inside', () => {
    expect(isInside('/a/b', '/a/b/c')).toBe(true);
    expect(isInside('/a/b', '/a/b')).toBe(false);
    expect(isInside('/a/b', '/a/bc')).toBe(false);
    expect(isInside('/a/b', '/a')).toBe(false);
  });
});

describe('sidecar naming', () => {
  it('uses the base name, the full name when two images share it, and name.ext.xmp', async () => {
    const scan = await scanFolder(tree.root, { recursive: true });
    const paths = sidecarPaths(scan.images);
    const name = (p: string | undefined): string => basename(p ?? '');
    expect(name(paths.get('a.jpg')?.txt)).toBe('a.jpg.txt');
    expect(name(paths.get('a.png')?.txt)).toBe('a.png.txt');
    expect(name(paths.get('café ☕.png')?.txt)).toBe('café ☕.txt');
    expect(name(paths.get('café ☕.png')?.xmp)).toBe('café ☕.png.xmp');
    expect(paths.get('trips/keep.png')?.txt).toBe(join(tree.root, 'trips', 'keep.txt'));
  });
});
