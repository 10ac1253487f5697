import { describe, expect, it } from 'vitest';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import { SequenceGate } from '../../src-main/engine/sequence-gate.js';

/** Resolves once pending promise callbacks have run. */
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

function track<T>(promise: Promise<T>): { done: () => boolean; value: Promise<T> } {
  let done = false;
  void promise.then(
    () => (done = true),
    () => (done = true),
  );
  return { done: () => done, value: promise };
}

describe('SequenceGate', () => {
  it('admits as many answers as there are sequences; the next waits for a release', async () => {
    const gate = new SequenceGate(2, () => false);
    const a = await gate.enter('interactive');
    await gate.enter('interactive');
    const third = track(gate.enter('interactive'));
    await settle();
    expect(third.done()).toBe(false);
    a.release();
    await settle();
    expect(third.done()).toBe(true);
  });

  it('admits a waiting question before batch items that waited longer', async () => {
    const gate = new SequenceGate(1, () => false);
    const holder = await gate.enter('batch');
    const order: string[] = [];
    const batch = gate.enter('batch').then((h) => (order.push('batch'), h));
    const question = gate.enter('interactive').then((h) => (order.push('question'), h));
    holder.release();
    (await question).release();
    await batch;
    expect(order).toEqual(['question', 'batch']);
  });

  it('takes a generating batch item’s sequence for a question, never a question’s', async () => {
    const preempted: number[] = [];
    const gate = new SequenceGate(2, (seqId) => (preempted.push(seqId), true));
    const chat = await gate.enter('interactive');
    chat.generating(0);
    const item = await gate.enter('batch');
    const question = track(gate.enter('interactive'));
    await settle();
    // The item is still evaluating its prompt: nothing to take yet.
    expect(preempted).toEqual([]);
    item.generating(1);
    expect(preempted).toEqual([1]);
    // Its answer ends (PREEMPTED) and releases the sequence: the question gets it.
    item.release();
    await settle();
    expect(question.done()).toBe(true);
  });

  it('drops a waiter whose signal aborts (ABORTED), and refuses everyone once closed', async () => {
    const gate = new SequenceGate(1, () => false);
    await gate.enter('interactive');
    const controller = new AbortController();
    const waiting = gate.enter('interactive', controller.signal);
    controller.abort();
    await expect(waiting).rejects.toMatchObject({ code: 'ABORTED' });
    const later = gate.enter('batch');
    gate.close(new LlavaDeskError('ENGINE_NOT_LOADED', 'The engine was unloaded.'));
    await expect(later).rejects.toMatchObject({ code: 'ENGINE_NOT_LOADED' });
    await expect(gate.enter('interactive')).rejects.toMatchObject({ code: 'ENGINE_NOT_LOADED' });
  });
});
