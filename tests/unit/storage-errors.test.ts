import { describe, expect, it } from 'vitest';
import { LlavaDeskError } from '../../src-main/common/errors.js';
import { toStorageError } from '../../src-main/common/storage-errors.js';
import { errnoError } from '../support/faulty-fs.js';

describe('disk errors as typed errors', () => {
  it('types every errno of a disk that refuses writes, without errno text or the path', () => {
    const path = '/home/someone/.local/share/llava-desk/chats/.tmp-x.json.0a0a0a0a0a0a';
    const cases = [
      ['EACCES', 'STORAGE_UNAVAILABLE'],
      ['EPERM', 'STORAGE_UNAVAILABLE'],
      ['EROFS', 'STORAGE_UNAVAILABLE'],
      ['EIO', 'STORAGE_UNAVAILABLE'],
      ['ENOSPC', 'DISK_FULL'],
    ] as const;
    for (const [code, typed] of cases) {
      const error = toStorageError(errnoError(code, 'open', path), 'save the conversation');
      expect(error, code).toBeInstanceOf(LlavaDeskError);
      const { message } = error as LlavaDeskError;
      expect((error as LlavaDeskError).code, code).toBe(typed);
      expect(message, code).toMatch(/^Could not save the conversation: /);
      expect(message, code).not.toContain(code);
      expect(message, code).not.toContain('/home/someone');
    }
  });

  it('leaves other errors alone: typed ones, and codes that are not the file system’s', () => {
    const typed = new LlavaDeskError('CHAT_NOT_FOUND', 'gone');
    expect(toStorageError(typed)).toBe(typed);
    const library = Object.assign(new Error('socket'), { code: 'EIO' });
    expect(toStorageError(library)).toBe(library);
    const missing = errnoError('EACCES', 'open', '/x');
    missing.code = 'ENOENT';
    expect(toStorageError(missing)).toBe(missing);
  });
});
