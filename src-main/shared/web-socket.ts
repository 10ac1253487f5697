// Web mode's WebSocket: its path and the subprotocols the page offers (the first names the wire
// format; the access token travels as the second, never in a URL). Shared so the server and the
// renderer use one spelling.

export const WS_PATH = '/api/ws';
/** The WebSocket subprotocol of llava-desk's API wire format (not the engine's RPC, nor a URL scheme). */
export const WS_SUBPROTOCOL = 'llava-desk.v1';
/** Prefix of the subprotocol that carries the access token. */
export const WS_TOKEN_SUBPROTOCOL_PREFIX = 'token.';
