/**
 * The energy advisor: for an arrival rate (and an optional p99 latency target), which runtime
 * and mode spends the least energy per invocation, from measured figures. The model (stated in
 * docs/energy.md): Poisson arrivals at rate lambda, one sandbox per function, keep-alive T:
 *
 *   P(cold) = exp(-lambda T)
 *   E = E_run + P(cold) x E_start + P_keep x E[idle time kept per invocation]
 *     = E_run + exp(-lambda T) E_start + P_keep (1 - exp(-lambda T)) / lambda
 *
 * `cold` is T = 0; `prewarmed` keeps one prepared sandbox waiting all the time (E_start is still
 * spent, ahead of the request) and pays P_keep / lambda; `warm` picks T. dE/dT has the sign of
 * P_keep - lambda E_start, so T is all or nothing for energy: keep warm when the mean gap 1/lambda
 * is shorter than the break-even time E_start / P_keep. Energies are J above idle, powers W.
 */
import { mixtureQuantile, quantile } from '../stats.js';
import type { InvocationMode, RuntimeKind } from '../types.js';

/** One measured figure with its 95% interval (when known) and where it came from. */
export interface AdvisorFigure {
  value: number;
  ci95: [number, number] | null;
  /** e.g. `batches (cold - warm)`, `records (median start-up part)`, `keep-warm fit`. */
  source: string;
}

/** What the advisor knows about one function on one runtime. */
export interface AdvisorInput {
  function: string;
  /** The input the figures were measured with. */
  input: unknown;
  runtime: RuntimeKind;
  /** Energy of the run part of one invocation, J above idle. */
  execJ: AdvisorFigure | null;
  /** Energy of one start-up (cold start), J above idle. */
  startupJ: AdvisorFigure | null;
  /** Power of one sandbox kept warm, W above idle. */
  keepWarmW: AdvisorFigure | null;
  /** `totalMs` of the measured invocations, per mode. */
  latencyMs: Partial<Record<InvocationMode, number[]>>;
  /** True when the figures come from an estimating meter. */
  estimate: boolean;
}

/** One way to run a function at the given rate, and what it costs. */
export interface AdvisorOption {
  function: string;
  input: unknown;
  runtime: RuntimeKind;
  mode: InvocationMode;
  /** Keep-alive of `warm`, s (`cold`: 0; `prewarmed`: null, a sandbox always waits). */
  keepAliveS: number | null;
  /** Share of invocations that start cold. */
  coldShare: number;
  /** Expected energy per invocation, J above idle, and its parts. */
  energyPerInvocationJ: number;
  parts: { runJ: number; startupJ: number; keepWarmJ: number };
  /** p99 of `totalMs` under this option (a mixture of the cold and warm distributions), ms; null when not measured. */
  p99Ms: number | null;
  /** Whether `p99Ms` meets the target; null without a target or without latency figures. */
  meetsP99: boolean | null;
  estimate: boolean;
}

/** The advisor's answer. */
export interface Advice {
  ratePerS: number;
  p99TargetMs: number | null;
  /** Every option it could cost, best first (those meeting the target before the others). */
  options: AdvisorOption[];
  /** The best option per function and input (meeting the target when one is given). */
  best: AdvisorOption[];
  /** Break-even keep-alive per function and runtime: keep warm when the mean gap between invocations is shorter, s (Infinity when no keep-warm power was measurable). */
  breakEven: Array<{
    function: string;
    input: unknown;
    runtime: RuntimeKind;
    seconds: number;
    estimate: boolean;
    /**
     * True when the keep-warm power's interval reaches zero (not distinguishable from idle):
     * `seconds` is then a lower bound, start-up energy / the interval's upper bound.
     */
    atLeast: boolean;
  }>;
  /** What it could not cost, and why; model limits that apply to these figures. */
  notes: string[];
}

/** 99% warm hits: the keep-alive beyond which more keep-alive changes almost nothing. */
const WARM_HITS = Math.log(100);

/** @param ratePerS arrivals per second (> 0). @param p99TargetMs optional latency target, ms. */
export function advise(inputs: AdvisorInput[], ratePerS: number, p99TargetMs?: number): Advice {
  const lambda = ratePerS;
  const options: AdvisorOption[] = [];
  const notes: string[] = [];
  const breakEven: Advice['breakEven'] = [];
  for (const f of inputs) {
    const name = `${f.function}(${JSON.stringify(f.input)}) on ${f.runtime}`;
    if (!f.execJ || !f.startupJ) {
      notes.push(`${name}: no ${!f.execJ ? 'run' : 'start-up'} energy measured, so no option is costed.`);
      continue;
    }
    const run = clamp(f.execJ.value, `${name}: the run energy`, notes);
    const start = clamp(f.startupJ.value, `${name}: the start-up energy`, notes);
    const base = { function: f.function, input: f.input, runtime: f.runtime, estimate: f.estimate };
    const p99 = (groups: Array<{ values: number[] | undefined; weight: number }>) => {
      const usable = groups.filter((g) => g.weight > 0);
      if (usable.some((g) => !g.values?.length)) return null;
      return mixtureQuantile(
        usable.map((g) => ({ values: g.values!, weight: g.weight })),
        0.99,
      );
    };
    options.push(
      option(base, 'cold', 0, 1, run, start, 0, p99([{ values: f.latencyMs.cold, weight: 1 }]), p99TargetMs),
    );
    if (!f.keepWarmW) {
      notes.push(
        `${name}: no keep-warm power measured (the experiment's keepWarm step), so prewarmed and warm are not costed.`,
      );
      continue;
    }
    const keep = clamp(f.keepWarmW.value, `${name}: the keep-warm power`, notes);
    // No measurable keep-warm power: keeping warm never costs more than it saves (infinite break-even).
    const ci = f.keepWarmW.ci95;
    const unresolved = ci !== null && ci[0] <= 0;
    const bound = unresolved ? ci[1] : keep;
    breakEven.push({
      function: f.function,
      input: f.input,
      runtime: f.runtime,
      seconds: bound > 0 ? start / bound : Number.POSITIVE_INFINITY,
      estimate: f.estimate,
      atLeast: unresolved && bound > 0,
    });
    if (f.latencyMs.prewarmed?.length)
      options.push(
        option(
          base,
          'prewarmed',
          null,
          1,
          run,
          start,
          keep / lambda,
          p99([{ values: f.latencyMs.prewarmed, weight: 1 }]),
          p99TargetMs,
        ),
      );
    // warm: the least energy over T, subject to the p99 target.
    const cold = f.latencyMs.cold;
    const warm = f.latencyMs.warm;
    let minT = 0;
    if (p99TargetMs !== undefined && cold?.length && warm?.length) {
      const share = largestColdShare(cold, warm, p99TargetMs);
      minT = share === null ? Number.POSITIVE_INFINITY : share >= 1 ? 0 : -Math.log(Math.max(share, 1e-12)) / lambda;
    }
    const keepLonger = keep < lambda * start;
    const t = Number.isFinite(minT) ? Math.max(minT, keepLonger ? WARM_HITS / lambda : 0) : WARM_HITS / lambda;
    if (t === 0) continue; // warm with no keep-alive is cold
    const coldShare = Math.exp(-lambda * t);
    const keptJ = (keep * (1 - coldShare)) / lambda;
    options.push(
      option(
        base,
        'warm',
        t,
        coldShare,
        run,
        start * coldShare,
        keptJ,
        p99([
          { values: cold, weight: coldShare },
          { values: warm, weight: 1 - coldShare },
        ]),
        p99TargetMs,
      ),
    );
    const runMs = quantile(
      [...(warm ?? cold ?? [])].sort((a, b) => a - b),
      0.5,
    );
    if (ratePerS * runMs > 100)
      notes.push(
        `${name}: at ${ratePerS}/s invocations overlap (rate x run time > 0.1): one sandbox is not enough, and this model undercounts keep-warm power.`,
      );
  }
  const rank = (o: AdvisorOption) =>
    o.meetsP99 === false ? 2 : o.meetsP99 === null && p99TargetMs !== undefined ? 1 : 0;
  options.sort((a, b) => rank(a) - rank(b) || a.energyPerInvocationJ - b.energyPerInvocationJ);
  const best: AdvisorOption[] = [];
  const work = (o: AdvisorOption) => `${o.function}|${JSON.stringify(o.input)}`;
  for (const o of options) if (rank(o) === 0 && !best.some((b) => work(b) === work(o))) best.push(o);
  return { ratePerS, p99TargetMs: p99TargetMs ?? null, options, best, breakEven, notes };
}

function option(
  base: { function: string; input: unknown; runtime: RuntimeKind; estimate: boolean },
  mode: InvocationMode,
  keepAliveS: number | null,
  coldShare: number,
  runJ: number,
  startupJ: number,
  keepWarmJ: number,
  p99Ms: number | null,
  target: number | undefined,
): AdvisorOption {
  return {
    ...base,
    mode,
    keepAliveS,
    coldShare,
    energyPerInvocationJ: runJ + startupJ + keepWarmJ,
    parts: { runJ, startupJ, keepWarmJ },
    p99Ms,
    meetsP99: target === undefined || p99Ms === null ? null : p99Ms <= target,
  };
}

/** The largest share of cold starts whose mixture p99 still meets `target` (bisection; the p99 grows with the share), or null when even all-warm misses it. */
function largestColdShare(cold: number[], warm: number[], target: number): number | null {
  const p99 = (share: number) =>
    mixtureQuantile(
      [
        { values: cold, weight: share },
        { values: warm, weight: 1 - share },
      ],
      0.99,
    );
  if (p99(0) > target) return null;
  if (p99(1) <= target) return 1;
  let lo = 0;
  let hi = 1;
  for (let i = 0; i < 40; i++) {
    const mid = (lo + hi) / 2;
    if (p99(mid) <= target) lo = mid;
    else hi = mid;
  }
  return lo;
}

/** Below the meter's resolution a figure can come out negative: the model takes 0 and says so. */
function clamp(value: number, what: string, notes: string[]): number {
  if (value >= 0) return value;
  notes.push(`${what} came out negative (${value.toExponential(2)}): below what the meter resolves; taken as 0.`);
  return 0;
}

/** `2/s`, `120/min`, `10/h` or a plain number (per second) to arrivals per second. @returns NaN when malformed. */
export function parseRate(text: string): number {
  const m = /^\s*(\d+(?:\.\d+)?(?:e-?\d+)?)\s*(?:\/\s*(s|sec|min|m|h|hour))?\s*$/i.exec(text);
  if (!m) return Number.NaN;
  const v = Number(m[1]);
  const unit = (m[2] ?? 's').toLowerCase();
  const per = unit === 'min' || unit === 'm' ? 60 : unit === 'h' || unit === 'hour' ? 3600 : 1;
  return v / per;
}
