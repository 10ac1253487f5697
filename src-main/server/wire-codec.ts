/**
 * JSON for the web-mode WebSocket, with byte arrays carried as `{"$bytes": "<base64>"}` (the
 * renderer's twin is src-renderer/lib/api/wire.ts). Nothing else is tagged, so plain JSON that
 * happens to hold a `$bytes` key with other keys beside it passes through unchanged.
 */
export function encodeWire(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, current: unknown) {
    const raw = (this as Record<string, unknown>)[key];
    if (raw instanceof Uint8Array) {
      return { $bytes: Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('base64') };
    }
    return current;
  });
}

export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const keys = Object.keys(value);
      const bytes = (value as { $bytes?: unknown }).$bytes;
      if (keys.length === 1 && typeof bytes === 'string') {
        const buffer = Buffer.from(bytes, 'base64');
        return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
      }
    }
    return value;
  });
}
