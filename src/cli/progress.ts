/** A progress bar with an ETA on a terminal; plain lines when output is not a TTY. */
import type { WriteStream } from 'node:tty';

export class Progress {
  private readonly tty: boolean;
  private started = Date.now();
  private lastLine = 0;

  constructor(private readonly out: NodeJS.WriteStream | WriteStream = process.stderr) {
    this.tty = Boolean((out as WriteStream).isTTY);
  }

  reset(): void {
    this.started = Date.now();
  }

  update(done: number, total: number, label: string): void {
    const elapsed = (Date.now() - this.started) / 1000;
    const eta = done > 0 ? (elapsed / done) * (total - done) : Number.NaN;
    const etaText = Number.isFinite(eta) ? `ETA ${eta < 60 ? `${eta.toFixed(0)}s` : `${(eta / 60).toFixed(1)}m`}` : 'ETA …';
    if (this.tty) {
      const width = 28;
      const filled = Math.round((done / Math.max(1, total)) * width);
      const bar = '█'.repeat(filled) + '░'.repeat(width - filled);
      this.out.write(`\r\x1b[2K${bar} ${done}/${total} ${etaText}  ${label.slice(0, 50)}`);
      if (done >= total) this.out.write('\n');
    } else if (done === total || Date.now() - this.lastLine > 2000 || done === 1) {
      this.lastLine = Date.now();
      this.out.write(`${done}/${total} ${etaText} ${label}\n`);
    }
  }

  line(text: string): void {
    this.out.write(this.tty ? `\r\x1b[2K${text}\n` : `${text}\n`);
  }
}
