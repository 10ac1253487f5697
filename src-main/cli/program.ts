import type { CommanderError } from 'commander';
import { Command } from 'commander';
import { EXIT, type ExitCode } from './exit-codes.js';
import type { CliIo, CommandContext } from './io.js';

type Registrar = (program: Command, ctx: CommandContext) => void;

/**
 * Each command's module, loaded on demand: a command pulls in heavy dependencies (the model
 * runtime, sharp, the web server), and a run needs only its own.
 */
const COMMANDS: Record<string, () => Promise<Registrar>> = {
  ask: async () => (await import('./commands/ask.js')).registerAsk,
  describe: async () => (await import('./commands/describe.js')).registerDescribe,
  embed: async () => (await import('./commands/embed.js')).registerEmbed,
  models: async () => (await import('./commands/models.js')).registerModels,
  'inspect-image': async () => (await import('./commands/inspect-image.js')).registerInspectImage,
  serve: async () => (await import('./commands/serve.js')).registerServe,
};

/** The command a run names (its first argument), when it is one of ours. */
function commandIn(args: readonly string[]): string | undefined {
  const first = args[0];
  return first !== undefined && Object.hasOwn(COMMANDS, first) ? first : undefined;
}

/**
 * Builds the `llava-desk` command tree for `args` (the arguments after node and the script):
 * only the named command, or all of them for help, version and unknown commands. Actions report
 * their exit code through `setExit`.
 */
export async function buildProgram(
  io: CliIo,
  version: string,
  setExit: (code: ExitCode) => void,
  args: readonly string[] = [],
): Promise<Command> {
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
  const named = commandIn(args);
  for (const name of named ? [named] : Object.keys(COMMANDS)) {
    const register = await COMMANDS[name]!();
    register(program, ctx);
  }
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
