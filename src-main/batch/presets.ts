import { withShortAnswer } from '../engine/prompt/conversation.js';
import { normaliseKeywords, splitKeywords } from './keywords.js';

export type PresetName = 'caption' | 'detailed' | 'keywords' | 'alt-text';
export const PRESET_NAMES: readonly PresetName[] = ['caption', 'detailed', 'keywords', 'alt-text'];

export interface Preset {
  prompt: string;
  maxTokens: number;
}

/** What people ask for when they caption a library or a training set. */
export const PRESETS: Readonly<Record<PresetName, Preset>> = {
  caption: { prompt: 'Write a one-sentence caption for this image.', maxTokens: 64 },
  detailed: { prompt: 'Describe this image in detail.', maxTokens: 256 },
  keywords: {
    prompt:
      'List 5 to 15 keywords for this image, most important first, separated by commas. ' +
      'Answer with the keywords only.',
    maxTokens: 64,
  },
  'alt-text': {
    prompt:
      'Write alt text for this image for someone using a screen reader: one or two plain ' +
      'sentences, at most 125 characters, without "image of" or "picture of".',
    maxTokens: 80,
  },
};

export function isPresetName(value: string): value is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(value);
}

/** The prompt every image gets, as recorded with each description. */
export function jobPrompt(options: { prompt?: string; preset?: PresetName; short?: boolean }) {
  const base = options.prompt ?? PRESETS[options.preset ?? 'detailed'].prompt;
  return withShortAnswer(base, options.short === true);
}

export function defaultMaxTokens(options: { prompt?: string; preset?: PresetName }): number {
  return options.prompt !== undefined ? 256 : PRESETS[options.preset ?? 'detailed'].maxTokens;
}

/**
 * Keywords from a keywords answer: split on commas, semicolons and lines, list markers and
 * punctuation around them removed, duplicates and plural twins merged (see keywords.ts).
 */
export function parseKeywords(text: string): string[] {
  return normaliseKeywords(splitKeywords(text)).keywords;
}
