import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Upstream llama-mtmd-cli, built by `npm install` from the same llama.cpp source as the bridge. */
export const MTMD_CLI = fileURLToPath(
  new URL('../../native/build/bin/llama-mtmd-cli', import.meta.url),
);

/** The CLI prints this before the answer when the variable of the same name is set. */
export const RESPONSE_MARKER = '<<<LLAVA_DESK_RESPONSE>>>';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs the CLI. Its stdout sometimes reaches a pipe cut short (the process exits before the last
 * write is flushed), so a run whose output lacks the closing newlines is repeated, up to 3 times.
 */
export async function runMtmdCli(args: readonly string[]): Promise<CliRun> {
  let run = await runOnce(args);
  for (
    let attempt = 1;
    attempt < 3 && run.code === 0 && !run.stdout.endsWith('\n\n');
    attempt += 1
  ) {
    run = await runOnce(args);
  }
  return run;
}

function runOnce(args: readonly string[]): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(MTMD_CLI, args, {
      env: { ...process.env, MTMD_TEST_RESPONSE_MARKER: RESPONSE_MARKER },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout: Buffer.concat(out).toString('utf8'),
        stderr: Buffer.concat(err).toString('utf8'),
      }),
    );
  });
}

/** The answer text in the CLI's stdout (after the marker, without the trailing newlines). */
export function cliAnswer(stdout: string): string {
  const at = stdout.indexOf(RESPONSE_MARKER);
  if (at < 0) throw new Error(`no response marker in llama-mtmd-cli output: ${stdout}`);
  return stdout
    .slice(at + RESPONSE_MARKER.length)
    .replace(/^\n\n/, '')
    .replace(/\n+$/, '');
}
