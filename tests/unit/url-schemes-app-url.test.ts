import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  APP_INDEX_URL,
  APP_ORIGIN,
  appAssetPath,
  isAppPageUrl,
  mimeTypeOf,
} from '../../src-main/url-schemes/app-url.js';
import { capturePageCsp, rendererCsp } from '../../src-main/url-schemes/csp.js';
import { answerAppRequest } from '../../src-main/url-schemes/serve.js';
import { CONTENT_SECURITY_POLICY } from '../../src-main/server/security-headers.js';
import { ASK_PATH, CAPTURE_PAGES, OVERLAY_PATH } from '../../src-main/capture/pages.js';

describe('app URLs', () => {
  const root = '/app/out/renderer';

  it('maps app URLs into the renderer folder', () => {
    expect(appAssetPath(root, APP_INDEX_URL)).toBe(join(root, 'index.html'));
    expect(appAssetPath(root, `${APP_ORIGIN}/`)).toBe(join(root, 'index.html'));
    expect(appAssetPath(root, `${APP_ORIGIN}/assets/index-1.js?v=2`)).toBe(
      join(root, 'assets', 'index-1.js'),
    );
  });

  it('refuses other origins and every way out of the folder', () => {
    const refused = [
      'llava-desk://other/index.html',
      'file:///app/out/renderer/index.html',
      `${APP_ORIGIN}/assets/..%2f..%2fmain%2findex.js`,
      `${APP_ORIGIN}/assets%5c..%5c..%5cmain%5cindex.js`,
      `${APP_ORIGIN}/%00`,
      `${APP_ORIGIN}/%E0%A4%A`,
      'llava-desk://user@app/index.html',
      'nonsense',
    ];
    for (const url of refused) expect(appAssetPath(root, url), url).toBeUndefined();
    // Plain dot segments are removed by URL parsing itself, so they stay inside the folder.
    expect(appAssetPath(root, `${APP_ORIGIN}/../../main/index.js`)).toBe(
      join(root, 'main', 'index.js'),
    );
    expect(appAssetPath(root, `${APP_ORIGIN}/a/%2e%2e/%2e%2e/main/index.js`)).toBe(
      join(root, 'main', 'index.js'),
    );
  });

  it('knows its own pages (and the dev server in development)', () => {
    expect(isAppPageUrl(APP_INDEX_URL)).toBe(true);
    expect(isAppPageUrl(`${APP_ORIGIN}${ASK_PATH}`)).toBe(true);
    expect(isAppPageUrl('http://localhost:5173/')).toBe(false);
    expect(isAppPageUrl('http://localhost:5173/', 'http://localhost:5173')).toBe(true);
    expect(isAppPageUrl('http://localhost:5174/', 'http://localhost:5173')).toBe(false);
    expect(isAppPageUrl('https://example.com/', 'http://localhost:5173')).toBe(false);
    expect(isAppPageUrl('file:///index.html')).toBe(false);
  });

  it('types the files it serves', () => {
    expect(mimeTypeOf('a/index.html')).toMatch(/^text\/html/);
    expect(mimeTypeOf('a/x.JS')).toMatch(/^text\/javascript/);
    expect(mimeTypeOf('a/x.unknown')).toBe('application/octet-stream');
  });
});

describe('content security policies', () => {
  it('the renderer policy matches web mode plus the image scheme', () => {
    const csp = rendererCsp();
    for (const part of CONTENT_SECURITY_POLICY.split('; ')) {
      if (part.startsWith('img-src')) continue;
      expect(csp).toContain(part);
    }
    expect(csp).toContain('llava-image:');
    expect(csp).not.toContain("'unsafe-eval'");
    expect(csp).toMatch(/script-src 'self'(;|$)/);
  });

  it('the dev server may push updates over its own WebSocket only', () => {
    expect(rendererCsp({ devServerUrl: 'http://localhost:5173' })).toContain(
      "connect-src 'self' ws://localhost:5173 http://localhost:5173",
    );
  });

  it('the capture pages run no script at all', () => {
    expect(capturePageCsp()).toContain("default-src 'none'");
    expect(capturePageCsp()).not.toContain('script-src');
    for (const html of CAPTURE_PAGES.values()) expect(html).not.toMatch(/<script/i);
  });
});

describe('serving the app', () => {
  let dir: string;
  const pages = (): Parameters<typeof answerAppRequest>[0] => ({
    rendererDir: join(dir, 'renderer'),
    generated: CAPTURE_PAGES,
    cspFor: (path: string) => (CAPTURE_PAGES.has(path) ? capturePageCsp() : rendererCsp()),
  });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'llava-desk-app-protocol-'));
    await mkdir(join(dir, 'renderer', 'assets'), { recursive: true });
    await writeFile(join(dir, 'renderer', 'index.html'), '<!doctype html><title>x</title>');
    await writeFile(join(dir, 'renderer', 'assets', 'a.js'), 'export {}');
    await writeFile(join(dir, 'secret.txt'), 'secret');
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('serves pages with the CSP as a header, scripts with their type', async () => {
    const index = await answerAppRequest(pages(), APP_INDEX_URL);
    expect(index.status).toBe(200);
    expect(index.headers['Content-Security-Policy']).toBe(rendererCsp());
    const script = await answerAppRequest(pages(), `${APP_ORIGIN}/assets/a.js`);
    expect(script.headers['Content-Type']).toMatch(/^text\/javascript/);
    expect(script.headers['Content-Security-Policy']).toBeUndefined();
    const overlay = await answerAppRequest(pages(), `${APP_ORIGIN}${OVERLAY_PATH}`);
    expect(overlay.status).toBe(200);
    expect(overlay.headers['Content-Security-Policy']).toBe(capturePageCsp());
  });

  it('answers 404 outside the renderer folder and 405 for writes', async () => {
    expect((await answerAppRequest(pages(), `${APP_ORIGIN}/../secret.txt`)).status).toBe(404);
    expect((await answerAppRequest(pages(), `${APP_ORIGIN}/%2e%2e/secret.txt`)).status).toBe(404);
    expect((await answerAppRequest(pages(), `${APP_ORIGIN}/missing.js`)).status).toBe(404);
    expect((await answerAppRequest(pages(), APP_INDEX_URL, 'PUT')).status).toBe(405);
  });
});
