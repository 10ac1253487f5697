import { fork } from 'node:child_process';
import { engineProcessEnv } from './engine-env.js';
import type { WorkerChannel, WorkerExit, WorkerLauncher } from './worker-channel.js';

export interface ForkOptions {
  /** The worker's entry module (a .js file, or .ts with a loader in `execArgv`). */
  modulePath: string;
  args?: string[];
  execArgv?: string[];
  env?: NodeJS.ProcessEnv;
}

/** Starts the engine as a Node child process with an IPC channel (CLI, web host, tests). */
export function forkLauncher(options: ForkOptions): WorkerLauncher {
  return () => {
    const child = fork(options.modulePath, options.args ?? [], {
      execArgv: options.execArgv ?? [],
      env: engineProcessEnv(options.env ?? process.env),
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    });
    const exitListeners: Array<(info: WorkerExit) => void> = [];
    let exited: WorkerExit | undefined;
    const finish = (info: WorkerExit): void => {
      if (exited) return;
      exited = info;
      for (const listener of exitListeners) listener(info);
    };
    child.once('exit', (code, signal) => finish({ code, signal }));
    child.once('error', () => finish({ code: null, signal: 'spawn-error' }));
    const channel: WorkerChannel = {
      send: (message) => {
        if (child.connected) child.send(message as object);
      },
      onMessage: (listener) => child.on('message', listener),
      onExit: (listener) => {
        if (exited) listener(exited);
        else exitListeners.push(listener);
      },
      kill: () => {
        child.kill('SIGKILL');
      },
    };
    return channel;
  };
}
