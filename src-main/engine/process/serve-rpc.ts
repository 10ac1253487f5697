import { serializeError } from '../../common/errors.js';
import { reportBug } from '../../common/report-bug.js';
import { isRpcHostMessage, type RpcMethodMap, type RpcWorkerMessage } from './rpc-messages.js';
import { exitNow, exitWhenParentGone } from './parent-watch.js';
import { parentChannel } from './utility-port.js';

export interface HandlerContext<E> {
  emit(event: E): void;
  /** Aborted when the host cancels this request. */
  signal: AbortSignal;
}

export type RpcHandlers<M extends RpcMethodMap> = {
  [K in keyof M & string]: (
    params: M[K]['params'],
    context: HandlerContext<M[K]['event']>,
  ) => Promise<M[K]['result']> | M[K]['result'];
};

export interface RpcPort {
  send(message: RpcWorkerMessage): void;
  onMessage(listener: (message: unknown) => void): void;
}

/**
 * The parent-process IPC channel of a forked child (or a utility process's parentPort). The
 * process exits when that channel or the parent goes away (it must never outlive its host).
 */
export function processPort(): RpcPort {
  const channel = parentChannel();
  if (!channel) throw new Error('the engine worker must be started with an IPC channel');
  exitWhenParentGone(channel);
  // Any way out must be immediate: a graceful exit mid-generation hangs (see exitNow). So SIGTERM
  // and a fatal error end the process at once; the host sees the exit as ENGINE_CRASHED.
  process.once('SIGTERM', exitNow);
  const fatal = (error: unknown): void => {
    reportBug('the engine process', error);
    exitNow();
  };
  process.on('uncaughtException', fatal);
  process.on('unhandledRejection', fatal);
  return { send: (message) => channel.send(message), onMessage: channel.onMessage };
}

/** Worker side of the protocol: dispatches requests to handlers, one answer per request. */
export function serveRpc<M extends RpcMethodMap>(port: RpcPort, handlers: RpcHandlers<M>): void {
  const running = new Map<number, AbortController>();
  port.onMessage((message) => {
    if (!isRpcHostMessage(message)) return;
    if (message.kind === 'cancel') {
      running.get(message.seq)?.abort();
      return;
    }
    const { seq, method, params } = message;
    const handler = (handlers as Record<string, RpcHandlers<RpcMethodMap>[string] | undefined>)[
      method
    ];
    if (!handler) {
      port.send({
        kind: 'error',
        seq,
        error: { code: 'INTERNAL', message: `unknown engine method ${method}` },
      });
      return;
    }
    const controller = new AbortController();
    running.set(seq, controller);
    const context = {
      emit: (event: unknown) => port.send({ kind: 'event', seq, event }),
      signal: controller.signal,
    };
    Promise.resolve()
      .then(() => handler(params, context))
      .then(
        (value) => port.send({ kind: 'result', seq, value }),
        (error: unknown) => {
          const stack = error instanceof Error ? error.stack : undefined;
          port.send({
            kind: 'error',
            seq,
            error: { ...serializeError(error), ...(stack ? { stack } : {}) },
          });
        },
      )
      .finally(() => running.delete(seq));
  });
  port.send({ kind: 'ready' });
}
