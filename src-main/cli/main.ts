import { readFileSync } from 'node:fs';
import { CommanderError } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.js';
import { processIo, type CliIo } from './io.js';
import { buildProgram, exitCodeForCommanderError } from './program.js';

function packageVersion(): string {
  const pkgUrl = new URL('../../package.json', import.meta.url);
  const pkg = JSON.parse(readFileSync(pkgUrl, 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

/** Runs the CLI with full argv (node, script, ...args) and resolves to the exit code. */
export async function main(argv: readonly string[], io: CliIo = processIo): Promise<ExitCode> {
  let exitCode: ExitCode = EXIT.ok;
  try {
    const program = await buildProgram(
      io,
      packageVersion(),
      (code) => {
        exitCode = code;
      },
      argv.slice(2),
    );
    await program.parseAsync([...argv]);
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) return exitCodeForCommanderError(error);
    io.err(
      `llava-desk: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`,
    );
    return EXIT.failure;
  }
}
