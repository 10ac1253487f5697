import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchImage, type ImageFetchLimits } from '../../src-main/server/api-image-fetch.js';

// fetchImage against a real HTTP server on loopback with small limits.

let server: Server;
let base: string;
const limits: ImageFetchLimits = { maxBytes: 1000, timeoutMs: 300, maxRedirects: 2 };
const image = Buffer.alloc(600, 7);

beforeAll(async () => {
  server = createServer((req, res) => {
    const path = req.url ?? '/';
    if (path === '/ok.png') {
      res.writeHead(200, { 'Content-Type': 'image/png' }).end(image);
    } else if (path.startsWith('/hop/')) {
      const n = Number(path.slice(5));
      res.writeHead(302, { Location: n > 0 ? `/hop/${n - 1}` : '/ok.png' }).end();
    } else if (path === '/to-file') {
      res.writeHead(302, { Location: 'file:///etc/passwd' }).end();
    } else if (path === '/big-declared') {
      res.writeHead(200, { 'Content-Length': '5000' }).end(Buffer.alloc(5000));
    } else if (path === '/big-chunked') {
      res.writeHead(200);
      for (let i = 0; i < 10; i += 1) res.write(Buffer.alloc(300));
      res.end();
    } else if (path === '/slow') {
      res.writeHead(200);
      res.write(Buffer.alloc(10));
      // Never ends: the time limit must.
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

const get = (path: string, signal = new AbortController().signal) =>
  fetchImage(`${base}${path}`, 'image 1', limits, signal);

describe('fetchImage', () => {
  it('downloads an image and follows a few redirects', async () => {
    expect(Buffer.from(await get('/ok.png'))).toEqual(image);
    expect(Buffer.from(await get('/hop/1'))).toEqual(image);
  });

  it('refuses too many redirects, a redirect to a file, errors, and images over the size cap', async () => {
    const refused = (code: string) => expect.objectContaining({ status: 400, code });
    await expect(get('/hop/5')).rejects.toEqual(refused('image_fetch_failed'));
    await expect(get('/to-file')).rejects.toEqual(refused('invalid_image_url'));
    await expect(get('/missing')).rejects.toEqual(refused('image_fetch_failed'));
    await expect(get('/big-declared')).rejects.toEqual(refused('image_too_large'));
    await expect(get('/big-chunked')).rejects.toEqual(refused('image_too_large'));
  });

  it('gives up at the time limit, and at once when the client goes away', async () => {
    const started = Date.now();
    await expect(get('/slow')).rejects.toMatchObject({ status: 400, message: /longer than 0.3 s/ });
    expect(Date.now() - started).toBeLessThan(5000);
    const leaving = new AbortController();
    const pending = get('/slow', leaving.signal);
    leaving.abort();
    await expect(pending).rejects.toBeDefined();
  });
});
