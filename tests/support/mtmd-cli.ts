import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** Upstream llama-mtmd-cli, built by `npm install` from the same llama.cpp source as the bridge. */
export const MTMD_CLI = fileURLToPath(
  new URL(
    `../../native/build/bin/llama-mtmd-cli${process.platform === 'win32' ? '.exe' : ''}`,
    import.meta.url,
  ),
);

/** The CLI prints this before the answer when the variable of the same name is set. */
export const RESPONSE_MARKER = '<<<LLAVA_DESK_RESPONSE>>>';

/** What the CLI prints when it waits for the next line of chat input. */
const INPUT_PROMPT = '\n> ';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** The generated pieces as printed, with the "\n" the CLI adds when it stops at end of generation. */
  answer: string;
}

/** One greedy turn: the pair, the images in order, a one-line prompt and the CLI's sizes. */
export interface CliTurn {
  modelPath: string;
  mmprojPath: string;
  images: readonly string[];
  prompt: string;
  maxTokens: number;
  threads: number;
  /** `-c`; the CLI's default when absent. */
  contextSize?: number;
  /** Further CLI options (batch sizes, flash attention, --verbose). */
  extraArgs?: readonly string[];
}

function cliOptions(turn: CliTurn): string[] {
  return [
    ...['-m', turn.modelPath, '--mmproj', turn.mmprojPath, '--temp', '0'],
    ...['-n', String(turn.maxTokens), '-t', String(turn.threads)],
    ...(turn.contextSize !== undefined ? ['-c', String(turn.contextSize)] : []),
    ...(turn.extraArgs ?? []),
  ];
}

/**
 * Runs one turn through the CLI's chat mode: `/image` lines, then the prompt, read back before the
 * CLI is told to quit.
 *
 * Why not `-p`: the CLI logs through an asynchronous writer thread it never drains at exit, so
 * on a busy machine a single-shot run often exits before its answer reaches the pipe (seen in
 * about half of the runs with the tiny pair while other processes kept both cores busy). In chat
 * mode the CLI waits for input after the answer, so everything before that wait has been written
 * (stdout and stderr go through the same queue, in order) when the input prompt shows up.
 * The turn is evaluated as with `-p`: one image marker per image before the prompt, same template.
 */
export function runMtmdCli(turn: CliTurn): Promise<CliRun> {
  if (turn.prompt.includes('\n')) throw new Error('chat mode takes a one-line prompt');
  return new Promise((resolve, reject) => {
    const child = spawn(MTMD_CLI, cliOptions(turn), {
      env: { ...process.env, MTMD_TEST_RESPONSE_MARKER: RESPONSE_MARKER },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let answer: string | undefined;
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
      if (answer !== undefined) return;
      const at = stdout.indexOf(RESPONSE_MARKER);
      if (at < 0 || !stdout.endsWith(INPUT_PROMPT)) return;
      // marker "\n", "\n" after the prompt was evaluated, the pieces, then the input prompt
      answer = stdout.slice(at + RESPONSE_MARKER.length + 2, -INPUT_PROMPT.length);
      child.stdin.end('/quit\n');
    });
    child.stderr.on('data', (chunk: string) => (stderr += chunk));
    // a CLI that fails before reading input closes its stdin
    child.stdin.on('error', () => undefined);
    child.on('error', reject);
    child.on('close', (code) => {
      if (answer === undefined && code === 0) {
        reject(new Error(`llama-mtmd-cli printed no answer:\n${stdout}\n${stderr.slice(-1500)}`));
        return;
      }
      resolve({ code, stdout, stderr, answer: answer ?? '' });
    });
    child.stdin.write(
      [...turn.images.map((image) => `/image ${image}`), turn.prompt, ''].join('\n'),
    );
  });
}

/** The answer text as a user reads it: without the newline added at end of generation. */
export function cliAnswer(run: CliRun): string {
  return run.answer.replace(/\n+$/, '');
}
