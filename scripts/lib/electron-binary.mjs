// Electron's binary on first start. electron 45 has no install script: its binary is fetched the
// first time `require('electron')` or its `install-electron` bin runs, while electron-vite reads
// node_modules/electron/path.txt itself and stops with "Electron uninstall" when it is missing.
//
// This fetches the binary with electron's own installer before electron-vite starts:
// 1. @electron/get (the copy electron depends on) downloads the archive into its cache with the
//    options electron's install.js uses (electron's checksums.json, electron_config_cache,
//    ELECTRON_MIRROR and the other mirror settings, force_no_cache, ELECTRON_INSTALL_PLATFORM/ARCH),
//    reporting progress;
// 2. electron's install.js then runs unchanged: it finds the archive in that cache, unpacks it
//    into node_modules/electron/dist and writes path.txt.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

export class ElectronDownloadError extends Error {
  /** @param {string} reason what failed, one line @param {{ cause?: unknown }} [options] */
  constructor(reason, options) {
    super(reason, options);
    this.name = 'ElectronDownloadError';
    this.reason = reason;
  }
}

/** @param {string} platform */
function executableFor(platform) {
  if (platform === 'darwin' || platform === 'mas') return 'Electron.app/Contents/MacOS/Electron';
  if (platform === 'win32') return 'electron.exe';
  return 'electron';
}

/**
 * The electron package as the project resolves it (from `projectDir`), its version and where its
 * binary goes.
 * @param {string} projectDir
 */
export function locateElectron(projectDir) {
  const require = createRequire(join(projectDir, 'package.json'));
  let pkgPath;
  try {
    pkgPath = require.resolve('electron/package.json');
  } catch {
    throw new ElectronDownloadError(
      'the electron package is not installed (node_modules/electron is missing); run "npm install" first',
    );
  }
  const dir = join(pkgPath, '..');
  const { version } = JSON.parse(readFileSync(pkgPath, 'utf8'));
  return { dir, version: String(version) };
}

/**
 * True when the binary is in place as electron's install.js checks it: dist/version matches,
 * path.txt names this platform's executable and that file exists.
 * @param {{ dir: string, version: string }} electron
 * @param {NodeJS.ProcessEnv} env
 */
export function isElectronInstalled(electron, env) {
  const platform = env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform;
  const executable = executableFor(platform);
  try {
    const distVersion = readFileSync(join(electron.dir, 'dist', 'version'), 'utf8');
    if (distVersion.replace(/^v/, '').trim() !== electron.version) return false;
    if (readFileSync(join(electron.dir, 'path.txt'), 'utf8') !== executable) return false;
  } catch {
    return false;
  }
  const distDir = env.ELECTRON_OVERRIDE_DIST_PATH || join(electron.dir, 'dist');
  return existsSync(join(distDir, executable));
}

/** @param {number} bytes */
const megabytes = (bytes) => `${(bytes / 1e6).toFixed(0)} MB`;

/**
 * Progress as lines: a percentage every 10% (or every 10 MB when the size is unknown).
 * @param {(line: string) => void} print
 */
function progressPrinter(print) {
  let nextStep = 0.1;
  let nextBytes = 10e6;
  return (/** @type {{ transferred: number, total: number | null, percent: number }} */ p) => {
    if (p.total) {
      if (p.percent >= nextStep && p.percent < 1) {
        print(`  ${Math.floor(p.percent * 100)}% of ${megabytes(p.total)}`);
        while (nextStep <= p.percent) nextStep += 0.1;
      }
    } else if (p.transferred >= nextBytes) {
      print(`  ${megabytes(p.transferred)}`);
      nextBytes += 10e6;
    }
  };
}

/** The one-line reason for a failed download, from @electron/get's and fetch's errors. @param {unknown} err */
export function describeDownloadFailure(err) {
  const e =
    /** @type {{ name?: string, message?: string, code?: string, cause?: { code?: string, message?: string } }} */ (
      err ?? {}
    );
  const code = e.cause?.code ?? e.code;
  const message = String(e.message ?? err);
  if (
    code &&
    /^(ECONNREFUSED|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|ECONNRESET|ENETUNREACH|EHOSTUNREACH)$/.test(code)
  )
    return `the download server could not be reached (${code}): offline, or behind a proxy or firewall`;
  if (/fetch failed/i.test(message))
    return `the download failed (${e.cause?.message ?? message}): offline, or behind a proxy or firewall`;
  if (/Response code (\d+)/.test(message))
    return `the download server answered ${message.replace(/^Response code /, 'HTTP ')}`;
  if (/checksum/i.test(message) || /did not match/i.test(message))
    return `the downloaded archive failed its checksum, a corrupt download or a mirror serving another build (${message.split('\n')[0]})`;
  return message.split('\n')[0];
}

/**
 * Downloads (when missing) and unpacks Electron's binary through electron's own installer.
 * Resolves with what happened; rejects with ElectronDownloadError.
 * @param {{ projectDir: string, env?: NodeJS.ProcessEnv, print?: (line: string) => void }} options
 * @returns {Promise<'present' | 'installed'>}
 */
export async function ensureElectronBinary({ projectDir, env = process.env, print = console.log }) {
  // electron-vite runs the executable ELECTRON_EXEC_PATH names instead of the package's own
  if (env.ELECTRON_EXEC_PATH && existsSync(env.ELECTRON_EXEC_PATH)) return 'present';
  const electron = locateElectron(projectDir);
  if (isElectronInstalled(electron, env)) return 'present';

  const platform = env.ELECTRON_INSTALL_PLATFORM || env.npm_config_platform || process.platform;
  const arch = env.ELECTRON_INSTALL_ARCH || env.npm_config_arch || process.arch;
  const electronRequire = createRequire(join(electron.dir, 'package.json'));
  /** @type {typeof import('@electron/get')} */
  const get = await import(pathToFileURL(electronRequire.resolve('@electron/get')).href);
  const remoteChecksums =
    env.electron_use_remote_checksums || env.npm_config_electron_use_remote_checksums;

  print(
    `llava-desk: first start: downloading Electron ${electron.version} for ${platform}-${arch} ` +
      '(about 100 MB, once; kept in the Electron cache)',
  );
  try {
    await get.downloadArtifact({
      version: electron.version,
      artifactName: 'electron',
      platform,
      arch,
      force: env.force_no_cache === 'true',
      cacheRoot: env.electron_config_cache,
      checksums: remoteChecksums
        ? undefined
        : JSON.parse(readFileSync(join(electron.dir, 'checksums.json'), 'utf8')),
      downloadOptions: { quiet: true, getProgressCallback: progressPrinter(print) },
    });
  } catch (err) {
    throw new ElectronDownloadError(describeDownloadFailure(err), { cause: err });
  }

  print('llava-desk: unpacking Electron (electron install.js)');
  // force_no_cache would make install.js download again: the archive was just fetched.
  const { force_no_cache: _forced, ...installEnv } = env;
  const result = await runNode(join(electron.dir, 'install.js'), installEnv);
  if (result.code !== 0 || !isElectronInstalled(electron, env)) {
    const firstLine =
      result.stderr
        .split('\n')
        .map((l) => l.trim())
        .find((l) => l && !l.startsWith('at ')) ?? `exit code ${result.code}`;
    throw new ElectronDownloadError(`unpacking the Electron archive failed: ${firstLine}`);
  }
  print(`llava-desk: Electron ${electron.version} is ready`);
  return 'installed';
}

/** @param {string} script @param {NodeJS.ProcessEnv} env */
function runNode(script, env) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [script], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (b) => (stderr += String(b)));
    child.on('error', (err) => resolve({ code: -1, stderr: String(err) }));
    child.on('close', (code) => resolve({ code, stderr }));
  });
}

/**
 * The message shown when the binary cannot be fetched: what failed, how to retry, and the browser
 * alternative.
 * @param {string} reason
 * @param {string} command the npm command the user ran, e.g. "npm start"
 */
export function downloadFailureMessage(reason, command) {
  return [
    `llava-desk: could not download Electron's binary: ${reason}.`,
    `  Retry with "${command}" once the internet is reachable. Behind a proxy, set HTTPS_PROXY and`,
    '  ELECTRON_GET_USE_PROXY=1; or set ELECTRON_MIRROR to a mirror you can reach.',
    '  Without Electron, the same app runs in your browser: npx llava-desk serve',
  ].join('\n');
}
