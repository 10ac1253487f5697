import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { app, utilityProcess } from 'electron';
import { LlavaDeskError } from '../common/errors.js';
import type { WorkerLauncher } from '../engine/process/worker-channel.js';
import { utilityChannel, workerEnvironment } from './utility-channel.js';

/**
 * The engine worker compiled by `tsc -p tsconfig.node.json` (dist/engine/worker.js); the same
 * file the CLI forks, run here as an Electron utility process.
 */
export function engineWorkerPath(): string {
  return join(app.getAppPath(), 'dist', 'engine', 'worker.js');
}

export function utilityLauncher(modulePath: string = engineWorkerPath()): WorkerLauncher {
  return () => {
    if (!existsSync(modulePath)) {
      throw new LlavaDeskError(
        'ENGINE_NOT_LOADED',
        `The engine worker is not built (${modulePath}). Run \`npm run build\`.`,
      );
    }
    return utilityChannel(
      utilityProcess.fork(modulePath, [], {
        serviceName: 'llava-desk engine',
        env: workerEnvironment(process.env),
        stdio: 'inherit',
      }),
    );
  };
}
