import { defaultEngineLauncher } from '../../src-main/engine/engine-client.js';
import type { WorkerExit, WorkerLauncher } from '../../src-main/engine/process/worker-channel.js';

/**
 * The real engine launcher (a forked engine process), counting the processes it starts and
 * noting when each ends: tests read how many engine processes the app ran and how many live.
 */
export class CountedLauncher {
  readonly exits: Promise<WorkerExit>[] = [];
  #latest: { kill(): void } | undefined;
  #alive = 0;
  #maxAlive = 0;

  /** For AppCoreOptions.engineLauncher. */
  readonly launcher = (): WorkerLauncher => {
    const launch = defaultEngineLauncher();
    return () => {
      const channel = launch();
      this.#latest = channel;
      this.#alive += 1;
      this.#maxAlive = Math.max(this.#maxAlive, this.#alive);
      this.exits.push(
        new Promise((resolve) =>
          channel.onExit((exit) => {
            this.#alive -= 1;
            resolve(exit);
          }),
        ),
      );
      return channel;
    };
  };

  /** Kills the newest engine process (SIGKILL), as a crash in native code would end it. */
  killLatest(): void {
    this.#latest?.kill();
  }

  /** Engine processes started so far. */
  get started(): number {
    return this.exits.length;
  }

  get alive(): number {
    return this.#alive;
  }

  /** The most engine processes alive at one time so far. */
  get maxAlive(): number {
    return this.#maxAlive;
  }
}
