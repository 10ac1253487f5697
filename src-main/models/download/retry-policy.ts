/** Bounded exponential backoff for transient failures (5xx, 429, resets, timeouts). */
export interface RetryPolicy {
  /** Attempts in a row that make no new progress before giving up. */
  maxAttemptsWithoutProgress: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** Hard cap on attempts for one file, progress or not. */
  maxAttemptsTotal: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxAttemptsWithoutProgress: 6,
  baseDelayMs: 1000,
  maxDelayMs: 30_000,
  maxAttemptsTotal: 200,
};

/** Delay before retry number `attempt` (1-based): base * 2^(attempt-1), capped, with jitter. */
export function backoffDelayMs(policy: RetryPolicy, attempt: number, random = Math.random): number {
  const exponential = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(exponential * (0.75 + 0.5 * random()));
}

const RETRYABLE_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'EPIPE',
  'ETIMEDOUT',
  'EAI_AGAIN',
  'ENETUNREACH',
  'ENETDOWN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'ERR_STREAM_PREMATURE_CLOSE',
  'DOWNLOAD_INCOMPLETE',
]);

/** Whether a thrown network error is worth another attempt. */
export function isRetryableNetworkError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  if (typeof code === 'string' && RETRYABLE_CODES.has(code)) return true;
  const message = error instanceof Error ? error.message : '';
  return /socket hang up|aborted|premature close/i.test(message);
}

export function isRetryableStatus(status: number): boolean {
  return status >= 500 || status === 429 || status === 408;
}

/** Waits `ms`, or rejects at once when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
