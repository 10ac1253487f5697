import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { TEMP_PREFIX } from '../../src-main/common/atomic-write.js';
import type { StoreFileHandle, StoreFs } from '../../src-main/common/store-fs.js';

/** The calls a fault can hit: the steps of an atomic save, and deleting. */
export type FaultStep = 'open' | 'write' | 'fsync' | 'rename' | 'rm';
export type FaultCode = 'EACCES' | 'ENOSPC' | 'EIO' | 'EROFS' | 'EPERM';

export interface Fault {
  step: FaultStep | 'any-write';
  code: FaultCode;
  /** Only paths under this folder fail (default: all). */
  under?: string;
}

const ERRNO: Record<FaultCode, number> = {
  EACCES: -13,
  ENOSPC: -28,
  EIO: -5,
  EROFS: -30,
  EPERM: -1,
};
const SYSCALL: Record<FaultStep, string> = {
  open: 'open',
  write: 'write',
  fsync: 'fsync',
  rename: 'rename',
  rm: 'rm',
};

/** An error shaped exactly like Node's own (code, errno, syscall, path, message). */
export function errnoError(code: FaultCode, step: FaultStep, path: string): NodeJS.ErrnoException {
  const error: NodeJS.ErrnoException = new Error(
    `${code}: injected fault, ${SYSCALL[step]} '${path}'`,
  );
  error.code = code;
  error.errno = ERRNO[code];
  error.syscall = SYSCALL[step];
  error.path = path;
  return error;
}

/**
 * The stores' fs layer over the real disk, failing the chosen step with a real errno error while
 * a fault is set (a full disk, a folder made read-only, a failing drive). Reads are untouched.
 */
export class FaultyFs implements StoreFs {
  fault: Fault | undefined;
  /** How many calls failed because of a fault. */
  failures = 0;

  #check(step: FaultStep, path: string): void {
    const fault = this.fault;
    if (!fault || (fault.under !== undefined && !path.startsWith(fault.under))) return;
    if (fault.step === step || fault.step === 'any-write') {
      this.failures += 1;
      throw errnoError(fault.code, step, path);
    }
  }

  async open(path: string, flags: string, mode?: number): Promise<StoreFileHandle> {
    if (flags !== 'r') this.#check('open', path);
    const handle = await open(path, flags, mode);
    return {
      writeFile: async (data) => {
        this.#check('write', path);
        await handle.writeFile(data);
      },
      sync: async () => {
        this.#check('fsync', path);
        await handle.sync();
      },
      close: () => handle.close(),
    };
  }

  async rename(from: string, to: string): Promise<void> {
    this.#check('rename', to);
    await rename(from, to);
  }

  async rm(path: string, options: { force?: boolean; recursive?: boolean }): Promise<void> {
    // Deleting a temp file after a failed save is cleanup; the fault hits deliberate deletes.
    if (!basename(path).startsWith(TEMP_PREFIX)) this.#check('rm', path);
    await rm(path, options);
  }

  mkdir(path: string, options: { recursive: true }): Promise<unknown> {
    return mkdir(path, options);
  }

  readdir(path: string): Promise<string[]> {
    return readdir(path);
  }
}
