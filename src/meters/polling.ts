/** A timer on an absolute grid (start + k x interval) that never overlaps its own work. */
import { nowMs } from '../clock.js';

export class Ticker {
  private timer: NodeJS.Timeout | undefined;
  private epoch = 0;
  private tick = 0;
  private running = false;

  constructor(
    private readonly intervalMs: number,
    private readonly work: () => void | Promise<void>,
  ) {}

  start(): void {
    if (this.running) return;
    this.running = true;
    this.epoch = nowMs();
    this.tick = 0;
    this.next();
  }

  stop(): void {
    this.running = false;
    clearTimeout(this.timer);
  }

  private async poll(): Promise<void> {
    try {
      await this.work();
    } catch {
      // The work reports its own failures; what escapes is a listener's throw, which must
      // neither stop the polling nor become an unhandled rejection that ends the host.
    } finally {
      this.next();
    }
  }

  private next(): void {
    if (!this.running) return;
    const now = nowMs();
    this.tick = Math.max(this.tick + 1, Math.ceil((now - this.epoch) / this.intervalMs));
    this.timer = setTimeout(() => void this.poll(), Math.max(0, this.epoch + this.tick * this.intervalMs - now));
    this.timer.unref?.();
  }
}
