import { Option, type Command } from 'commander';
import { LlavaDeskError, serializeError } from '../../common/errors.js';
import type { ImageReport } from '../../imaging/index.js';
import { dataDirOption } from '../data-dir-option.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../io.js';

interface InspectOptions {
  detail: 'standard' | 'high';
  mmproj?: string;
  json?: boolean;
  dataDir?: string;
}

/** The `--json` shape: exactly these keys, in this order. */
export function inspectJson(report: ImageReport): object {
  const { plan } = report;
  return {
    format: report.format,
    width: report.width,
    height: report.height,
    orientation: report.orientation,
    plan: {
      mode: plan.detail,
      grid: { cols: plan.grid.cols, rows: plan.grid.rows },
      resolution: [plan.resolution[0], plan.resolution[1]],
      tiles: plan.encoderImages,
      tokens: report.tokens,
    },
  };
}

function summary(report: ImageReport): string {
  const { plan } = report;
  const turned = report.orientation === 1 ? '' : `, EXIF orientation ${report.orientation}`;
  const alpha = report.hadAlpha ? ', alpha channel flattened onto white' : '';
  const tiling =
    plan.tiling === 'none'
      ? 'one padded square'
      : `${plan.grid.cols} x ${plan.grid.rows} tiles, ${plan.tiling === 'app' ? 'cut by llava-desk' : 'cut by the runtime'}`;
  const [w, h] = plan.resolution;
  const estimate = report.tokensExact ? '' : ' (estimate)';
  return [
    `${report.name}: ${report.format.toUpperCase()}, ${report.width} x ${report.height}${turned}${alpha}`,
    `plan: ${plan.detail} detail, ${tiling} at ${w} x ${h}, ${plan.encoderImages} encoder image(s)`,
    `tokens: ${report.tokens}${estimate}`,
    `sha256: ${report.sourceSha256}`,
    '',
  ].join('\n');
}

async function inspect(file: string, options: InspectOptions) {
  // Loaded on use: sharp and node-llama-cpp stay out of the other commands' start-up.
  const imaging = await import('../../imaging/index.js');
  const encoder = options.mmproj ? await imaging.readEncoderSpec(options.mmproj) : undefined;
  const input = await imaging.readImageFile(file);
  return imaging.planForEncoder(input, { detail: options.detail, encoder });
}

export function registerInspectImage(program: Command, ctx: CommandContext): void {
  program
    .command('inspect-image <file>')
    .description('show how an image would be prepared for the model, and its token cost')
    .addOption(
      new Option('--detail <level>', 'standard | high')
        .choices(['standard', 'high'])
        .default('standard'),
    )
    .option('--mmproj <gguf>', 'the vision projector the plan is for (default: LLaVA-1.5, 336 px)')
    .option('--json', 'print JSON')
    .addOption(dataDirOption())
    .action(async (file: string, options: InspectOptions) => {
      try {
        const report = await inspect(file, options);
        ctx.io.out(options.json ? `${JSON.stringify(inspectJson(report))}\n` : summary(report));
        ctx.setExit(EXIT.ok);
      } catch (error) {
        if (!(error instanceof LlavaDeskError) || error.code === 'INTERNAL') throw error;
        const serialized = serializeError(error);
        if (options.json) ctx.io.out(`${JSON.stringify({ error: serialized })}\n`);
        else ctx.io.err(`llava-desk inspect-image: ${serialized.message}\n`);
        ctx.setExit(EXIT.badInput);
      }
    });
}
