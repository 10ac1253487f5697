import type { ExitCode } from './exit-codes.js';

/** Where a command writes; tests pass their own to capture output. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  /** Whether stdout is an interactive terminal (progress bars) or a pipe (plain lines). */
  isTty: boolean;
}

export const processIo: CliIo = {
  out: (text) => process.stdout.write(text),
  err: (text) => process.stderr.write(text),
  isTty: Boolean(process.stdout.isTTY),
};

/** Context handed to each command's registration. */
export interface CommandContext {
  io: CliIo;
  setExit(code: ExitCode): void;
}
