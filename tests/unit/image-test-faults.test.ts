import { afterEach, describe, expect, it } from 'vitest';
import { faultyPadColour, withImageFault } from '../../src-main/imaging/test-faults.js';

// The test-only switches of the app's image pipeline (used by npm run eval:shapes-model to show
// that its accuracy figures can fail): off unless the variable names one.
const bitmap = { width: 2, height: 1, data: Buffer.from([200, 10, 30, 1, 2, 3]) };

afterEach(() => {
  delete process.env['LLAVA_DESK_TEST_IMAGE_FAULT'];
});

describe('image pipeline test faults', () => {
  it('change nothing when unset or set to an unknown name', () => {
    expect(withImageFault(bitmap).data).toEqual(bitmap.data);
    process.env['LLAVA_DESK_TEST_IMAGE_FAULT'] = 'something-else';
    expect(withImageFault(bitmap).data).toEqual(bitmap.data);
    expect(faultyPadColour([122, 116, 104])).toEqual([122, 116, 104]);
  });

  it('swap red and blue of every pixel without touching the original bitmap', () => {
    process.env['LLAVA_DESK_TEST_IMAGE_FAULT'] = 'swap-channels';
    expect([...withImageFault(bitmap).data]).toEqual([30, 10, 200, 3, 2, 1]);
    expect([...bitmap.data]).toEqual([200, 10, 30, 1, 2, 3]);
  });

  it('pad with black under pad-black', () => {
    process.env['LLAVA_DESK_TEST_IMAGE_FAULT'] = 'pad-black';
    expect(faultyPadColour([122, 116, 104])).toEqual([0, 0, 0]);
  });
});
