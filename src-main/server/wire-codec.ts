import { createWireCodec } from '../shared/wire-codec.js';

/** The web mode's wire codec (src-main/shared/wire-codec.ts) with Node's base64. */
export const { encodeWire, decodeWire } = createWireCodec({
  encode: (bytes) =>
    Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('base64'),
  decode: (text) => {
    const buffer = Buffer.from(text, 'base64');
    return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength);
  },
});
