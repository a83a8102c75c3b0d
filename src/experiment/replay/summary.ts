/**
 * The summary of one policy's replay on one runtime: cold starts, latency from the intended send
 * time, errors, sandboxes kept over time, and energy: the invocations' shares, and the keep-warm
 * energy (power per kept sandbox, measured by the keep-warm step, times the kept sandbox time).
 */
import type { RuntimeKind } from '../../runtimes/index.js';
import { quantile } from '../../stats.js';
import type { InvocationRecord } from '../../types.js';

/** What a replay adds to each record (`record.replay`). Times epoch ms unless said, durations ms. */
export interface ReplayFacts {
  /** Index of the runtime x policy run. */
  run: number;
  policy: string;
  /** The trace function this arrival belongs to. */
  traceFunction: string;
  /** Its time in the trace, ms from the trace's start (of its day, for the Azure format). */
  atMs: number;
  intendedAt: number;
  lagMs: number;
  latencyMs: number;
  /** Never sent: it waited in the queue too long. */
  givenUp?: boolean;
}

export type ReplayRecord = InvocationRecord & { replay: ReplayFacts };

/** One policy on one runtime. Energies J; kept time in sandbox-seconds of trace time. */
export interface PolicySummary {
  run: number;
  policy: string;
  runtime: RuntimeKind;
  invocations: number;
  ok: number;
  errors: Record<string, number>;
  /** Invocations whose sandbox was made inside them, and their share. */
  coldStarts: number;
  coldShare: number;
  /** Per trace function: invocations and cold starts. */
  perFunction: Record<string, { invocations: number; coldStarts: number }>;
  /** Latency from the intended send time, ms. */
  latencyMs: { p50: number; p90: number; p99: number; max: number };
  /** Idle sandboxes kept, counted every 15 s of trace time from the first arrival: the series, its peak, and the kept time (sandbox-s of trace time). */
  kept: Array<{ atMs: number; kept: number }>;
  keptPeak: number;
  keptSandboxS: number;
  /** Power per kept sandbox used, W (null when not measured). */
  wattsPerSandbox: number | null;
  /** Keep-warm energy over the trace's time: W per sandbox x kept sandbox-s; null without the power. */
  keepWarmJ: number | null;
  /** The invocations' shares of the power above idle, summed (null without shares); and how many had one. */
  invocationJ: number | null;
  withShare: number;
  /** Keep-warm plus invocation energy, J (null when either is unknown). */
  totalJ: number | null;
}

const sorted = (xs: number[]) => xs.filter(Number.isFinite).sort((a, b) => a - b);

/** Summarises one policy's records and kept-sandbox counts. */
export function summarizePolicy(
  run: number,
  policy: string,
  runtime: RuntimeKind,
  records: readonly ReplayRecord[],
  kept: Array<{ atMs: number; kept: number }>,
  ctx: { speed: number; spanMs: number; wattsPerSandbox: number | undefined },
): PolicySummary {
  const ran = records.filter((r) => !r.replay.givenUp);
  const cold = ran.filter((r) => r.sandbox === 'fresh');
  const errors: Record<string, number> = {};
  for (const r of records) if (!r.ok) errors[r.error.code] = (errors[r.error.code] ?? 0) + 1;
  const perFunction: PolicySummary['perFunction'] = {};
  for (const r of ran) {
    const f = (perFunction[r.replay.traceFunction] ??= { invocations: 0, coldStarts: 0 });
    f.invocations++;
    if (r.sandbox === 'fresh') f.coldStarts++;
  }
  const latency = sorted(ran.map((r) => r.replay.latencyMs));
  // Each count stands for the 15 s of trace time after it.
  const keptSandboxS = kept.reduce((a, k) => a + k.kept * 15, 0);
  const shared = ran.filter((r) => r.energy?.shareJ != null);
  const invocationJ = shared.length ? shared.reduce((a, r) => a + r.energy!.shareJ!, 0) : null;
  const watts = ctx.wattsPerSandbox ?? null;
  const keepWarmJ = watts === null ? null : watts * keptSandboxS;
  return {
    run,
    policy,
    runtime,
    invocations: records.length,
    ok: records.filter((r) => r.ok).length,
    errors,
    coldStarts: cold.length,
    coldShare: ran.length ? cold.length / ran.length : Number.NaN,
    perFunction,
    latencyMs: {
      p50: quantile(latency, 0.5),
      p90: quantile(latency, 0.9),
      p99: quantile(latency, 0.99),
      max: latency.length ? latency[latency.length - 1]! : Number.NaN,
    },
    kept,
    keptPeak: Math.max(0, ...kept.map((k) => k.kept)),
    keptSandboxS,
    wattsPerSandbox: watts,
    keepWarmJ,
    invocationJ,
    withShare: shared.length,
    totalJ: keepWarmJ !== null && invocationJ !== null ? keepWarmJ + invocationJ : null,
  };
}
