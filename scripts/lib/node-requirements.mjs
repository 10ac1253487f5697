// The Node.js each project command needs, and one readable stop on a Node that cannot run it.
//
// Why they differ (package.json "engines" of the tools, and what was tried on Node 20.20):
// - the test suite, the CLI, `serve`, the build and the desktop app: vite 8 / electron-vite 6
//   declare ^20.19.0 || >=22.12.0 (require() of ES modules is on by default from those). Fetching
//   Electron's binary goes through electron's install.js, which require()s the ES module
//   @electron/get: electron 45 declares >=22.12, but the download, checksum and unpacking were
//   run on Node 20.20 and work (tests/integration/electron-first-start.test.ts).
// - packaging (`npm run dist`): electron-builder 26 runs @electron/rebuild 4, node-abi 4 and
//   @electron/get 5, all >=22.12.0; never tried on Node 20 (it downloads Electron), so not allowed.

/** @typedef {readonly [number, number, number]} Version */
/** @typedef {{ label: string, ranges: readonly { from: Version, below?: Version }[], text: string }} NodeRequirement */

const NODE_20_19_OR_22_12 = [{ from: [20, 19, 0], below: [21, 0, 0] }, { from: [22, 12, 0] }];

/** @type {Readonly<Record<'test' | 'app' | 'dist', NodeRequirement>>} */
export const NODE_REQUIREMENTS = {
  test: {
    label: 'llava-desk (tests, build, command line)',
    ranges: NODE_20_19_OR_22_12,
    text: '20.19+ or 22.12+',
  },
  app: {
    label: 'the desktop app (npm start, npm run dev)',
    ranges: NODE_20_19_OR_22_12,
    text: '20.19+ or 22.12+',
  },
  dist: {
    label: 'packaging the desktop app (npm run dist)',
    ranges: [{ from: [22, 12, 0] }],
    text: '22.12 or newer',
  },
};

/** @param {string} version e.g. "v20.20.2" @returns {[number, number, number]} */
export function parseNodeVersion(version) {
  const m = /^v?(\d+)\.(\d+)\.(\d+)/.exec(version);
  if (!m) return [0, 0, 0];
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}

/** @param {readonly number[]} a @param {readonly number[]} b */
function atLeast(a, b) {
  for (let i = 0; i < 3; i++) if (a[i] !== b[i]) return a[i] > b[i];
  return true;
}

/** @param {readonly number[]} v @param {NodeRequirement} need */
function satisfies(v, need) {
  return need.ranges.some((r) => atLeast(v, r.from) && (!r.below || !atLeast(v, r.below)));
}

/**
 * The message to show when `version` cannot run `command`, or undefined when it can.
 * @param {keyof typeof NODE_REQUIREMENTS} command
 * @param {string} [version]
 */
export function nodeVersionProblem(command, version = process.version) {
  const need = NODE_REQUIREMENTS[command];
  if (!need) throw new Error(`unknown command "${command}"`);
  if (satisfies(parseNodeVersion(version), need)) return undefined;
  const lines = [
    `llava-desk: ${need.label} needs Node.js ${need.text}; this is Node.js ${version.replace(/^v/, '')}.`,
    `  Install Node.js 22 LTS or newer (e.g. with nvm: "nvm install 22"), then run the command again.`,
  ];
  if (command === 'app')
    lines.push('  On this Node the same app runs in your browser: npx llava-desk serve');
  return lines.join('\n');
}

/**
 * Stops the process with the readable message when this Node cannot run `command`.
 * @param {keyof typeof NODE_REQUIREMENTS} command
 */
export function requireNodeFor(command) {
  const problem = nodeVersionProblem(command);
  if (problem) {
    console.error(problem);
    process.exit(1);
  }
}
