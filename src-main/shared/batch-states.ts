import type { BatchState } from '../api/contract.js';

/** States in which the app's one batch job holds the folder: a new job must wait or cancel it. */
export const ACTIVE_BATCH_STATES: readonly BatchState[] = [
  'starting',
  'running',
  'pausing',
  'paused',
];

/** States after Pause was asked for: finishing what is generated (`pausing`) or holding. */
export const PAUSE_ASKED_BATCH_STATES: readonly BatchState[] = ['pausing', 'paused'];

export function isBatchActive(state: BatchState): boolean {
  return ACTIVE_BATCH_STATES.includes(state);
}

export function isPauseAsked(state: BatchState): boolean {
  return PAUSE_ASKED_BATCH_STATES.includes(state);
}
