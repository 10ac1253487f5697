// Test tooling: reads a GGUF file's F32/F16 tensors as float64 arrays (what the reference
// implementation computes with), in ggml's element order (ne0 fastest).

import { open } from 'node:fs/promises';
import { GgmlType, readGgufFileInfo } from 'node-llama-cpp';
import { float16BitsToFloat32 } from '../gguf/tensor-encoding.js';

export interface Tensor64 {
  /** ggml order: shape[0] is the fastest-varying dimension. */
  readonly shape: readonly number[];
  readonly data: Float64Array;
}

/** Every tensor of `path` by name; only F32 and F16 tensors are supported. */
export async function readTensors(path: string): Promise<Map<string, Tensor64>> {
  const info = await readGgufFileInfo(path, {
    sourceType: 'filesystem',
    readTensorInfo: true,
    logWarnings: false,
  });
  const file = await open(path, 'r');
  try {
    const out = new Map<string, Tensor64>();
    for (const t of info.fullTensorInfo ?? []) {
      const shape = t.dimensions.map(Number);
      const count = shape.reduce((a, b) => a * b, 1);
      const bytesPer = t.ggmlType === GgmlType.F32 ? 4 : t.ggmlType === GgmlType.F16 ? 2 : 0;
      if (bytesPer === 0) throw new Error(`${t.name}: ggml type ${t.ggmlType} is not F32/F16`);
      const buf = Buffer.alloc(count * bytesPer);
      await file.read(buf, 0, buf.length, Number(t.fileOffset));
      const data = new Float64Array(count);
      for (let i = 0; i < count; i++) {
        data[i] =
          bytesPer === 4 ? buf.readFloatLE(i * 4) : float16BitsToFloat32(buf.readUInt16LE(i * 2));
      }
      out.set(t.name, { shape, data });
    }
    return out;
  } finally {
    await file.close();
  }
}
