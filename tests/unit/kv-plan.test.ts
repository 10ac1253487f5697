import { describe, expect, it } from 'vitest';
import {
  appendToKvState,
  countImageMarkers,
  emptyKvState,
  keyImageMarkers,
  markerEnd,
  planContinuation,
  stripImageKeys,
  truncateKvState,
} from '../../src-main/engine/kv-plan.js';
import { SequencePool } from '../../src-main/engine/sequence-pool.js';

function stateOf(...parts: Array<[string, number]>) {
  return parts.reduce((s, [text, nPast]) => appendToKvState(s, text, nPast), emptyKvState());
}

describe('planning what to evaluate', () => {
  const prompt = 'SYS USER: <img>\nq1 ASSISTANT:';
  const answered = stateOf([prompt, 30], [' a1', 33]);

  it('evaluates only the new text of a follow-up', () => {
    const plan = planContinuation(answered, `${prompt} a1</s>USER: q2 ASSISTANT:`);
    expect(plan.keep).toEqual({ textLength: prompt.length + 3, nPast: 33 });
    expect(plan.remainder).toBe('</s>USER: q2 ASSISTANT:');
  });

  it('cuts at the last boundary before an edit', () => {
    const plan = planContinuation(answered, 'SYS USER: <img>\nq1-edited ASSISTANT:');
    expect(plan.keep.nPast).toBe(0);
    expect(plan.remainder).toBe('SYS USER: <img>\nq1-edited ASSISTANT:');
  });

  it('steps back one boundary when nothing is new (regenerate needs fresh logits)', () => {
    const plan = planContinuation(answered, prompt);
    expect(plan.keep.nPast).toBe(0);
    expect(plan.remainder).toBe(prompt);
    const withImageBoundary = stateOf(['SYS USER: <img>', 20], ['\nq1 ASSISTANT:', 30]);
    expect(planContinuation(withImageBoundary, prompt).keep.nPast).toBe(20);
  });

  it('truncates the state to a boundary', () => {
    const cut = truncateKvState(answered, { textLength: prompt.length, nPast: 30 });
    expect(cut.text).toBe(prompt);
    expect(cut.checkpoints.map((c) => c.nPast)).toEqual([0, 30]);
  });
});

describe('image identity in the planning text', () => {
  it('keys each marker with its image so equal text with other pictures is no cache hit', () => {
    const a = keyImageMarkers('x <m> y <m> z', '<m>', ['id1', 'id2']);
    const b = keyImageMarkers('x <m> y <m> z', '<m>', ['id1', 'id3']);
    expect(a).not.toBe(b);
    expect(stripImageKeys(a)).toBe('x <m> y <m> z');
    const state = stateOf([a, 40]);
    expect(planContinuation(state, `${b} more`).keep.nPast).toBe(0);
    expect(markerEnd(a, a.indexOf('<m>'), '<m>')).toBe(a.indexOf(' y'));
  });

  it('counts image markers, keyed or not, without overlaps', () => {
    expect(countImageMarkers('x <m> y <m> z', '<m>')).toBe(2);
    const keyed = keyImageMarkers('<m><m>\nwhat?', '<m>', ['id1', 'id2']);
    expect(countImageMarkers(keyed, '<m>')).toBe(2);
    expect(countImageMarkers(keyed.slice(0, keyed.indexOf('<m>', 1)), '<m>')).toBe(1);
    expect(countImageMarkers('aaaa', 'aa')).toBe(2);
    expect(countImageMarkers('no images', '<m>')).toBe(0);
    expect(countImageMarkers('anything', '')).toBe(0);
  });
});

describe('sequences shared by sessions', () => {
  it('keeps a session on its sequence and hands others the free ones', () => {
    const pool = new SequencePool(2);
    const a = pool.acquire('a', 'p').slot;
    const b = pool.acquire('b', 'p').slot;
    expect(a.seqId).not.toBe(b.seqId);
    expect(pool.acquire('a', 'p').slot.seqId).toBe(a.seqId);
  });

  it('evicts the least recently used session when all sequences are taken', () => {
    const pool = new SequencePool(2);
    const a = pool.acquire('a', 'p').slot.seqId;
    pool.acquire('b', 'p');
    pool.acquire('a', 'p');
    expect(pool.acquire('c', 'p').slot.seqId).not.toBe(a);
  });

  it('offers the sequence holding the longest usable prefix as a donor', () => {
    const pool = new SequencePool(3);
    const first = pool.acquire('a', 'SYS <m>#1 q').slot;
    first.kv = stateOf(['SYS <m>#1', 20], [' q', 25]);
    const { slot, donor } = pool.acquire('b', 'SYS <m>#1 other');
    expect(slot.seqId).not.toBe(first.seqId);
    expect(donor?.seqId).toBe(first.seqId);
    expect(pool.acquire('c', 'unrelated').donor).toBeUndefined();
  });
});
