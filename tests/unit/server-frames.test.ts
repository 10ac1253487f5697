import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_FILE_BYTES } from '../../src-main/imaging/decode-options.js';
import {
  decodeClientFrame,
  MAX_FRAME_BYTES,
  MAX_SMALL_FRAME_BYTES,
} from '../../src-main/server/client-frames.js';
import { encodeWire } from '../../src-main/server/wire-codec.js';

const frame = (value: unknown): Buffer => Buffer.from(encodeWire(value));

describe('WebSocket frame limits of web mode', () => {
  it('derives the socket limit from the image limit: base64 of 256 MiB plus 1 MiB', () => {
    expect(DEFAULT_MAX_FILE_BYTES).toBe(256 * 1024 * 1024);
    expect(MAX_FRAME_BYTES).toBe(4 * Math.ceil(DEFAULT_MAX_FILE_BYTES / 3) + MAX_SMALL_FRAME_BYTES);
    expect(MAX_FRAME_BYTES).toBeLessThan(343 * 1024 * 1024);
  });

  it('fits the longest valid question (100,000 units, each escaped to 6 bytes) in a small frame', () => {
    const worst = frame({
      type: 'call',
      id: Number.MAX_SAFE_INTEGER,
      method: 'chats.edit',
      params: {
        conversationId: 'c'.repeat(64),
        messageId: 'm'.repeat(128),
        text: '\u0001'.repeat(100_000),
        images: Array.from({ length: 16 }, () => 'f'.repeat(64)),
        short: false,
        detail: 'standard',
      },
    });
    expect(worst.length).toBeGreaterThan(600_000);
    expect(worst.length).toBeLessThanOrEqual(MAX_SMALL_FRAME_BYTES);
    expect(decodeClientFrame(worst).method).toBe('chats.edit');
  });

  it('reads a large image upload without parsing its bytes as JSON', () => {
    const data = new Uint8Array(MAX_SMALL_FRAME_BYTES + 7).map((_, i) => i % 251);
    const call = decodeClientFrame(
      frame({ type: 'call', id: 3, method: 'images.add', params: { name: 'a.png', data } }),
    );
    expect(call).toMatchObject({ id: 3, method: 'images.add', params: { name: 'a.png' } });
    expect(Buffer.from((call.params as { data: Uint8Array }).data).equals(Buffer.from(data))).toBe(
      true,
    );
  });

  it('refuses a large frame that is anything else, with the id where it can be read', () => {
    const text = 'x'.repeat(MAX_SMALL_FRAME_BYTES);
    expect(() =>
      decodeClientFrame(
        frame({ type: 'call', id: 9, method: 'chats.list', params: { query: text } }),
      ),
    ).toThrow(expect.objectContaining({ code: 'REQUEST_TOO_LARGE', callId: 9 }));
    // Bytes in a large frame, but not an image upload.
    const bytes = new Uint8Array(MAX_SMALL_FRAME_BYTES);
    expect(() =>
      decodeClientFrame(frame({ type: 'call', id: 10, method: 'chats.list', params: { bytes } })),
    ).toThrow(expect.objectContaining({ code: 'REQUEST_TOO_LARGE', callId: 10 }));
    expect(() =>
      decodeClientFrame(Buffer.from(`[${'0,'.repeat(MAX_SMALL_FRAME_BYTES)}0]`)),
    ).toThrow(expect.objectContaining({ code: 'REQUEST_TOO_LARGE', callId: null }));
  });

  it('refuses what is not a call with a typed error', () => {
    for (const text of ['null', '1', '"x"', '[]', '{}', '{"type":"call","id":"1","method":"a"}']) {
      expect(() => decodeClientFrame(Buffer.from(text)), text).toThrow(
        expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
      );
    }
    expect(() =>
      decodeClientFrame(Buffer.from('{"type":"call","id":4,"method":"a","params":null}')),
    ).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', callId: 4 }));
  });
});
