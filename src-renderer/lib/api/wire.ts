import { createWireCodec } from '../../../src-main/shared/wire-codec.js';

/** The web mode's wire codec (src-main/shared/wire-codec.ts) with the browser's base64. */
export const { encodeWire, decodeWire } = createWireCodec({
  encode: (bytes) => {
    let binary = '';
    const chunk = 0x8000;
    for (let i = 0; i < bytes.length; i += chunk) {
      binary += String.fromCharCode(...bytes.subarray(i, i + chunk));
    }
    return btoa(binary);
  },
  decode: (text) => {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  },
});
