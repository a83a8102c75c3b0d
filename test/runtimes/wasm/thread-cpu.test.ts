import { describe, expect, it } from 'vitest';
import { threadCpuClock } from '../../../src/runtimes/wasm/worker/thread-cpu.js';

describe("a thread's own CPU clock", () => {
  it('is readable on this Node and counts only while the thread works, never going back', () => {
    const clock = threadCpuClock();
    expect(typeof clock).toBe('function');
    if (typeof clock !== 'function') return;
    const a = new Float64Array(3);
    const b = new Float64Array(3);
    clock(a);
    let x = 0;
    for (let i = 0; i < 2e7; i++) x += i % 7;
    clock(b);
    expect(x).toBeGreaterThan(0);
    expect(a[0]).toBeGreaterThan(0);
    expect(b[0]! - a[0]!).toBeGreaterThan(0);
    const c = new Float64Array(3);
    clock(c);
    expect(c[0]).toBeGreaterThanOrEqual(b[0]!);
  });
});
