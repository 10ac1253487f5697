/**
 * One running engine process as the host sees it. Implemented over `child_process.fork` here and
 * over Electron's `utilityProcess` in the shell, so the supervision logic is shared.
 */
export interface WorkerChannel {
  send(message: unknown): void;
  onMessage(listener: (message: unknown) => void): void;
  /** Called once when the process is gone, whatever the reason. */
  onExit(listener: (info: WorkerExit) => void): void;
  kill(): void;
}

export interface WorkerExit {
  code: number | null;
  signal: string | null;
}

export type WorkerLauncher = () => WorkerChannel;
