import { EXIT } from './exit-codes.js';
import type { CommandContext } from './io.js';

/** Reply of a command whose implementation has not landed yet: a clear message and exit 2. */
export function notImplemented(ctx: CommandContext, command: string): void {
  ctx.io.err(`llava-desk ${command}: not yet implemented in this version.\n`);
  ctx.setExit(EXIT.usage);
}
