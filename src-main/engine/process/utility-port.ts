// The engine worker runs under two hosts: child_process.fork (process.send / 'message') and
// Electron's utilityProcess (process.parentPort, whose 'message' events wrap the payload in
// `{ data }`). This picks the right one without importing 'electron'.

export interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
  /** Electron's MessagePortMain: the other end (the main process) is gone. */
  on(event: 'close', listener: () => void): unknown;
}

export interface ParentChannel {
  kind: 'utility' | 'fork';
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the channel to the host closes (the host exited, crashed or let go). */
  onClose(listener: () => void): void;
}

interface ProcessLike {
  parentPort?: ParentPortLike | undefined;
  send?:
    | ((message: unknown, handle?: undefined, options?: undefined, done?: () => void) => boolean)
    | undefined;
  connected?: boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'disconnect', listener: () => void): unknown;
}

function isParentPort(value: unknown): value is ParentPortLike {
  const port = value as Partial<ParentPortLike> | null | undefined;
  return typeof port?.postMessage === 'function' && typeof port.on === 'function';
}

/** The channel to the host, or undefined when the process was started without one. */
export function parentChannel(
  proc: ProcessLike = process as unknown as ProcessLike,
): ParentChannel | undefined {
  const port = proc.parentPort;
  if (isParentPort(port)) {
    return {
      kind: 'utility',
      send: (message) => port.postMessage(message),
      onMessage: (listener) => {
        port.on('message', (event) => listener(event.data));
      },
      onClose: (listener) => {
        port.on('close', listener);
      },
    };
  }
  if (typeof proc.send === 'function') {
    return {
      kind: 'fork',
      send: (message) => {
        // After the host is gone a send would throw (or emit an unhandled 'error'): drop it.
        if (proc.connected === false) return;
        proc.send?.(message, undefined, undefined, () => undefined);
      },
      onMessage: (listener) => {
        proc.on('message', listener);
      },
      onClose: (listener) => {
        proc.on('disconnect', listener);
      },
    };
  }
  return undefined;
}
