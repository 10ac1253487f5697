import { createHash } from 'node:crypto';
import { mkdtemp, open, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { GgmlType, readGgufFileInfo } from 'node-llama-cpp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import {
  encodeF16,
  encodeQ4_0,
  encodeQ8_0,
  float16BitsToFloat32,
  float32ToFloat16Bits,
} from '../../scripts/gguf/tensor-encoding.js';
import { gguf, writeGgufFile, type GgufValue } from '../../scripts/gguf/writer.js';
import { buildSpmVocab, makeLlavaPair } from '../../scripts/test-model/llava-pair.js';

let dir = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-writer-test-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

describe('float32ToFloat16Bits', () => {
  it.each([
    [1, 0x3c00],
    [-2, 0xc000],
    [0, 0x0000],
    [-0, 0x8000],
    [0.1, 0x2e66],
    [65504, 0x7bff],
    [65520, 0x7c00], // halfway to 2^16 rounds to even, i.e. overflows to infinity
    [Infinity, 0x7c00],
    [-Infinity, 0xfc00],
    [NaN, 0x7e00],
    [2 ** -14, 0x0400], // smallest normal
    [1023 * 2 ** -24, 0x03ff], // largest subnormal
    [2 ** -24, 0x0001], // smallest subnormal
    [2 ** -25, 0x0000], // tie between 0 and 2^-24 goes to even (0)
    [1.5 * 2 ** -25, 0x0001],
    [1.5 * 2 ** -24, 0x0002], // subnormal tie, to even
    [2.5 * 2 ** -24, 0x0002], // subnormal tie, to even
    [-3 * 2 ** -24, 0x8003],
    [1 + 2 ** -11, 0x3c00], // tie, to even
    [1 + 3 * 2 ** -11, 0x3c02], // tie, to even (up)
    [1 + 2 ** -11 + 2 ** -20, 0x3c01], // just above the tie
  ])('%d -> 0x%s', (value, bits) => {
    expect(float32ToFloat16Bits(value)).toBe(bits);
  });

  it('round-trips every finite half value', () => {
    for (let bits = 0; bits < 0x10000; bits++) {
      const exp = (bits >>> 10) & 0x1f;
      if (exp === 31) continue;
      expect(float32ToFloat16Bits(float16BitsToFloat32(bits))).toBe(bits);
    }
  });

  it('encodes little-endian', () => {
    const out = new Uint8Array(4);
    expect(encodeF16(new Float32Array([1, -2]), out)).toBe(4);
    expect(hex(out)).toBe('003c00c0');
  });
});

describe('encodeQ8_0', () => {
  it('uses d = amax / 127 and rounds halves away from zero', () => {
    const x = new Float32Array(32);
    x.set([127, -127, 2.5, -2.5, 0.49, -1.5, 100.2]);
    const out = new Uint8Array(34);
    expect(encodeQ8_0(x, out)).toBe(34);
    // d = 1.0 (f16 0x3c00), then int8 values 127, -127, 3, -3, 0, -2, 100, 0...
    expect(hex(out)).toBe('003c' + '7f81' + '03fd' + '00fe' + '64' + '00'.repeat(25));
  });

  it('writes an all-zero block for zero input', () => {
    const out = new Uint8Array(34).fill(0xaa);
    encodeQ8_0(new Float32Array(32), out);
    expect(hex(out)).toBe('00'.repeat(34));
  });

  it('rejects lengths that are not whole blocks', () => {
    expect(() => encodeQ8_0(new Float32Array(33), new Uint8Array(100))).toThrow(
      expect.objectContaining({ code: 'GGUF_BAD_BLOCK_LENGTH' }),
    );
  });
});

describe('encodeQ4_0', () => {
  it('uses the signed max: d = max / -8, nibble = min(15, trunc(x/d + 8.5))', () => {
    const x = new Float32Array(32);
    x.set([-8, 7, 7.9, 0, -0.6, 0.5]);
    x[16] = 3;
    x[17] = -3;
    const out = new Uint8Array(18);
    expect(encodeQ4_0(x, out)).toBe(18);
    // d = 1.0; low nibbles 0,15,15,8,7,9,8.. ; high nibbles (elements 16..) 11,5,8..
    expect(hex(out)).toBe('003c' + 'b0' + '5f' + '8f' + '88' + '87' + '89' + '88'.repeat(10));
  });

  it('gets a negative scale when the largest magnitude is positive', () => {
    const x = new Float32Array(32);
    x.set([16, -16, 0, 4, -3]);
    const out = new Uint8Array(18);
    encodeQ4_0(x, out);
    // d = -2 (0xc000); x/d + 8.5 = 0.5, 16.5, 8.5, 6.5, 10 -> 0, 15 (clamped), 8, 6, 10
    expect(hex(out)).toBe('00c0' + '80' + '8f' + '88' + '86' + '8a' + '88'.repeat(11));
  });
});

const EVERY_TYPE: [string, GgufValue][] = [
  ['general.architecture', gguf.string('llama')],
  ['test.u8', gguf.u8(250)],
  ['test.i8', gguf.i8(-120)],
  ['test.u16', gguf.u16(65000)],
  ['test.i16', gguf.i16(-32000)],
  ['test.u32', gguf.u32(4_000_000_000)],
  ['test.i32', gguf.i32(-2_000_000_000)],
  ['test.u64', gguf.u64(2n ** 63n + 5n)],
  ['test.i64', gguf.i64(-(2n ** 62n))],
  ['test.f32', gguf.f32(0.5)],
  ['test.f64', gguf.f64(Math.PI)],
  ['test.yes', gguf.bool(true)],
  ['test.no', gguf.bool(false)],
  ['test.text', gguf.string('héllo ▁ 🦙')],
  ['test.arr_u8', gguf.array('u8', [1, 2, 255])],
  ['test.arr_i16', gguf.array('i16', [-1, 2])],
  ['test.arr_i32', gguf.array('i32', [-7, 0, 7])],
  ['test.arr_u64', gguf.array('u64', [1n, 2n])],
  ['test.arr_f32', gguf.array('f32', [0.25, -1.5])],
  ['test.arr_f64', gguf.array('f64', [1e-300])],
  ['test.arr_bool', gguf.array('bool', [true, false, true])],
  ['test.arr_str', gguf.array('string', ['a', '', 'ünï'])],
];

describe('writeGgufFile', () => {
  it('round-trips metadata and tensors through node-llama-cpp readGgufFileInfo', async () => {
    const path = join(dir, 'roundtrip.gguf');
    const weights = Float32Array.from({ length: 64 * 3 }, (_, i) => Math.sin(i));
    const result = await writeGgufFile(path, {
      metadata: new Map(EVERY_TYPE),
      tensors: [
        { name: 'a.weight', shape: [5], type: 'f32', data: new Float32Array([1, 2, 3, 4, 5]) },
        { name: 'b.weight', shape: [64, 3], type: 'f16', data: weights },
        { name: 'c.weight', shape: [64, 3], type: 'q8_0', data: weights },
        {
          name: 'd.weight',
          shape: [32, 2, 2, 2],
          type: 'q4_0',
          data: (out, start) => out.forEach((_, i) => (out[i] = (start + i) / 64 - 1)),
        },
      ],
    });

    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect(info.version).toBe(3);
    expect(Number(info.tensorCount)).toBe(4);
    const meta = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(meta.general?.architecture).toBe('llama');
    expect(meta.general?.alignment).toBe(32);
    const t = meta.test ?? {};
    expect(t).toMatchObject({
      u8: 250,
      i8: -120,
      u16: 65000,
      i16: -32000,
      u32: 4_000_000_000,
      i32: -2_000_000_000,
      f32: 0.5,
      f64: Math.PI,
      yes: true,
      no: false,
      text: 'héllo ▁ 🦙',
      arr_u8: [1, 2, 255],
      arr_i16: [-1, 2],
      arr_i32: [-7, 0, 7],
      arr_f32: [0.25, -1.5],
      arr_f64: [1e-300],
      arr_bool: [true, false, true],
      arr_str: ['a', '', 'ünï'],
    });
    expect(BigInt(t.u64 as bigint)).toBe(2n ** 63n + 5n);
    expect(BigInt(t.i64 as bigint)).toBe(-(2n ** 62n));
    expect((t.arr_u64 as bigint[]).map((v) => BigInt(v))).toEqual([1n, 2n]);

    const tensors = info.tensorInfo ?? [];
    expect(tensors.map((x) => x.name)).toEqual(['a.weight', 'b.weight', 'c.weight', 'd.weight']);
    expect(tensors.map((x) => x.dimensions.map(Number))).toEqual([
      [5],
      [64, 3],
      [64, 3],
      [32, 2, 2, 2],
    ]);
    expect(tensors.map((x) => x.ggmlType)).toEqual([
      GgmlType.F32,
      GgmlType.F16,
      GgmlType.Q8_0,
      GgmlType.Q4_0,
    ]);
    // 20 B -> 32, 384 B, 6 blocks * 34 = 204 B -> 224, then 8 blocks * 18
    expect(tensors.map((x) => Number(x.offset))).toEqual([0, 32, 416, 640]);
    expect(info.infoEndOffset).toBe(result.dataOffset);
    expect(result.dataOffset % 32).toBe(0);
    const file = await readFile(path);
    expect(file.length).toBe(result.byteLength);
    expect(file.length).toBe(result.dataOffset + 640 + 160);
    expect(file.readUInt32LE(0)).toBe(0x46554747);

    // The data really sits at the advertised offsets.
    const dOffset = Number(tensors[3]?.fileOffset);
    const expectedD = new Uint8Array(144);
    encodeQ4_0(
      Float32Array.from({ length: 256 }, (_, i) => i / 64 - 1),
      expectedD,
    );
    expect(hex(file.subarray(dOffset, dOffset + 144))).toBe(hex(expectedD));
    const aOffset = Number(tensors[0]?.fileOffset);
    expect(file.readFloatLE(aOffset + 16)).toBe(5);
  });

  it('streams large tensors in chunks identical to a one-shot encode', async () => {
    const n = 32 * 1000;
    const values = Float32Array.from({ length: n }, (_, i) => Math.cos(i * 0.37) * 3);
    const write = (
      name: string,
      chunkElements: number,
      data: Float32Array | ((o: Float32Array, s: number) => void),
    ) =>
      writeGgufFile(
        join(dir, name),
        { metadata: {}, tensors: [{ name: 'w', shape: [32, 1000], type: 'q8_0', data }] },
        { chunkElements },
      );
    await write('oneshot.gguf', 1 << 20, values);
    await write('chunked.gguf', 96, (out, start) =>
      out.set(values.subarray(start, start + out.length)),
    );
    expect(await sha256(join(dir, 'chunked.gguf'))).toBe(await sha256(join(dir, 'oneshot.gguf')));
  });

  it('honours a custom alignment and rejects bad tensors with codes', async () => {
    const path = join(dir, 'align64.gguf');
    await writeGgufFile(
      path,
      {
        metadata: { 'general.architecture': gguf.string('x') },
        tensors: [
          { name: 'a', shape: [3], type: 'f32', data: new Float32Array(3) },
          { name: 'b', shape: [3], type: 'f32', data: new Float32Array(3) },
        ],
      },
      { alignment: 64 },
    );
    const info = await readGgufFileInfo(path, { logWarnings: false });
    expect((info.metadata as unknown as { general: { alignment: number } }).general.alignment).toBe(
      64,
    );
    expect(info.tensorInfo?.map((x) => Number(x.offset))).toEqual([0, 64]);
    expect((info.infoEndOffset ?? 1) % 64).toBe(0);

    const bad = (shape: number[], type: 'f32' | 'q8_0', name = 't') =>
      writeGgufFile(join(dir, 'bad.gguf'), {
        metadata: {},
        tensors: [{ name, shape, type, data: () => undefined }],
      });
    await expect(bad([33], 'q8_0')).rejects.toMatchObject({ code: 'GGUF_INVALID_TENSOR' });
    await expect(bad([0], 'f32')).rejects.toMatchObject({ code: 'GGUF_INVALID_TENSOR' });
    await expect(bad([1, 1, 1, 1, 1], 'f32')).rejects.toMatchObject({
      code: 'GGUF_INVALID_TENSOR',
    });
    await expect(bad([1], 'f32', 'x'.repeat(64))).rejects.toMatchObject({
      code: 'GGUF_INVALID_TENSOR',
    });
    await expect(
      writeGgufFile(join(dir, 'bad.gguf'), { metadata: { k: gguf.u8(256) }, tensors: [] }),
    ).rejects.toMatchObject({ code: 'GGUF_INVALID_VALUE' });
    // Failed writes leave nothing behind.
    expect((await readdir(dir)).filter((f) => f.startsWith('bad.gguf'))).toEqual([]);
  });
});

async function sha256(path: string): Promise<string> {
  const handle = await open(path, 'r');
  try {
    const hash = createHash('sha256');
    for await (const chunk of handle.createReadStream()) hash.update(chunk as Buffer);
    return hash.digest('hex');
  } finally {
    await handle.close();
  }
}

describe('makeLlavaPair determinism', () => {
  it('same seed gives identical files, another seed different ones', async () => {
    const make = (name: string, seed: number) =>
      makeLlavaPair({ outDir: join(dir, name), seed, llmType: 'q8_0' });
    const a = await make('a', 7);
    const b = await make('b', 7);
    const c = await make('c', 8);
    expect(await sha256(a.modelPath)).toBe(await sha256(b.modelPath));
    expect(await sha256(a.mmprojPath)).toBe(await sha256(b.mmprojPath));
    expect(await sha256(a.modelPath)).not.toBe(await sha256(c.modelPath));
    expect(await sha256(a.mmprojPath)).not.toBe(await sha256(c.mmprojPath));
  });

  it('builds an SPM vocabulary of the requested size with unique pieces', () => {
    for (const size of [260, 1024, 32000]) {
      const vocab = buildSpmVocab(size);
      expect(vocab.tokens.length).toBe(size);
      expect(vocab.scores.length).toBe(size);
      expect(vocab.types.length).toBe(size);
      expect(new Set(vocab.tokens).size).toBe(size);
    }
    const vocab = buildSpmVocab(1024);
    expect(vocab.tokens.slice(0, 4)).toEqual(['<unk>', '<s>', '</s>', '<0x00>']);
    expect(vocab.tokens[258]).toBe('<0xFF>');
    expect(vocab.types[3]).toBe(6);
    expect(vocab.tokens[259]).toBe('\u2581');
    expect(() => buildSpmVocab(259)).toThrow(
      expect.objectContaining({ code: 'LLAVA_PAIR_BAD_OPTION' }),
    );
  });
});
