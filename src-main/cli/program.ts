import type { CommanderError } from 'commander';
import { Command } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.js';
import { registerAsk } from './commands/ask.js';
import { registerDescribe } from './commands/describe.js';
import { registerInspectImage } from './commands/inspect-image.js';
import { registerModels } from './commands/models.js';
import { registerServe } from './commands/serve.js';
import type { CliIo } from './io.js';

/** Builds the `llava-desk` command tree. Actions report their exit code through `setExit`. */
export function buildProgram(
  io: CliIo,
  version: string,
  setExit: (code: ExitCode) => void,
): Command {
  const program = new Command('llava-desk')
    .description(
      'Talk with images through LLaVA-style vision-language models, locally and offline.',
    )
    .version(version)
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.out(s),
      writeErr: (s) => io.err(s),
    })
    .exitOverride();

  const ctx = { io, setExit };
  registerAsk(program, ctx);
  registerDescribe(program, ctx);
  registerModels(program, ctx);
  registerInspectImage(program, ctx);
  registerServe(program, ctx);
  return program;
}

/** Maps commander's own exits (help, version, usage errors) to our exit codes. */
export function exitCodeForCommanderError(error: CommanderError): ExitCode {
  if (
    error.code === 'commander.helpDisplayed' ||
    error.code === 'commander.help' ||
    error.code === 'commander.version'
  ) {
    return EXIT.ok;
  }
  return EXIT.usage;
}
