import { LlavaDeskError } from './errors.js';

// errno codes of a disk that cannot take a write, by what the user can do about them.
const FULL = new Set(['ENOSPC', 'EDQUOT']);
const UNWRITABLE = new Set(['EACCES', 'EPERM', 'EROFS']);
const FAILING = new Set(['EIO', 'ENXIO', 'ENODEV', 'ESTALE', 'EBUSY', 'EMFILE', 'ENFILE']);

function errnoOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  const syscall = (error as { syscall?: unknown } | null)?.syscall;
  // Only Node's file-system errors (they name their syscall); a library's own 'EIO' is not ours.
  return typeof code === 'string' && typeof syscall === 'string' ? code : undefined;
}

/** True for an errno error that says the disk refused a write (full, read-only, failing). */
export function isStorageFailure(error: unknown): boolean {
  const code = errnoOf(error);
  return code !== undefined && (FULL.has(code) || UNWRITABLE.has(code) || FAILING.has(code));
}

/**
 * A file-system error turned into a typed one whose message a user can act on, without the
 * errno text or absolute paths (`action` says what failed: "save the conversation").
 * Anything else is returned unchanged.
 */
export function toStorageError(error: unknown, action = 'save your change'): unknown {
  if (error instanceof LlavaDeskError) return error;
  const code = errnoOf(error);
  if (code === undefined) return error;
  if (FULL.has(code)) {
    return new LlavaDeskError(
      'DISK_FULL',
      `Could not ${action}: the disk of the data folder is full. Free some space and try again.`,
      { cause: error },
    );
  }
  if (UNWRITABLE.has(code)) {
    return new LlavaDeskError(
      'STORAGE_UNAVAILABLE',
      `Could not ${action}: the data folder is read-only or not writable by you. ` +
        'Check its permissions (or the disk it is on) and try again.',
      { cause: error },
    );
  }
  if (FAILING.has(code)) {
    return new LlavaDeskError(
      'STORAGE_UNAVAILABLE',
      `Could not ${action}: the disk of the data folder failed to read or write. ` +
        'Check the disk (or that it is still connected) and try again.',
      { cause: error },
    );
  }
  return error;
}
