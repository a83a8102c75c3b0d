/**
 * A function's stdout or stderr, kept up to a cap: what goes over is dropped and flagged. The one
 * capped output of the runtimes that read a function's output from a stream (Docker, process).
 */
import { Writable } from 'node:stream';

export class CappedOutput extends Writable {
  private readonly chunks: Buffer[] = [];
  private kept = 0;
  /** True once anything was dropped. */
  truncated = false;
  /** Called once, when the first byte over the cap arrives. */
  onOverflow: (() => void) | undefined;

  constructor(private readonly maxBytes: number) {
    super();
  }

  /** Keeps what fits; the rest is dropped. */
  add(b: Buffer): void {
    const room = this.maxBytes - this.kept;
    if (b.length > room) {
      if (room > 0) this.chunks.push(b.subarray(0, room));
      this.kept = this.maxBytes;
      if (!this.truncated) {
        this.truncated = true;
        this.onOverflow?.();
      }
      return;
    }
    this.chunks.push(b);
    this.kept += b.length;
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, done: (e?: Error | null) => void): void {
    this.add(chunk);
    done();
  }

  text(): string {
    return Buffer.concat(this.chunks).toString('utf8');
  }
}
