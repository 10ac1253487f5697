import type { WorkerChannel, WorkerExit } from '../engine/process/worker-channel.js';
import { engineProcessEnv } from '../engine/process/engine-env.js';

// Adapts an Electron UtilityProcess to the engine host's WorkerChannel, so the desktop app gets
// the same supervision (ENGINE_CRASHED, restart, backoff) as the child_process host. Written
// against a structural type, not 'electron', so unit tests drive it with a fake process.

export interface UtilityProcessLike {
  postMessage(message: unknown): void;
  kill(): boolean;
  on(event: 'message', listener: (message: unknown) => void): unknown;
  on(event: 'exit', listener: (code: number) => void): unknown;
  on(
    event: 'error',
    listener: (type: 'FatalError', location: string, report: string) => void,
  ): unknown;
}

export function utilityChannel(child: UtilityProcessLike): WorkerChannel {
  const exitListeners: Array<(info: WorkerExit) => void> = [];
  let exited: WorkerExit | undefined;
  const finish = (info: WorkerExit): void => {
    if (exited) return;
    exited = info;
    for (const listener of exitListeners) listener(info);
  };
  // A utility process reports only an exit code; a V8 fatal error arrives first as 'error'.
  child.on('error', (type) => finish({ code: null, signal: type }));
  child.on('exit', (code) => finish({ code, signal: null }));
  return {
    send: (message) => {
      if (!exited) child.postMessage(message);
    },
    onMessage: (listener) => {
      child.on('message', listener);
    },
    onExit: (listener) => {
      if (exited) listener(exited);
      else exitListeners.push(listener);
    },
    kill: () => {
      child.kill();
    },
  };
}

// Variables that would change how the engine's Node starts, or hand it the parent's debugging.
const DROPPED_VARIABLES = [
  'ELECTRON_RUN_AS_NODE',
  'NODE_OPTIONS',
  'NODE_INSPECT',
  'ELECTRON_ENABLE_LOGGING',
];

/** A clean environment for the engine process (after VS Code's utility process host). */
export function workerEnvironment(env: NodeJS.ProcessEnv): Record<string, string> {
  const clean: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (value !== undefined && !DROPPED_VARIABLES.includes(key)) clean[key] = value;
  }
  return engineProcessEnv(clean);
}
