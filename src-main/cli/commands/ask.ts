import type { Command } from 'commander';
import { dataDirOption } from '../data-dir-option.js';
import type { CommandContext } from '../io.js';
import { notImplemented } from '../not-implemented.js';

export function registerAsk(program: Command, ctx: CommandContext): void {
  program
    .command('ask')
    .description('ask a question about one or more images and stream the answer')
    .option('--model <gguf>', 'the LLM GGUF file')
    .option('--mmproj <gguf>', 'the vision projector (mmproj) GGUF file')
    .option('--image <file...>', 'image file(s), in order')
    .option('--prompt <text>', 'the question')
    .option('--system <text>', 'system prompt')
    .option('--max-tokens <n>', 'maximum tokens to generate')
    .option('--temperature <t>', 'sampling temperature (0 = greedy)')
    .option('--seed <s>', 'sampling seed')
    .option('--threads <n>', 'CPU threads')
    .option('--short', 'ask for a single word or phrase')
    .option('--raw', 'use the prompt verbatim, each <image> replaced by the next image')
    .option('--json', 'print one JSON object {text, tokens, stats}')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'ask'));
}
