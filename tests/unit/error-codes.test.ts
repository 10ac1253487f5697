import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, NATIVE_ERROR_CODES } from '../../src-main/api/errors.js';
import { serializeError } from '../../src-main/common/errors.js';
import { NativeBridgeError } from '../../src-main/engine/native/binding.js';

const commonH = fileURLToPath(new URL('../../native/src/common.h', import.meta.url));

/** The string literals of `namespace code { ... }` in the addon's common.h. */
function addonCodes(): string[] {
  const source = readFileSync(commonH, 'utf8');
  const block = /namespace code \{([\s\S]*?)\}\s*\/\/ namespace code/.exec(source)?.[1];
  if (!block) throw new Error('namespace code not found in native/src/common.h');
  return [...block.matchAll(/=\s*"([A-Z_]+)"/g)].map((m) => m[1] as string);
}

describe('one list of error codes', () => {
  it('has every code the native addon sets in the shared list', () => {
    const native = addonCodes();
    expect(native.length).toBeGreaterThan(10);
    for (const code of native) {
      expect(NATIVE_ERROR_CODES, `native code ${code}`).toContain(code);
      expect(ERROR_CODES, `native code ${code}`).toContain(code);
    }
  });

  it('keeps a native error code when the error crosses to the renderer', () => {
    for (const code of NATIVE_ERROR_CODES) {
      const error = new NativeBridgeError(code, `probe ${code}`);
      expect(serializeError(error)).toEqual({ code, message: `probe ${code}` });
    }
    // The four that used to become INTERNAL.
    for (const code of ['IN_USE', 'DISPOSED', 'NO_LOGITS', 'NATIVE_ERROR'] as const) {
      expect(serializeError(Object.assign(new Error('x'), { code })).code).toBe(code);
    }
    expect(serializeError(Object.assign(new Error('x'), { code: 'EPERM' })).code).toBe('INTERNAL');
  });
});
