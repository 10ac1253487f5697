import { shell, type WebContents } from 'electron';
import { isSafeExternalUrl } from './window-options.js';

/**
 * Every window's web contents: no navigation away from the loaded page, no new windows (http(s)
 * links, which the renderer opens with target=_blank, go to the user's browser), no webviews.
 */
export function guardContents(contents: WebContents): void {
  contents.on('will-navigate', (event) => event.preventDefault());
  contents.on('will-attach-webview', (event) => event.preventDefault());
  contents.setWindowOpenHandler(({ url }) => {
    if (isSafeExternalUrl(url)) void shell.openExternal(url);
    return { action: 'deny' };
  });
}
