import { session } from 'electron';
import { isAppPageUrl } from '../url-schemes/app-url.js';
import { rendererCsp } from '../url-schemes/csp.js';
import { IMAGE_SCHEME } from '../url-schemes/image-url.js';

/**
 * The default session's rules: pages get no permissions (camera, notifications, ...), no request
 * leaves the machine from a page (the app is offline; downloads run in the main process), and the
 * dev server's pages get the same CSP header as the packaged ones.
 */
export function applySessionPolicy(devServerUrl: string | undefined): void {
  const ses = session.defaultSession;
  ses.setPermissionRequestHandler((_contents, permission, callback) =>
    callback(permission === 'clipboard-sanitized-write'),
  );
  ses.setPermissionCheckHandler(
    (_contents, permission) => permission === 'clipboard-sanitized-write',
  );
  ses.webRequest.onBeforeRequest((details, callback) => {
    const url = details.url;
    const local =
      isAppPageUrl(url, devServerUrl) ||
      url.startsWith(`${IMAGE_SCHEME}:`) ||
      url.startsWith('data:') ||
      url.startsWith('blob:') ||
      url.startsWith('devtools:') ||
      (devServerUrl !== undefined && url.startsWith(devServerUrl.replace(/^http/, 'ws')));
    callback({ cancel: !local });
  });
  if (devServerUrl !== undefined) {
    const csp = rendererCsp({ devServerUrl });
    ses.webRequest.onHeadersReceived((details, callback) => {
      const headers = { ...(details.responseHeaders ?? {}) };
      if (details.resourceType === 'mainFrame' && isAppPageUrl(details.url, devServerUrl)) {
        headers['Content-Security-Policy'] = [csp];
      }
      callback({ responseHeaders: headers });
    });
  }
}
