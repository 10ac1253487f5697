import type { Settings } from '../api/contract.js';

/** What a new data folder starts with, and what the settings dialog shows before they arrive. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  threads: 'auto',
  gpuLayers: 'auto',
  contextSize: 'auto',
  temperature: 0.2,
  maxTokens: 512,
  systemPrompt: '',
  localApi: false,
  localApiPort: 11435,
  idleUnloadMinutes: 10,
  parallelAnswers: 2,
});

/** Where the desktop app's local API listens when the "Local API server" setting is on. */
export function localApiOrigin(port: number): string {
  return `http://127.0.0.1:${port}`;
}
