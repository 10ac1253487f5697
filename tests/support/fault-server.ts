// A real HTTP server on 127.0.0.1 that serves files with Range support and injects faults on
// demand: status codes, connections cut at byte N, lying Content-Length, slow bodies, hub-style
// redirects carrying X-Linked-ETag. Shared by the model download tests and the UI's tests.

import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One fault, used for the next `times` requests of a file (default 1), in queue order. */
export type Fault =
  | { kind: 'status'; status: number; times?: number }
  /** Sends headers and the body up to absolute byte `atByte`, then destroys the socket. */
  | { kind: 'cut'; atByte: number; times?: number }
  /** Destroys the socket before any response. */
  | { kind: 'reset'; times?: number };

export interface ServedFile {
  body: Buffer;
  /** Strong ETag; defaults to a hash of the body. */
  etag?: string;
  /** Behave like the hub: `/hf/<repo>/resolve/main/<file>` answers 302 + X-Linked-ETag. */
  linkedSha256?: string;
  /** Announce `extraBytes` more in Content-Length than the body has, then close. */
  lieLengthBy?: number;
  /** Send the body in chunks of this size with `delayMs` between them. */
  slow?: { chunkBytes: number; delayMs: number };
  /** Ignore Range and always send the whole file with 200. */
  noRange?: boolean;
  /** Answer 401 unless `Authorization: Bearer <token>` is sent. */
  requireToken?: string;
  faults?: Fault[];
}

export interface RequestRecord {
  path: string;
  range?: string;
  ifRange?: string;
  authorization?: string;
  status: number;
}

export interface FaultServer {
  /** `http://127.0.0.1:<port>` */
  baseUrl: string;
  /** The base to use as the hub (`hf:` URIs resolve below it). */
  hfBaseUrl: string;
  requests: RequestRecord[];
  /** Serves `file` at `/hf/<repoPath>/resolve/main/<name>` (and the CDN path it redirects to). */
  addHubFile(repoPath: string, name: string, file: ServedFile): string;
  /** Serves `file` at a plain path like `/files/model.gguf`. */
  addFile(path: string, file: ServedFile): string;
  /** Queues more faults for a path already added. */
  addFaults(path: string, faults: Fault[]): void;
  close(): Promise<void>;
}

interface Entry extends ServedFile {
  etag: string;
  faults: Fault[];
}

function takeFault(entry: Entry): Fault | undefined {
  const fault = entry.faults[0];
  if (!fault) return undefined;
  const left = (fault.times ?? 1) - 1;
  if (left <= 0) entry.faults.shift();
  else entry.faults[0] = { ...fault, times: left };
  return fault;
}

function parseRange(header: string | undefined): number | undefined {
  const match = /^bytes=(\d+)-$/.exec(header ?? '');
  return match ? Number(match[1]) : undefined;
}

const wait = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function writeSlowly(
  res: ServerResponse,
  body: Buffer,
  slow: ServedFile['slow'],
  stopAt: number,
): Promise<boolean> {
  const chunk = slow?.chunkBytes ?? 64 * 1024;
  for (let at = 0; at < Math.min(body.length, stopAt); at += chunk) {
    if (res.destroyed) return false;
    const end = Math.min(at + chunk, body.length, stopAt);
    const ok = res.write(body.subarray(at, end));
    if (!ok) await new Promise((r) => res.once('drain', r));
    if (slow) await wait(slow.delayMs);
  }
  return !res.destroyed;
}

export async function startFaultServer(): Promise<FaultServer> {
  const files = new Map<string, Entry>();
  const cdn = new Map<string, string>();
  const requests: RequestRecord[] = [];
  const sockets = new Set<Socket>();

  async function serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    const record: RequestRecord = {
      path,
      range: req.headers.range,
      ifRange: req.headers['if-range'] as string | undefined,
      authorization: req.headers.authorization,
      status: 0,
    };
    requests.push(record);
    const reply = (status: number, headers: Record<string, string | number> = {}): void => {
      record.status = status;
      res.writeHead(status, headers);
    };

    const cdnTarget = cdn.get(path);
    const entry = files.get(cdnTarget ?? path);
    if (!entry) {
      reply(404);
      res.end('not found');
      return;
    }
    if (entry.requireToken && req.headers.authorization !== `Bearer ${entry.requireToken}`) {
      reply(401);
      res.end('unauthorized');
      return;
    }
    // Hub behaviour: the resolve URL redirects to the CDN with the LFS sha256 as X-Linked-ETag.
    if (entry.linkedSha256 !== undefined && cdnTarget === undefined) {
      const fault = entry.faults[0];
      if (!(fault && fault.kind === 'status')) {
        reply(302, {
          location: `/cdn${path}`,
          'x-linked-etag': `"${entry.linkedSha256}"`,
          'x-linked-size': entry.body.length,
        });
        res.end();
        return;
      }
    }

    const fault = takeFault(entry);
    if (fault?.kind === 'reset') {
      record.status = -1;
      req.socket.destroy();
      return;
    }
    if (fault?.kind === 'status') {
      reply(fault.status);
      res.end(`injected ${fault.status}`);
      return;
    }

    const size = entry.body.length;
    let start = entry.noRange ? undefined : parseRange(req.headers.range);
    const ifRange = req.headers['if-range'];
    if (start !== undefined && ifRange !== undefined && ifRange !== entry.etag) start = undefined;
    if (start !== undefined && start >= size) {
      reply(416, { 'content-range': `bytes */${size}` });
      res.end();
      return;
    }
    const from = start ?? 0;
    const body = entry.body.subarray(from);
    const headers: Record<string, string | number> = {
      'content-type': 'application/octet-stream',
      'accept-ranges': entry.noRange ? 'none' : 'bytes',
      etag: entry.etag,
      'content-length': body.length + (entry.lieLengthBy ?? 0),
    };
    if (start !== undefined) headers['content-range'] = `bytes ${from}-${size - 1}/${size}`;
    reply(start !== undefined ? 206 : 200, headers);
    const stopAt = fault?.kind === 'cut' ? Math.max(0, fault.atByte - from) : body.length;
    const finished = await writeSlowly(res, body, entry.slow, stopAt);
    if (!finished) return;
    if (fault?.kind === 'cut' || entry.lieLengthBy) {
      // Let the written bytes reach the client before the socket goes.
      await new Promise<void>((resolve) => res.write('', () => resolve()));
      req.socket.destroy();
      return;
    }
    res.end();
  }

  const server: Server = createServer((req, res) => {
    serve(req, res).catch(() => req.socket.destroy());
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;

  const add = (path: string, file: ServedFile): void => {
    const etag = file.etag ?? `"${createHash('sha1').update(file.body).digest('hex')}"`;
    files.set(path, { ...file, etag, faults: [...(file.faults ?? [])] });
  };

  return {
    baseUrl,
    hfBaseUrl: `${baseUrl}/hf`,
    requests,
    addHubFile(repoPath, name, file) {
      const path = `/hf/${repoPath}/resolve/main/${name}`;
      add(path, file);
      if (file.linkedSha256 !== undefined) cdn.set(`/cdn${path}`, path);
      return `hf:${repoPath}/${name}`;
    },
    addFile(path, file) {
      add(path, file);
      return `${baseUrl}${path}`;
    },
    addFaults(path, faults) {
      const entry = files.get(path);
      if (!entry) throw new Error(`no file at ${path}`);
      entry.faults.push(...faults);
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export function sha256Hex(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Deterministic pseudo-random bytes (xorshift), so tests need no fixtures. */
export function testBytes(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}
