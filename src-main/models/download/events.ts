export type FileRole = 'model' | 'mmproj';

export interface ByteProgress {
  doneBytes: number;
  /** Undefined until the server has told us (or the catalog's estimate when it has not). */
  totalBytes: number | undefined;
  bytesPerSecond: number;
  etaSeconds: number | undefined;
}

/** Everything a download job reports, in order; the CLI prints these as JSON lines. */
export type DownloadEvent =
  | { type: 'start'; files: { role: FileRole; fileName: string; totalBytes?: number }[] }
  | { type: 'progress'; role: FileRole; file: ByteProgress; overall: ByteProgress }
  | { type: 'retry'; role: FileRole; attempt: number; delayMs: number; reason: string }
  | { type: 'resume'; role: FileRole; fromByte: number }
  | { type: 'restart'; role: FileRole; reason: string }
  | { type: 'verify'; role: FileRole; sha256Source: 'catalog' | 'user' | 'hub' | 'none' }
  | { type: 'file-done'; role: FileRole; path: string; sha256: string; sizeBytes: number }
  | { type: 'done'; files: { role: FileRole; path: string; sha256: string; sizeBytes: number }[] };
