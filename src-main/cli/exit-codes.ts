/** Exit codes of the llava-desk command, shared by every sub-command. */
export const EXIT = {
  ok: 0,
  /** Wrong flags or arguments, or a command that is not available yet. */
  usage: 2,
  /** A bad input file: an image or a model the tool cannot use. */
  badInput: 3,
  /** The engine, the network or the disk failed. */
  failure: 4,
  /** A batch finished with some items failed (the others done). */
  partial: 5,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
