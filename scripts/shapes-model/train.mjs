// npm run train:shapes-model [-- --seed N --scale F]: trains the shapes model (train.py), writes
// the GGUF pair into tests/fixtures/shapes-model/ (export.py) with a manifest naming the script,
// the seed and the files' sha256. Development tooling only: the app, its tests and CI never train.
// Needs Python 3 with PyTorch, numpy and Pillow (Debian: python3-torch python3-pil, plus
// libopenblas0-openmp, without which PyTorch runs on the reference BLAS, about 18x slower) and the
// llama.cpp source that `npm run build:native` checks out (for gguf-py).
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const fixtures = join(root, 'tests', 'fixtures', 'shapes-model');
const work = join(root, '.cache', 'shapes-model');

const { values } = parseArgs({
  options: {
    seed: { type: 'string', default: '1' },
    scale: { type: 'string', default: '1' },
    // Export the checkpoint an earlier run left in .cache/shapes-model without training again.
    'export-only': { type: 'boolean', default: false },
  },
});

function fail(message) {
  console.error(`train:shapes-model: ${message}`);
  process.exit(1);
}

const candidates = [process.env.PYTHON, 'python3', '/usr/bin/python3'].filter(Boolean);
const python = candidates.find(
  (p) => spawnSync(p, ['-c', 'import torch, numpy, PIL'], { stdio: 'ignore' }).status === 0,
);
if (!python) {
  fail(
    'no Python 3 with PyTorch, numpy and Pillow found (tried ' +
      `${candidates.join(', ')}). On Debian/Ubuntu: sudo apt-get install -y python3-torch ` +
      'python3-pil libopenblas0-openmp; or set PYTHON to an interpreter that has them.',
  );
}
if (!existsSync(join(root, 'native', 'build', 'llama.cpp', 'gguf-py'))) {
  fail('the llama.cpp source is missing: run "npm run build:native" first (it provides gguf-py).');
}

const run = (script, args) => {
  const r = spawnSync(python, [join(here, script), ...args], { stdio: 'inherit', cwd: root });
  if (r.status !== 0) fail(`${script} failed (exit ${r.status})`);
};

if (!values['export-only']) {
  run('train.py', [
    '--out',
    work,
    '--seed',
    values.seed,
    '--scale',
    values.scale,
    '--pool-cache',
    join(work, `pool-seed${values.seed}-scale${values.scale}.pkl`),
  ]);
} else if (!existsSync(join(work, 'shapes-model.pt'))) {
  fail(`--export-only: no checkpoint in ${relative(root, work)}; train first`);
}
run('export.py', ['--checkpoint', join(work, 'shapes-model.pt'), '--out', fixtures]);
run('tokens.py', ['--out', join(fixtures, 'tokens.json')]);

const sha256 = (file) => createHash('sha256').update(readFileSync(file)).digest('hex');
const files = ['shapes-llm.gguf', 'shapes-mmproj.gguf'];
const log = JSON.parse(readFileSync(join(work, 'training-log.json'), 'utf8'));
const manifest = {
  description:
    'A small LLaVA-1.5-architecture pair trained on synthetic scenes of shapes and digits. Generated; do not edit.',
  script: relative(root, join(here, 'train.mjs')),
  // From the run's own log, so --export-only names the run that made the files.
  seed: log.seed,
  scale: log.scale,
  threads: log.threads,
  // "bfloat16 autocast" where the CPU multiplies bfloat16 in hardware (train.py --bf16 auto), else "float32"; and each
  // stage's steps. Absent in older logs.
  precision: log.precision,
  steps: log.steps,
  // The tower's input size, depth, width, heads and feed-forward width (train.py --image-size, --vision-blocks,
  // --vision-width); absent in older logs.
  tower: log.visionConfig,
  // Stage 1's learning rate, digit, centre and density targets, the count's weight, count balance and extra crowded
  // scenes (train.py --vision-lr, --digit-map, --digit-tile, --digit-share, --centre-map, --centre-at, --density-map,
  // --density-at, --count-weight, --count-balance, --crowded) and the LLM stage's options (--schedule, --readout, --high-batch,
  // --high-share, --chat-balance); absent in older logs.
  visionStage: {
    lr: log.visionLr,
    digitMap: log.digitMap,
    digitTile: log.digitTile,
    digitShare: log.digitShare,
    countBalance: log.countBalance,
    centreMap: log.centreMap,
    centreAt: log.centreAt,
    densityMap: log.densityMap,
    densityAt: log.densityAt,
    countWeight: log.countWeight,
    crowded: log.crowded,
  },
  llmStage: {
    schedule: log.schedule,
    readout: log.readout,
    highBatch: log.highBatch,
    highShare: log.highShare,
    chatBalance: log.chatBalance,
  },
  trainingSeconds: log.seconds,
  pool: log.pool,
  files: Object.fromEntries(files.map((f) => [f, { sha256: sha256(join(fixtures, f)) }])),
  finalLoss: log.log.at(-1) ?? null,
};
writeFileSync(join(fixtures, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);

// The demo entry of the catalog installs these files only with their exact size and sha256.
const catalogPath = join(root, 'models', 'catalog.json');
const catalog = JSON.parse(readFileSync(catalogPath, 'utf8'));
for (const entry of catalog.models) {
  for (const file of entry.files) {
    const name = files.find((f) => file.uri === `app:tests/fixtures/shapes-model/${f}`);
    if (!name) continue;
    file.sizeBytes = statSync(join(fixtures, name)).size;
    file.sha256 = manifest.files[name].sha256;
  }
}
writeFileSync(catalogPath, `${JSON.stringify(catalog, null, 2)}\n`);
console.log(
  `train:shapes-model: wrote ${relative(root, fixtures)}/{${files.join(',')},manifest.json} and the demo's sizes and sha256 in models/catalog.json`,
);
