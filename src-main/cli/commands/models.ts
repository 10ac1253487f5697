import type { Command } from 'commander';
import { dataDirOption } from '../data-dir-option.js';
import type { CommandContext } from '../io.js';
import { notImplemented } from '../not-implemented.js';

export function registerModels(program: Command, ctx: CommandContext): void {
  const models = program.command('models').description('list, download, import and remove models');
  models
    .command('list')
    .description('list installed models')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'models list'));
  models
    .command('pull <source>')
    .description('download a model pair: a catalog id, an hf: URI or an http(s) URL')
    .option('--mmproj <uri>', 'the projector file, when <source> is a single file')
    .option('--sha256 <hex>', 'expected checksum of the model file')
    .option('--dir <folder>', 'download into this folder instead of the data folder')
    .option('--json', 'print JSON lines')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'models pull'));
  models
    .command('import <path>')
    .description('import a GGUF (and its projector) from anywhere on disk')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'models import'));
  models
    .command('rm <id>')
    .description('delete an installed model')
    .addOption(dataDirOption())
    .action(() => notImplemented(ctx, 'models rm'));
}
