import { main } from '../../src-main/cli/main.js';
import type { CliIo } from '../../src-main/cli/io.js';

/** What one in-process CLI run printed and how it exited. */
export interface CliRun {
  code: number;
  out: string;
  err: string;
}

/**
 * Runs `llava-desk <args>` in this process (the CLI's own main, as the bin runs it) and collects
 * what it prints. `isTty` makes it print as to a terminal (progress lines).
 */
export async function runCli(
  args: readonly string[],
  options: { isTty?: boolean } = {},
): Promise<CliRun> {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (s) => (out += s),
    err: (s) => (err += s),
    isTty: options.isTty ?? false,
  };
  const code = await main(['node', 'llava-desk', ...args], io);
  return { code, out, err };
}
