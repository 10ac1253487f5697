/**
 * The last-resort log of the core: an error that no layer expected (a bug), written to stderr with
 * a fixed prefix so that tests of child processes can assert none happened. The caller keeps
 * serving; the user gets a typed INTERNAL answer from whoever called.
 */
export const BUG_PREFIX = 'llava-desk: unexpected error';

export function reportBug(where: string, error: unknown): void {
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  try {
    process.stderr.write(`${BUG_PREFIX} in ${where}: ${detail}\n`);
  } catch {
    // stderr closed: nothing more can be done.
  }
}
