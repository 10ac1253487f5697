import { InvalidArgumentError, type Command } from 'commander';
import { AppCore } from '../../app/app-core.js';
import { createDispatcher } from '../../app/dispatch.js';
import { ensureDataLayout, resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError } from '../../common/errors.js';
import { HF_TOKEN_ENV, hfBaseUrl } from '../../models/download/resolve-uri.js';
import { startWebHost } from '../../server/web-host.js';
import { dataDirOption } from '../data-dir-option.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../io.js';

export const DEFAULT_PORT = 47330;
/** Another model catalog file (tests and mirrors); default: the package's models/catalog.json. */
export const CATALOG_ENV = 'LLAVA_DESK_CATALOG';

interface ServeOptions {
  port: number;
  host: string;
  allowRemote?: boolean;
  dataDir?: string;
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new InvalidArgumentError('a port is a whole number from 0 to 65535');
  }
  return port;
}

export function registerServe(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('serve the app in a browser (web mode), on this machine only by default')
    .option('--port <n>', 'port (0 picks a free one)', parsePort, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on', '127.0.0.1')
    .option('--allow-remote', 'allow a non-loopback --host (anyone on the network can connect)')
    .addOption(dataDirOption())
    .action(async (options: ServeOptions) => {
      const dataDir = resolveDataDir(options.dataDir);
      let core: AppCore | undefined;
      try {
        await ensureDataLayout(dataDir);
        core = await AppCore.open(appCoreOptions(dataDir));
        const dispatch = createDispatcher(core);
        const host = await startWebHost({
          host: options.host,
          port: options.port,
          dataDir,
          allowRemote: options.allowRemote === true,
          api: { dispatch, subscribe: (listener) => (core as AppCore).subscribe(listener) },
        });
        ctx.io.out(`llava-desk is serving at ${host.url}\n`);
        ctx.io.out(`data folder: ${dataDir}\n`);
        await waitForShutdownSignal();
        await host.close();
        await core.close();
        ctx.setExit(EXIT.ok);
      } catch (error) {
        await core?.close();
        if (error instanceof LlavaDeskError) {
          ctx.io.err(`llava-desk serve: ${error.message}\n`);
          ctx.setExit(error.code === 'HOST_NOT_ALLOWED' ? EXIT.usage : EXIT.failure);
          return;
        }
        throw error;
      }
    });
}

function appCoreOptions(dataDir: string): Parameters<typeof AppCore.open>[0] {
  const env = process.env;
  const catalogPath = env[CATALOG_ENV];
  const token = env[HF_TOKEN_ENV];
  const retryBase = Number(env['LLAVA_DESK_RETRY_BASE_MS']);
  return {
    dataDir,
    mode: 'web',
    hfBaseUrl: hfBaseUrl(env),
    ...(token !== undefined && token !== '' ? { hfToken: token } : {}),
    ...(catalogPath !== undefined && catalogPath !== '' ? { catalogPath } : {}),
    ...(Number.isFinite(retryBase) && retryBase >= 0
      ? { downloadRetry: { baseDelayMs: retryBase } }
      : {}),
  };
}

function waitForShutdownSignal(): Promise<void> {
  return new Promise((resolvePromise) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolvePromise();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}
