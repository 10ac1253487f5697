import { describe, expect, it } from 'vitest';
import {
  appendEvaluation,
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

describe('recording an evaluation in the cache state', () => {
  const kv = stateOf(['SYS ', 2]);
  const remainder = keyImageMarkers('USER: <img> q ASSISTANT:', '<img>', ['pic-a']);
  const plan = { keep: { textLength: 4, nPast: 2 }, remainder };
  const chunks = [
    { type: 'text', nTokens: 3 },
    { type: 'image', nTokens: 10 },
    { type: 'text', nTokens: 5 },
  ];

  it('adds a boundary right after each image (its key included) and one at the end', () => {
    const next = appendEvaluation(kv, plan, { nPast: 20, chunks }, '<img>');
    expect(next.text).toBe(`SYS ${remainder}`);
    const afterImage = 4 + markerEnd(remainder, remainder.indexOf('<img>'), '<img>');
    expect(next.checkpoints).toEqual([
      { textLength: 0, nPast: 0 },
      { textLength: 4, nPast: 2 },
      { textLength: afterImage, nPast: 15 },
      { textLength: next.text.length, nPast: 20 },
    ]);
    // A new question about the same picture keeps everything up to the image.
    const other = `SYS ${keyImageMarkers('USER: <img> other ASSISTANT:', '<img>', ['pic-a'])}`;
    expect(planContinuation(next, other).keep).toEqual({ textLength: afterImage, nPast: 15 });
  });

  it('records only the end when positions do not follow token counts', () => {
    const next = appendEvaluation(kv, plan, { nPast: 12, chunks }, '<img>');
    expect(next.checkpoints.at(-1)).toEqual({ textLength: next.text.length, nPast: 12 });
    expect(next.checkpoints).toHaveLength(3);
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
