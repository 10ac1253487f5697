import { mkdir, open, readdir, rename, rm } from 'node:fs/promises';

/** The part of an open file the stores use. */
export interface StoreFileHandle {
  writeFile(data: string | Uint8Array): Promise<void>;
  sync(): Promise<void>;
  close(): Promise<void>;
}

/**
 * The file-system calls through which the stores write (chats, images, settings). Production uses
 * Node's; tests pass a layer that fails chosen calls with real errno errors (EACCES, ENOSPC, EIO)
 * to prove that a failed save loses nothing.
 */
export interface StoreFs {
  open(path: string, flags: string, mode?: number): Promise<StoreFileHandle>;
  rename(from: string, to: string): Promise<void>;
  rm(path: string, options: { force?: boolean; recursive?: boolean }): Promise<void>;
  mkdir(path: string, options: { recursive: true }): Promise<unknown>;
  readdir(path: string): Promise<string[]>;
}

export const nodeStoreFs: StoreFs = { open, rename, rm, mkdir, readdir };
