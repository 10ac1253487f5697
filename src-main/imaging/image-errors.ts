import { basename } from 'node:path';
import { LlavaDeskError } from '../common/errors.js';

/** The name an error shows for a file: its base name, never the whole path. */
export function displayName(name: string): string {
  return basename(name) || name;
}

export function unsupportedImage(name: string, why: string, cause?: unknown): LlavaDeskError {
  return new LlavaDeskError('IMAGE_UNSUPPORTED', `${displayName(name)}: ${why}`, { cause });
}

export function corruptImage(name: string, why: string, cause?: unknown): LlavaDeskError {
  return new LlavaDeskError('IMAGE_CORRUPT', `${displayName(name)}: ${why}`, { cause });
}

export function imageTooLarge(name: string, why: string): LlavaDeskError {
  return new LlavaDeskError('IMAGE_TOO_LARGE', `${displayName(name)}: ${why}`);
}

export function imageTimeout(name: string, seconds: number): LlavaDeskError {
  return new LlavaDeskError(
    'IMAGE_TIMEOUT',
    `${displayName(name)}: decoding took longer than ${seconds} s and was stopped; ` +
      'the file may be damaged or built to stall decoders',
  );
}
