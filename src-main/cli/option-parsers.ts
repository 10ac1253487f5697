import { InvalidArgumentError } from 'commander';

/** A whole number of at least `min`, for options like --max-tokens and --threads. */
export function integer(name: string, min: number): (value: string) => number {
  return (value) => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) {
      throw new InvalidArgumentError(`${name} is a whole number ≥ ${min}`);
    }
    return n;
  };
}

export function temperature(value: string): number {
  const t = Number(value);
  if (!Number.isFinite(t) || t < 0 || t > 5) throw new InvalidArgumentError('a number from 0 to 5');
  return t;
}

/** One of a fixed set of words. */
export function choice<T extends string>(allowed: readonly T[]): (value: string) => T {
  return (value) => {
    if (!(allowed as readonly string[]).includes(value)) {
      throw new InvalidArgumentError(allowed.join(' or '));
    }
    return value as T;
  };
}

export const detail = choice(['standard', 'high'] as const);
