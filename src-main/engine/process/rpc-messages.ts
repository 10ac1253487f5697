import type { SerializedError } from '../../api/errors.js';

/**
 * The wire format between the engine host and the engine process (after Signal's mainWorker):
 * requests carry a sequence number and a method name; the worker answers each with exactly one
 * `result` or `error`, and may send any number of `event`s for it before (streamed tokens).
 */
export type RpcMethodMap = Record<string, { params: unknown; result: unknown; event: unknown }>;

export type RpcRequest<M extends RpcMethodMap> = {
  [K in keyof M & string]: { kind: 'request'; seq: number; method: K; params: M[K]['params'] };
}[keyof M & string];

export interface RpcCancel {
  kind: 'cancel';
  seq: number;
}

export type RpcHostMessage<M extends RpcMethodMap> = RpcRequest<M> | RpcCancel;

export type RpcWorkerMessage =
  | { kind: 'result'; seq: number; value: unknown }
  | { kind: 'error'; seq: number; error: SerializedError & { stack?: string } }
  | { kind: 'event'; seq: number; event: unknown }
  | { kind: 'ready' };

export function isRpcWorkerMessage(value: unknown): value is RpcWorkerMessage {
  if (typeof value !== 'object' || value === null) return false;
  const kind = (value as { kind?: unknown }).kind;
  return kind === 'result' || kind === 'error' || kind === 'event' || kind === 'ready';
}

export function isRpcHostMessage(value: unknown): value is RpcHostMessage<RpcMethodMap> {
  if (typeof value !== 'object' || value === null) return false;
  const msg = value as { kind?: unknown; seq?: unknown; method?: unknown };
  if (typeof msg.seq !== 'number') return false;
  return msg.kind === 'cancel' || (msg.kind === 'request' && typeof msg.method === 'string');
}
