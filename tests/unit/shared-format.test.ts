import { describe, expect, it } from 'vitest';
import {
  formatBytes,
  formatDuration,
  formatMs,
  formatTimeLeft,
  percent,
  textBar,
} from '../../src-main/shared/format.js';

describe('the one formatter of sizes and durations (CLI and app)', () => {
  it('shows sizes in decimal units, as the model hub lists a file', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1000)).toBe('1.0 kB');
    expect(formatBytes(4_081_004_224)).toBe('4.1 GB');
    expect(formatBytes(624_434_368)).toBe('624 MB');
    expect(formatBytes(999_600)).toBe('1.0 MB'); // never "1000 kB"
    expect(formatBytes(2e15)).toBe('2000 TB');
  });

  it('writes durations compactly, time left in words, steps in ms or s', () => {
    expect(formatDuration(undefined)).toBe('-');
    expect(formatDuration(12_000)).toBe('12s');
    expect(formatDuration(187_000)).toBe('3m07s');
    expect(formatDuration(3_900_000)).toBe('1h05m');
    expect(formatTimeLeft(undefined)).toBe('estimating time left');
    expect(formatTimeLeft(0.2)).toBe('1 s left');
    expect(formatTimeLeft(600)).toBe('10 min left');
    expect(formatTimeLeft(3900)).toBe('1 h 5 min left');
    expect(formatMs(850)).toBe('850 ms');
    expect(formatMs(2400)).toBe('2.4 s');
  });

  it('gives percent and a text bar', () => {
    expect(percent(5, undefined)).toBeUndefined();
    expect(percent(1, 3)).toBe(33);
    expect(percent(9, 3)).toBe(100);
    expect(textBar(0.5, 8)).toBe('####....');
    expect(textBar(2, 4, '-')).toBe('####');
  });
});
