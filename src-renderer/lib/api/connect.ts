import { clientOver, type ApiClient } from './client';
import { PreloadTransport } from './preload-transport';
import { WebSocketTransport } from './ws-transport';

const TOKEN_KEY = 'llava-desk.token';

/**
 * The access token of web mode: from the URL fragment (`#token=...`), kept for this tab so a
 * reload still connects, and then removed from the address bar (no token in bookmarks).
 */
export function takeAccessToken(location: Location, storage: Storage): string | undefined {
  const fromHash = new URLSearchParams(location.hash.replace(/^#/, '')).get('token');
  if (fromHash) {
    storage.setItem(TOKEN_KEY, fromHash);
    history.replaceState(null, '', `${location.pathname}${location.search}`);
    return fromHash;
  }
  return storage.getItem(TOKEN_KEY) ?? undefined;
}

/** The client for this page: the preload in Electron, else the WebSocket of web mode. */
export function connectApi(): ApiClient | undefined {
  const bridge = window.llavaDesk;
  if (bridge && typeof bridge.invoke === 'function')
    return clientOver(new PreloadTransport(bridge));
  const token = takeAccessToken(window.location, window.sessionStorage);
  if (token === undefined) return undefined;
  return clientOver(new WebSocketTransport(token));
}
