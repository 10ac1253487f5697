// Types of llama-patches.mjs (plain JS so build-native.mjs runs before any dependency is installed).

export class LlamaPatchError extends Error {}

export interface PatchSeries {
  patches: { name: string; path: string }[];
  fingerprint: string;
}

export function readPatchSeries(patchesDir: string): PatchSeries;

export function applyLlamaPatches(options: {
  srcDir: string;
  patchesDir: string;
  log?: (message: string) => void;
}): { fingerprint: string; patches: string[]; changed: boolean };

export function writePristineSources(options: { srcDir: string; outDir: string }): string[];
