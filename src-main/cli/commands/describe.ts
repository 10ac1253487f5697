import type { Command } from 'commander';
import { dataDirOption } from '../data-dir-option.js';
import type { CommandContext } from '../io.js';
import { notImplemented } from '../not-implemented.js';

export function registerDescribe(program: Command, ctx: CommandContext): void {
  program
    .command('describe <folder>')
    .description('describe every image in a folder into sidecar .txt / JSONL / CSV / XMP files')
    .option('--model <gguf>', 'the LLM GGUF file (default: the default installed model)')
    .option('--mmproj <gguf>', 'the vision projector (mmproj) GGUF file')
    .option('--recursive', 'include sub-folders')
    .option('--prompt <text>', 'the prompt for every image')
    .option('--preset <name>', 'caption | detailed | keywords | alt-text')
    .option('--out <formats>', 'comma-separated outputs: txt,jsonl,csv,xmp', 'txt')
    .option('--skip-existing', 'keep descriptions that already exist')
    .option('--overwrite', 'redo every image')
    .option('--parallel <n>', 'images in flight at once')
    .option('--max-tokens <n>', 'maximum tokens per description')
    .option('--json', 'print JSON lines instead of a progress bar')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'describe'));
}
