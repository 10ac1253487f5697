import { randomBytes } from 'node:crypto';
import { InvalidArgumentError, type Command } from 'commander';
import { apiBackendOf } from '../../server/app-api-backend.js';
import { AppCore } from '../../app/app-core.js';
import { createDispatcher } from '../../app/dispatch.js';
import { ensureDataLayout, resolveDataDir } from '../../common/data-dir.js';
import { LlavaDeskError } from '../../common/errors.js';
import { reportBug } from '../../common/report-bug.js';
import { HF_TOKEN_ENV, hfBaseUrl } from '../../models/download/resolve-uri.js';
import { createApiHttp } from '../../server/api-http.js';
import { DEFAULT_IMAGE_FETCH } from '../../server/api-image-fetch.js';
import { publishDiscovery } from '../../server/discovery.js';
import { isLoopbackHost } from '../../server/loopback.js';
import { startWebHost } from '../../server/web-host.js';
import { dataDirOption } from '../data-dir-option.js';
import { EXIT } from '../exit-codes.js';
import type { CommandContext } from '../io.js';

export const DEFAULT_PORT = 47330;

/** Printed at start under `--allow-remote` with a non-loopback --host. */
export const REMOTE_WARNING =
  'llava-desk serve: warning: --allow-remote serves over plain HTTP. The access token in the ' +
  'address, your questions, images and answers cross the network in clear text: anyone on it ' +
  'can read them and use the token. Use it only on a network you trust, and stop serving when ' +
  'you are done.\n';
/** A fixed API key for `--allow-remote` (else one is generated at each start and printed). */
export const API_KEY_ENV = 'LLAVA_DESK_API_KEY';
/** Another model catalog file (tests and mirrors); default: the package's models/catalog.json. */
export const CATALOG_ENV = 'LLAVA_DESK_CATALOG';

interface ServeOptions {
  port: number;
  host: string;
  allowRemote?: boolean;
  dataDir?: string;
  api: boolean;
  apiCorsOrigin: string[];
  allowImageFetch?: boolean;
}

function parseOrigin(value: string, previous: string[]): string[] {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('an origin is scheme://host[:port], e.g. http://localhost:3000');
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/') {
    throw new InvalidArgumentError('an origin is scheme://host[:port], e.g. http://localhost:3000');
  }
  return [...previous, url.origin];
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
    .option('--no-api', 'do not serve the OpenAI- and Ollama-compatible API (/v1, /api)')
    .option(
      '--api-cors-origin <origin>',
      'a web origin allowed to call the API from a browser (repeatable; default none)',
      parseOrigin,
      [] as string[],
    )
    .option(
      '--allow-image-fetch',
      'let API requests name http(s) image URLs, downloaded by this server (32 MiB, 15 s)',
    )
    .addOption(dataDirOption())
    .action(async (options: ServeOptions) => {
      const dataDir = resolveDataDir(options.dataDir);
      let core: AppCore | undefined;
      try {
        await ensureDataLayout(dataDir);
        core = await AppCore.open(appCoreOptions(dataDir));
        const dispatch = createDispatcher(core);
        // Beyond this machine the API needs a key (programs on this machine need none).
        const apiKey =
          options.allowRemote === true
            ? (process.env[API_KEY_ENV] ?? `lld-${randomBytes(24).toString('base64url')}`)
            : undefined;
        const httpApi = options.api
          ? createApiHttp({
              backend: apiBackendOf(core),
              corsOrigins: options.apiCorsOrigin,
              ...(options.allowImageFetch === true ? { imageFetch: DEFAULT_IMAGE_FETCH } : {}),
              ...(apiKey !== undefined ? { apiKey } : {}),
            })
          : undefined;
        const host = await startWebHost({
          host: options.host,
          port: options.port,
          dataDir,
          allowRemote: options.allowRemote === true,
          api: { dispatch, subscribe: (listener) => (core as AppCore).subscribe(listener) },
          ...(httpApi ? { httpApi } : {}),
        });
        if (options.allowRemote === true && !isLoopbackHost(options.host)) {
          ctx.io.err(REMOTE_WARNING);
        }
        // `llava-desk ask` of this data folder finds the server here and runs through it.
        const unpublish = isLoopbackHost(options.host)
          ? await publishDiscovery(dataDir, {
              host: options.host,
              port: host.port,
              token: host.token,
            })
          : undefined;
        ctx.io.out(`llava-desk is serving at ${host.url}\n`);
        ctx.io.out(`data folder: ${dataDir}\n`);
        if (httpApi) {
          const origin = new URL(host.url).origin;
          ctx.io.out(`OpenAI-compatible API: ${origin}/v1  Ollama-compatible API: ${origin}/api\n`);
          if (apiKey !== undefined) {
            ctx.io.out(`API key (from other machines: Authorization: Bearer <key>): ${apiKey}\n`);
          }
        }
        // Only while serving: a refused start (tests run it in-process) changes nothing.
        const release = catchStrayFailures();
        await waitForShutdownSignal();
        await unpublish?.();
        await host.close();
        await core.close();
        release();
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

/**
 * Process-wide last resort of a server: a promise rejected with nobody listening is a bug, logged
 * (tests of `serve` assert their stderr has none) while the server keeps serving. A thrown
 * exception that reached the top (every request and connection has its own handler, so this
 * is not one request's doing) is logged the same way and ends the process: its state is
 * unknown. The engine process notices and exits with it.
 */
function catchStrayFailures(): () => void {
  const onRejection = (reason: unknown): void => reportBug('serve (unhandled rejection)', reason);
  const onException = (error: Error): void => {
    reportBug('serve (uncaught exception)', error);
    process.exit(EXIT.failure);
  };
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
  };
}
