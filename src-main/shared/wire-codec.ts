/**
 * JSON for the web-mode WebSocket, with byte arrays carried as `{"$bytes": "<base64>"}`: the core
 * (src-main/server/) and the renderer (src-renderer/lib/api/) use this one codec. Nothing else is
 * tagged, so plain JSON that happens to hold a `$bytes` key with other keys beside it passes
 * through unchanged. Each side brings its base64: Node's Buffer, the browser's atob/btoa.
 */
export interface Base64 {
  encode(bytes: Uint8Array): string;
  decode(text: string): Uint8Array;
}

export interface WireCodec {
  encodeWire(value: unknown): string;
  decodeWire(text: string): unknown;
}

export function createWireCodec(base64: Base64): WireCodec {
  return {
    encodeWire(value) {
      return JSON.stringify(value, function (this: unknown, key: string, current: unknown) {
        // The holder's own value: a Node Buffer has already become {type, data} by toJSON.
        const raw = (this as Record<string, unknown>)[key];
        return raw instanceof Uint8Array ? { $bytes: base64.encode(raw) } : current;
      });
    },
    decodeWire(text) {
      return JSON.parse(text, (_key, value: unknown) => {
        if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
          const bytes = (value as { $bytes?: unknown }).$bytes;
          if (Object.keys(value).length === 1 && typeof bytes === 'string') {
            return base64.decode(bytes);
          }
        }
        return value;
      });
    },
  };
}
