// Web mode's JSON with byte arrays as {"$bytes": base64}; the core's twin is
// src-main/server/wire-codec.ts.

function toBase64(bytes: Uint8Array): string {
  let binary = '';
  const chunk = 0x8000;
  for (let i = 0; i < bytes.length; i += chunk) {
    binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
  }
  return btoa(binary);
}

function fromBase64(text: string): Uint8Array {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

export function encodeWire(value: unknown): string {
  return JSON.stringify(value, (_key, current: unknown) =>
    current instanceof Uint8Array ? { $bytes: toBase64(current) } : current,
  );
}

export function decodeWire(text: string): unknown {
  return JSON.parse(text, (_key, value: unknown) => {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      const bytes = (value as { $bytes?: unknown }).$bytes;
      if (Object.keys(value).length === 1 && typeof bytes === 'string') return fromBase64(bytes);
    }
    return value;
  });
}
