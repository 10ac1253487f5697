import type { Settings } from '../api/contract.js';

/** What a new data folder starts with, and what the settings dialog shows before they arrive. */
export const DEFAULT_SETTINGS: Readonly<Settings> = Object.freeze({
  threads: 'auto',
  gpuLayers: 'auto',
  contextSize: 'auto',
  temperature: 0.2,
  maxTokens: 512,
  systemPrompt: '',
  idleUnloadMinutes: 10,
});
