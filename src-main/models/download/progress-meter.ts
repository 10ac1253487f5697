/** Speed over a sliding window of recent samples, and the ETA it implies. */
export class ProgressMeter {
  private readonly samples: { at: number; bytes: number }[] = [];

  constructor(
    private readonly windowMs = 5000,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Records the running count of bytes transferred in this session. */
  record(transferredBytes: number): void {
    const at = this.now();
    this.samples.push({ at, bytes: transferredBytes });
    while (this.samples.length > 2 && at - (this.samples[0]?.at ?? at) > this.windowMs) {
      this.samples.shift();
    }
  }

  bytesPerSecond(): number {
    const first = this.samples[0];
    const last = this.samples[this.samples.length - 1];
    if (!first || !last || last.at <= first.at) return 0;
    return ((last.bytes - first.bytes) * 1000) / (last.at - first.at);
  }

  /** Seconds left for `remainingBytes`, or undefined while the speed is unknown. */
  etaSeconds(remainingBytes: number): number | undefined {
    const speed = this.bytesPerSecond();
    if (remainingBytes <= 0) return 0;
    return speed > 0 ? remainingBytes / speed : undefined;
  }
}
