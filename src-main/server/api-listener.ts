import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { ApiResponse, EventName } from '../api/contract.js';
import { reportBug } from '../common/report-bug.js';
import { publishDiscovery } from './discovery.js';
import { allowedHostHeaders } from './loopback.js';
import { SECURITY_HEADERS } from './security-headers.js';
import { createWsApi } from './ws-api.js';

export interface ApiListener {
  host: string;
  port: number;
  token: string;
  close(): Promise<void>;
}

/**
 * The API contract's WebSocket alone on a loopback port, with a fresh token and no pages: what
 * the desktop app opens so that `llava-desk ask` and `describe` can attach to it (through the
 * discovery file). Same checks as web mode's socket: the token, a Host naming this server and
 * its own Origin; any plain HTTP request is answered 404.
 */
export async function startApiListener(api: {
  dispatch: (method: unknown, params: unknown) => Promise<ApiResponse>;
  subscribe: (listener: (name: EventName, payload: unknown) => void) => () => void;
}): Promise<ApiListener> {
  const host = '127.0.0.1';
  const token = randomBytes(24).toString('base64url');
  let allowedHosts = new Set<string>();
  const wsApi = createWsApi({
    token,
    allowedHosts: () => allowedHosts,
    dispatch: api.dispatch,
    subscribe: api.subscribe,
  });
  const server = createServer((_req, res) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) res.setHeader(name, value);
    res.writeHead(404, { 'Content-Type': 'text/plain; charset=utf-8' });
    res.end('Not found\n');
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  server.on('upgrade', (req, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    try {
      wsApi.handleUpgrade(req, socket, head);
    } catch (error) {
      reportBug('opening a WebSocket', error);
      socket.destroy();
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  allowedHosts = allowedHostHeaders(host, port);
  return {
    host,
    port,
    token,
    close: () =>
      new Promise<void>((resolve) => {
        wsApi.close();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * Opens the API listener and says where in the data folder's discovery file; returns what closes
 * both (the file first, so no client finds a port that is going away).
 */
export async function openAttachPoint(
  dataDir: string,
  api: Parameters<typeof startApiListener>[0],
): Promise<{ listener: ApiListener; close(): Promise<void> }> {
  const listener = await startApiListener(api);
  try {
    const unpublish = await publishDiscovery(dataDir, {
      host: listener.host,
      port: listener.port,
      token: listener.token,
    });
    return {
      listener,
      close: async () => {
        await unpublish();
        await listener.close();
      },
    };
  } catch (error) {
    await listener.close();
    throw error;
  }
}
