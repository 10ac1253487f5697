/**
 * Error codes shared by the core, the CLI, the web host and the renderer. A caller branches on the
 * code, never on the message. Later areas add their codes here.
 */
export const ERROR_CODES = [
  'USAGE',
  'NOT_IMPLEMENTED',
  'HOST_NOT_ALLOWED',
  'RENDERER_NOT_BUILT',
  'INTERNAL',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** The shape every error takes when it crosses a process or network boundary. */
export interface SerializedError {
  code: ErrorCode;
  message: string;
}
