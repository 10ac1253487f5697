import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { readEncoderSpec } from '../../src-main/imaging/read-encoder-spec.js';
import {
  readGgufHeader,
  readGgufTensorNames,
  readGgufValues,
} from '../../src-main/models/gguf/read-values.js';
import { gguf, writeGgufFile } from '../../scripts/gguf/writer.js';

let dir = '';
let path = '';
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'gguf-read-values-'));
  path = join(dir, 'mmproj.gguf');
  await writeGgufFile(path, {
    metadata: {
      'general.architecture': gguf.string('clip'),
      'tokenizer.ggml.tokens': gguf.array('string', ['<s>', '</s>', 'é']),
      'clip.vision.image_size': gguf.u32(336),
      'clip.vision.patch_size': gguf.u32(14),
      'clip.projector_type': gguf.string('mlp'),
      'clip.vision.image_mean': gguf.array('f32', [0.5, 0.25, 0.125]),
      'clip.vision.image_grid_pinpoints': gguf.array('i32', [336, 672, 672, 336]),
      'clip.use_gelu': gguf.bool(true),
      'x.i8': gguf.i8(-5),
      'x.u64': gguf.u64(2n ** 40n),
      'x.f64': gguf.f64(-1.5),
    },
    tensors: [{ name: 'w', shape: [32], type: 'f32', data: new Float32Array(32) }],
  });
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('readGgufValues', () => {
  it('decodes the asked keys of every value type and skips the rest', async () => {
    const keys = [
      'general.architecture',
      'tokenizer.ggml.tokens',
      'clip.vision.image_mean',
      'clip.use_gelu',
      'x.i8',
      'x.u64',
      'x.f64',
      'not.there',
    ];
    const values = await readGgufValues(path, new Set(keys));
    expect(Object.fromEntries(values)).toEqual({
      'general.architecture': 'clip',
      'tokenizer.ggml.tokens': ['<s>', '</s>', 'é'],
      'clip.vision.image_mean': [0.5, 0.25, 0.125],
      'clip.use_gelu': true,
      'x.i8': -5,
      'x.u64': 2n ** 40n,
      'x.f64': -1.5,
    });
  });

  it('reads an mmproj’s encoder settings', async () => {
    expect(await readEncoderSpec(path)).toEqual({
      imageSize: 336,
      patchSize: 14,
      projectorType: 'mlp',
      gridPinpoints: [
        [336, 672],
        [672, 336],
      ],
      imageMean: [0.5, 0.25, 0.125],
      imageNewline: false,
    });
  });

  it('lists the tensor names, and sees LLaVA-1.6’s v.image_newline', async () => {
    expect(await readGgufTensorNames(path)).toEqual(new Set(['w']));
    const withNewline = join(dir, 'mmproj-1.6.gguf');
    await writeGgufFile(withNewline, {
      metadata: {
        'general.architecture': gguf.string('clip'),
        'clip.vision.image_size': gguf.u32(336),
        'clip.vision.patch_size': gguf.u32(14),
        'clip.vision.image_grid_pinpoints': gguf.array('i32', [672, 672]),
      },
      tensors: [
        { name: 'mm.0.weight', shape: [32], type: 'f32', data: new Float32Array(32) },
        { name: 'v.image_newline', shape: [32], type: 'f32', data: new Float32Array(32) },
      ],
    });
    expect(await readGgufTensorNames(withNewline)).toEqual(
      new Set(['mm.0.weight', 'v.image_newline']),
    );
    expect(await readEncoderSpec(withNewline)).toMatchObject({
      gridPinpoints: [[672, 672]],
      imageNewline: true,
    });
  });

  it('refuses a file that is not GGUF, or whose header is cut short, with NOT_GGUF', async () => {
    const notGguf = join(dir, 'photo.gguf');
    await writeFile(notGguf, Buffer.from('\xff\xd8\xff\xe0 not a model', 'latin1'));
    await expect(readGgufValues(notGguf, new Set(['a']))).rejects.toBeInstanceOf(TypeError);
    const cut = join(dir, 'cut.gguf');
    await writeFile(cut, (await readFile(path)).subarray(0, 120));
    await expect(readGgufValues(cut, new Set(['x.f64']))).rejects.toBeInstanceOf(RangeError);
    await expect(readEncoderSpec(cut)).rejects.toMatchObject({ code: 'NOT_GGUF' });
    await expect(readEncoderSpec(notGguf)).rejects.toMatchObject({ code: 'NOT_GGUF' });
  });

  it('reads a whole header: values but the skipped ones, and where each tensor lies', async () => {
    const withTensors = join(dir, 'tensors.gguf');
    await writeGgufFile(withTensors, {
      metadata: {
        'general.architecture': gguf.string('llama'),
        'tokenizer.ggml.tokens': gguf.array('string', ['<s>', '</s>']),
      },
      tensors: [
        { name: 'a', shape: [8, 2], type: 'f32', data: new Float32Array(16) },
        { name: 'b', shape: [4], type: 'f32', data: Float32Array.from([1, 2, 3, 4]) },
      ],
    });
    const header = await readGgufHeader(withTensors, new Set(['tokenizer.ggml.tokens']));
    expect(Object.fromEntries(header.metadata)).toEqual({
      'general.alignment': 32,
      'general.architecture': 'llama',
    });
    expect(header.tensors.map((t) => [t.name, t.dimensions, t.ggmlType])).toEqual([
      ['a', [8, 2], 0],
      ['b', [4], 0],
    ]);
    const bytes = await readFile(withTensors);
    const b = header.tensors[1]!;
    expect(bytes.readFloatLE(b.fileOffset + 12)).toBe(4);
    expect(b.fileOffset + 16).toBeLessThanOrEqual(bytes.length);
    await writeFile(join(dir, 'cut-header.gguf'), bytes.subarray(0, header.dataOffset - 20));
    await expect(readGgufHeader(join(dir, 'cut-header.gguf'))).rejects.toBeInstanceOf(RangeError);
  });
});
