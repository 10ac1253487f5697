import type { IncomingMessage } from 'node:http';

/**
 * Collects a response body from the moment the response arrives. Chunks that did arrive stay
 * available when the connection then drops (a destroyed stream discards its own buffer, and a
 * listener attached after an await may miss the end), so a resume never re-fetches bytes we
 * already had. Pauses the socket when the consumer falls `highWater` chunks behind.
 */
export class BodyReader {
  private readonly queue: Buffer[] = [];
  private ended = false;
  private failure: unknown;
  private wake: (() => void) | undefined;

  constructor(
    readonly response: IncomingMessage,
    private readonly highWater = 64,
  ) {
    response.on('data', (chunk: Buffer) => {
      this.queue.push(chunk);
      if (this.queue.length >= this.highWater) response.pause();
      this.notify();
    });
    response.on('error', (error) => {
      this.failure ??= error;
      this.finish();
    });
    response.on('end', () => this.finish());
    response.on('close', () => this.finish());
  }

  /** Drops the body (the connection can then be reused or closed). */
  discard(): void {
    this.queue.length = 0;
    this.response.resume();
  }

  async *chunks(): AsyncGenerator<Buffer> {
    for (;;) {
      const chunk = this.queue.shift();
      if (chunk) {
        if (this.queue.length < this.highWater / 2 && this.response.isPaused()) {
          this.response.resume();
        }
        yield chunk;
        continue;
      }
      if (this.ended) {
        if (this.failure !== undefined) throw this.failure;
        return;
      }
      await new Promise<void>((resolve) => {
        this.wake = resolve;
      });
    }
  }

  private finish(): void {
    this.ended = true;
    this.notify();
  }

  private notify(): void {
    const resolve = this.wake;
    this.wake = undefined;
    resolve?.();
  }
}
