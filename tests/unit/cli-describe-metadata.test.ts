import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/run-cli.js';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'llava-desk-cli-describe-'));
  await writeFile(join(dir, 'empty.txt'), '# nothing but a comment\n\n');
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function describeWith(...args: string[]): Promise<{ code: number; err: string }> {
  // The folder exists and has no images: a usage error is told before any model is looked for.
  const { code, err } = await runCli(['describe', dir, ...args]);
  return { code, err };
}

describe('llava-desk describe: the metadata options', () => {
  it.each([
    [['--max-keywords', '5'], /--max-keywords need --preset keywords/],
    [['--preset', 'caption', '--hierarchy', 'x'], /--hierarchy need --preset keywords/],
    [['--preset', 'keywords', '--max-keywords', '0'], /--max-keywords is a whole number ≥ 1/],
    [['--xmp-name', 'photo.jpeg.xmp'], /photo\.jpg\.xmp or photo\.xmp/],
    [['--keyword-case', 'upper', '--preset', 'keywords'], /as-is or lower or title/],
    [['--no-backup'], /--no-backup goes with --embed/],
    [
      ['--preset', 'keywords', '--vocabulary', 'missing.txt'],
      /--vocabulary: cannot read missing\.txt \(ENOENT\)/,
    ],
    [['--preset', 'keywords', '--exclude-keywords', 'nope'], /--exclude-keywords: cannot read/],
    [['--preset', 'keywords', '--vocabulary', 'EMPTY'], /holds no keywords/],
    [['--preset', 'keywords', '--hierarchy', ' | '], /--hierarchy needs a parent keyword/],
  ])('refuses %j with exit status 2 and says why', async (args, why) => {
    const resolved = args.map((a) => (a === 'EMPTY' ? join(dir, 'empty.txt') : a));
    const { code, err } = await describeWith(...resolved);
    expect(code).toBe(2);
    expect(err).toMatch(why);
  });

  it('lists the options in --help', async () => {
    const { out } = await runCli(['describe', '--help']);
    for (const option of [
      '--xmp-name',
      '--embed',
      '--no-backup',
      '--keyword-case',
      '--max-keywords',
      '--exclude-keywords',
      '--vocabulary',
      '--hierarchy',
    ]) {
      expect(out).toContain(option);
    }
  });
});
