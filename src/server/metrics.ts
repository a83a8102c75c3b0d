/** GET /metrics in the Prometheus text exposition format (0.0.4). */
import type { InvocationRecord, PowerSample } from '../types.js';

const BUCKETS_S = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** 64 KiB to 4 GiB, by fours. */
const BUCKETS_BYTES = Array.from({ length: 9 }, (_, i) => 65536 * 4 ** i);

class Histogram {
  readonly counts = new Map<string, { buckets: number[]; sum: number; count: number }>();
  constructor(private readonly bounds: readonly number[] = BUCKETS_S) {}
  observe(labels: string, value: number): void {
    let h = this.counts.get(labels);
    if (!h) this.counts.set(labels, (h = { buckets: this.bounds.map(() => 0), sum: 0, count: 0 }));
    this.bounds.forEach((b, i) => {
      if (value <= b) h.buckets[i]!++;
    });
    h.sum += value;
    h.count++;
  }
  render(name: string, help: string): string[] {
    const out = [`# HELP ${name} ${help}`, `# TYPE ${name} histogram`];
    for (const [labels, h] of this.counts) {
      this.bounds.forEach((b, i) => out.push(`${name}_bucket{${labels},le="${b}"} ${h.buckets[i]}`));
      out.push(
        `${name}_bucket{${labels},le="+Inf"} ${h.count}`,
        `${name}_sum{${labels}} ${h.sum}`,
        `${name}_count{${labels}} ${h.count}`,
      );
    }
    return out;
  }
}

const label = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

export class Metrics {
  private readonly invocations = new Map<string, number>();
  private readonly startup = new Histogram();
  private readonly exec = new Histogram();
  private readonly cpu = new Histogram();
  private readonly memory = new Histogram(BUCKETS_BYTES);

  record(r: InvocationRecord): void {
    const outcome = r.ok ? 'ok' : (r.error?.code ?? 'error');
    const key = `function="${label(r.function)}",runtime="${r.runtime}",outcome="${label(outcome)}"`;
    this.invocations.set(key, (this.invocations.get(key) ?? 0) + 1);
    const fr = `function="${label(r.function)}",runtime="${r.runtime}"`;
    if (r.ok) {
      this.startup.observe(fr, r.timing.startupMs / 1000);
      this.exec.observe(fr, r.timing.execMs / 1000);
    }
    const frm = `${fr},mode="${r.mode}"`;
    const { cpuMs, maxMemoryBytes } = r.resources;
    if (cpuMs !== null) this.cpu.observe(frm, cpuMs / 1000);
    if (maxMemoryBytes !== null) this.memory.observe(frm, maxMemoryBytes);
  }

  render(last: PowerSample | undefined, meter: string | undefined): string {
    const out = [
      '# HELP nebula_invocations_total Invocations by function, runtime and outcome.',
      '# TYPE nebula_invocations_total counter',
    ];
    for (const [k, v] of this.invocations) out.push(`nebula_invocations_total{${k}} ${v}`);
    out.push(
      ...this.startup.render('nebula_startup_seconds', 'Cold start: invoke() until the function starts, seconds.'),
    );
    out.push(...this.exec.render('nebula_exec_seconds', 'Run time: function start to end, seconds.'));
    out.push(
      ...this.cpu.render(
        'nebula_cpu_seconds',
        "CPU time of the invocation's sandbox (user + system), from the kernel, seconds.",
      ),
      ...this.memory.render('nebula_memory_peak_bytes', "Peak memory of the invocation's sandbox, bytes."),
    );
    if (last && meter) {
      out.push('# HELP nebula_power_watts Last power sample of the attached meter.', '# TYPE nebula_power_watts gauge');
      out.push(`nebula_power_watts{meter="${label(meter)}"} ${last.powerW}`);
    }
    return out.join('\n') + '\n';
  }
}
