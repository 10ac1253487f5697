import type { Command } from 'commander';
import { dataDirOption } from '../data-dir-option.js';
import type { CommandContext } from '../io.js';
import { notImplemented } from '../not-implemented.js';

export function registerInspectImage(program: Command, ctx: CommandContext): void {
  program
    .command('inspect-image <file>')
    .description('show how an image would be prepared for the model, and its token cost')
    .option('--detail <level>', 'standard | high', 'standard')
    .option('--mmproj <gguf>', 'the vision projector the plan is for')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'inspect-image'));
}
