import { protocol } from 'electron';
import { APP_SCHEME } from '../url-schemes/app-url.js';
import { capturePageCsp, rendererCsp } from '../url-schemes/csp.js';
import { IMAGE_SCHEME } from '../url-schemes/image-url.js';
import { answerAppRequest, answerImageRequest, type ProtocolAnswer } from '../url-schemes/serve.js';
import { CAPTURE_PAGES } from '../capture/pages.js';

/** Must run before the app is ready: both schemes behave like https (origin, fetch, CSP). */
export function registerPrivilegedSchemes(): void {
  protocol.registerSchemesAsPrivileged([
    {
      scheme: APP_SCHEME,
      privileges: { standard: true, secure: true, supportFetchAPI: true, corsEnabled: true },
    },
    { scheme: IMAGE_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } },
  ]);
}

function toResponse(answer: ProtocolAnswer): Response {
  return new Response(answer.body ? Buffer.from(answer.body) : null, {
    status: answer.status,
    headers: answer.headers,
  });
}

export interface ProtocolFolders {
  rendererDir: string;
  imagesDir: string;
}

/** Serves the app's pages and the image store; nothing else on disk is reachable. */
export function handleProtocols(folders: ProtocolFolders): void {
  const pages = {
    rendererDir: folders.rendererDir,
    generated: CAPTURE_PAGES,
    cspFor: (pathname: string) => (CAPTURE_PAGES.has(pathname) ? capturePageCsp() : rendererCsp()),
  };
  protocol.handle(APP_SCHEME, async (request) =>
    toResponse(await answerAppRequest(pages, request.url, request.method)),
  );
  protocol.handle(IMAGE_SCHEME, async (request) =>
    toResponse(await answerImageRequest(folders.imagesDir, request.url, request.method)),
  );
}
