// The engine worker runs under two hosts: child_process.fork (process.send / 'message') and
// Electron's utilityProcess (process.parentPort, whose 'message' events wrap the payload in
// `{ data }`). This picks the right one without importing 'electron'.

export interface ParentPortLike {
  postMessage(message: unknown): void;
  on(event: 'message', listener: (event: { data: unknown }) => void): unknown;
}

export interface ParentChannel {
  kind: 'utility' | 'fork';
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
}

interface ProcessLike {
  parentPort?: ParentPortLike | undefined;
  send?: ((message: unknown) => boolean) | undefined;
  on(event: 'message', listener: (message: unknown) => void): unknown;
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
    };
  }
  if (typeof proc.send === 'function') {
    return {
      kind: 'fork',
      send: (message) => {
        proc.send?.(message);
      },
      onMessage: (listener) => {
        proc.on('message', listener);
      },
    };
  }
  return undefined;
}
