import { describe, expect, it } from 'vitest';
import * as browser from '../../src-renderer/lib/api/wire.js';
import * as node from '../../src-main/server/wire-codec.js';

describe('the one wire codec, with each side’s base64', () => {
  it('reads on one side what the other wrote, bytes and Buffers included', () => {
    const bytes = new Uint8Array(70_000).map((_, i) => (i * 7) % 256);
    const value = { a: bytes, b: Buffer.from([7, 8]), c: { $bytes: 'x', d: 1 }, e: [1, 'two'] };
    const fromNode = browser.decodeWire(node.encodeWire(value)) as Record<string, unknown>;
    const fromBrowser = node.decodeWire(browser.encodeWire(value)) as Record<string, unknown>;
    for (const decoded of [fromNode, fromBrowser]) {
      expect([...(decoded.a as Uint8Array)]).toEqual([...bytes]);
      expect([...(decoded.b as Uint8Array)]).toEqual([7, 8]);
      expect(decoded.c).toEqual({ $bytes: 'x', d: 1 });
      expect(decoded.e).toEqual([1, 'two']);
    }
    expect(browser.encodeWire(value)).toBe(node.encodeWire(value));
  });
});
