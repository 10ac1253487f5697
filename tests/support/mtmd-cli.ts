import { fileURLToPath } from 'node:url';
import { runProcess, type ProcessRun } from '../../scripts/lib/run-process.js';

/** Upstream llama-mtmd-cli, built by `npm install` from the same llama.cpp source as the bridge. */
export const MTMD_CLI = fileURLToPath(
  new URL('../../native/build/bin/llama-mtmd-cli', import.meta.url),
);

/** The CLI prints this before the answer when the variable of the same name is set. */
export const RESPONSE_MARKER = '<<<LLAVA_DESK_RESPONSE>>>';

export type CliRun = ProcessRun;

/**
 * Runs the CLI. Its stdout sometimes reaches a pipe cut short (the process exits before all of it
 * is flushed), so a run whose answer is missing or lacks the closing newlines is repeated, up to
 * 4 times.
 */
export async function runMtmdCli(args: readonly string[]): Promise<CliRun> {
  let run = await runOnce(args);
  for (let attempt = 1; attempt < 4 && run.code === 0 && !complete(run.stdout); attempt += 1) {
    run = await runOnce(args);
  }
  return run;
}

function complete(stdout: string): boolean {
  const at = stdout.indexOf(RESPONSE_MARKER);
  return (
    at >= 0 && stdout.endsWith('\n\n') && stdout.slice(at + RESPONSE_MARKER.length).trim() !== ''
  );
}

function runOnce(args: readonly string[]): Promise<CliRun> {
  return runProcess(MTMD_CLI, args, { ...process.env, MTMD_TEST_RESPONSE_MARKER: RESPONSE_MARKER });
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
