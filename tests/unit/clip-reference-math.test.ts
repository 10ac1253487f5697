// The reference implementation's scalar functions (scripts/vision-parity/clip-reference.ts): the
// parity test is only as good as these.

import { describe, expect, it } from 'vitest';
import { erf, geluErf, ggmlGelu, quickGelu } from '../../scripts/vision-parity/clip-reference.js';

describe('reference activations', () => {
  it('erf matches tabulated values to 1e-14 on both branches', () => {
    const table: [number, number][] = [
      [0, 0],
      [0.1, 0.1124629160182849],
      [0.5, 0.5204998778130465],
      [1, 0.8427007929497149],
      [2, 0.9953222650189527],
      [2.5, 0.999593047982555],
      [3, 0.9999779095030014],
      [4.5, 0.9999999998033839],
    ];
    for (const [x, want] of table) {
      expect(Math.abs(erf(x) - want)).toBeLessThan(1e-14);
      expect(Math.abs(erf(-x) + want)).toBeLessThan(1e-14);
    }
  });

  it('GELU is x * Phi(x); quick GELU is x * sigmoid(1.702 x)', () => {
    expect(geluErf(1)).toBeCloseTo(0.8413447460685429, 14);
    expect(geluErf(-2)).toBeCloseTo(-0.04550026389635842, 14);
    expect(quickGelu(1)).toBeCloseTo(1 / (1 + Math.exp(-1.702)), 14);
  });

  it("ggml's GELU is the fp16 tanh approximation: close to erf GELU, not equal", () => {
    let maxDiff = 0;
    for (let x = -6; x <= 6; x += 0.01)
      maxDiff = Math.max(maxDiff, Math.abs(ggmlGelu(x) - geluErf(x)));
    expect(maxDiff).toBeGreaterThan(1e-4);
    expect(maxDiff).toBeLessThan(5e-3);
    expect(ggmlGelu(-12)).toBe(0);
    expect(ggmlGelu(12)).toBe(12);
  });
});
