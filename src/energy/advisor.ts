/**
 * The energy advisor: for an arrival rate (and an optional p99 latency target), which runtime
 * and mode spends the least energy per invocation, from measured figures. The model (stated in
 * docs/energy.md): Poisson arrivals at rate lambda, one sandbox per function, keep-alive T:
 *
 *   P(cold) = exp(-lambda T)
 *   E = P(cold) E_cold + (1 - P(cold)) E_warm + P_keep x E[idle time kept per invocation]
 *     = P(cold) E_cold + (1 - P(cold)) E_warm + P_keep (1 - P(cold)) / lambda
 *
 * E_cold and E_warm are the cells' energy figures, the very numbers the reports' energy table
 * shows for the cold and the warm cell. `cold` is T = 0 (E = E_cold); `prewarmed` keeps one
 * prepared sandbox waiting all the time (its preparation is a start-up, spent ahead of the
 * request: E = E_cold + P_keep / lambda); `warm` picks T. dE/dT has the sign of
 * P_keep - lambda (E_cold - E_warm), so T is all or nothing for energy: keep warm when the mean
 * gap 1/lambda is shorter than the break-even time (E_cold - E_warm) / P_keep. Energies are Wh
 * above idle (as in every table), powers W.
 */
import { differenceCi95, mixtureQuantile, quantile } from '../stats.js';
import type { InvocationMode, RuntimeKind } from '../types.js';

/** One figure with its 95% interval (when known) and where it came from. */
export interface AdvisorFigure {
  value: number;
  ci95: [number, number] | null;
  /** e.g. `cold cell: batch mean of 1443`, `cold - warm`, `keep-warm fit`. */
  source: string;
}

/** What the advisor knows about one function on one runtime. */
export interface AdvisorInput {
  function: string;
  /** The input the figures were measured with. */
  input: unknown;
  runtime: RuntimeKind;
  /** Energy of one cold invocation, Wh above idle: the cold cell's energy figure, as the tables show it. */
  coldWh: AdvisorFigure | null;
  /** Energy of one invocation in a kept (reused) sandbox, Wh above idle: the warm cell's energy figure. */
  warmWh: AdvisorFigure | null;
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
  /** Share of invocations that start cold (`prewarmed`: 1, each one uses a sandbox started for it). */
  coldShare: number;
  /** Expected energy per invocation, Wh above idle, and its parts (they add up to it). */
  energyPerInvocationWh: number;
  /** Its 95% interval where it is one measured figure (`cold`: the cold cell's), else null. */
  ci95Wh: [number, number] | null;
  parts: {
    /** coldShare x E_cold. */
    coldWh: number;
    /** (1 - coldShare) x E_warm. */
    warmWh: number;
    /** Power of the kept sandbox x the time it is kept per invocation. */
    keepWarmWh: number;
  };
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
  /** Start-up energy (E_cold - E_warm) per function and runtime, Wh above idle, where both cells were measured. */
  startup: Array<{ function: string; input: unknown; runtime: RuntimeKind; startupWh: AdvisorFigure }>;
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
const S_PER_H = 3600;

/** E_cold - E_warm, with the interval of a difference of two independent estimates. */
export function startupEnergy(cold: AdvisorFigure, warm: AdvisorFigure): AdvisorFigure {
  const ci =
    cold.ci95 && warm.ci95
      ? differenceCi95(cold.value, cold.ci95, warm.value, warm.ci95).ci95
      : (null as [number, number] | null);
  return { value: cold.value - warm.value, ci95: ci, source: 'cold - warm' };
}

/** @param ratePerS arrivals per second (> 0). @param p99TargetMs optional latency target, ms. */
export function advise(inputs: AdvisorInput[], ratePerS: number, p99TargetMs?: number): Advice {
  const lambda = ratePerS;
  const options: AdvisorOption[] = [];
  const notes: string[] = [];
  const startup: Advice['startup'] = [];
  const breakEven: Advice['breakEven'] = [];
  for (const f of inputs) {
    const name = `${f.function}(${JSON.stringify(f.input)}) on ${f.runtime}`;
    if (!f.coldWh) {
      notes.push(`${name}: no energy figure of a cold invocation, so no option is costed.`);
      continue;
    }
    const cold = clamp(f.coldWh.value, `${name}: the cold invocation's energy`, 'Wh', notes);
    const base = { function: f.function, input: f.input, runtime: f.runtime, estimate: f.estimate };
    const p99 = (groups: Array<{ values: number[] | undefined; weight: number }>) => {
      const usable = groups.filter((g) => g.weight > 0);
      if (usable.some((g) => !g.values?.length)) return null;
      return mixtureQuantile(
        usable.map((g) => ({ values: g.values!, weight: g.weight })),
        0.99,
      );
    };
    options.push({
      ...option(base, 'cold', 0, 1, cold, 0, 0, p99([{ values: f.latencyMs.cold, weight: 1 }]), p99TargetMs),
      ci95Wh: f.coldWh.ci95,
    });
    if (!f.keepWarmW) {
      notes.push(
        `${name}: no keep-warm power measured (the experiment's keep-warm step), so prewarmed and warm are not costed.`,
      );
      continue;
    }
    const keep = clamp(f.keepWarmW.value, `${name}: the keep-warm power`, 'W', notes);
    if (f.latencyMs.prewarmed?.length)
      options.push(
        option(
          base,
          'prewarmed',
          null,
          1,
          cold,
          0,
          keep / lambda / S_PER_H,
          p99([{ values: f.latencyMs.prewarmed, weight: 1 }]),
          p99TargetMs,
        ),
      );
    if (!f.warmWh) {
      notes.push(`${name}: no warm cell measured (add warm to the modes), so warm is not costed.`);
      continue;
    }
    const warm = clamp(f.warmWh.value, `${name}: the warm invocation's energy`, 'Wh', notes);
    const start = startupEnergy(f.coldWh, f.warmWh);
    startup.push({ function: f.function, input: f.input, runtime: f.runtime, startupWh: start });
    const startWh = Math.max(0, cold - warm);
    if (start.ci95 ? start.ci95[0] <= 0 : start.value <= 0)
      notes.push(
        `${name}: the start-up energy (cold - warm) is not distinguishable from idle, so there is no break-even keep-alive.`,
      );
    else {
      // No measurable keep-warm power: keeping warm never costs more than it saves (infinite break-even).
      const ci = f.keepWarmW.ci95;
      const unresolved = ci !== null && ci[0] <= 0;
      const bound = unresolved ? ci[1] : keep;
      breakEven.push({
        function: f.function,
        input: f.input,
        runtime: f.runtime,
        seconds: bound > 0 ? (startWh * S_PER_H) / bound : Number.POSITIVE_INFINITY,
        estimate: f.estimate,
        atLeast: unresolved && bound > 0,
      });
    }
    // warm: the least energy over T, subject to the p99 target.
    const coldMs = f.latencyMs.cold;
    const warmMs = f.latencyMs.warm;
    let minT = 0;
    if (p99TargetMs !== undefined && coldMs?.length && warmMs?.length) {
      const share = largestColdShare(coldMs, warmMs, p99TargetMs);
      minT = share === null ? Number.POSITIVE_INFINITY : share >= 1 ? 0 : -Math.log(Math.max(share, 1e-12)) / lambda;
    }
    const keepLonger = keep < lambda * startWh * S_PER_H;
    const t = Number.isFinite(minT) ? Math.max(minT, keepLonger ? WARM_HITS / lambda : 0) : WARM_HITS / lambda;
    if (t === 0) continue; // warm with no keep-alive is cold
    const coldShare = Math.exp(-lambda * t);
    options.push(
      option(
        base,
        'warm',
        t,
        coldShare,
        cold * coldShare,
        warm * (1 - coldShare),
        (keep * (1 - coldShare)) / lambda / S_PER_H,
        p99([
          { values: coldMs, weight: coldShare },
          { values: warmMs, weight: 1 - coldShare },
        ]),
        p99TargetMs,
      ),
    );
    const runMs = quantile(
      [...(warmMs ?? coldMs ?? [])].sort((a, b) => a - b),
      0.5,
    );
    if (ratePerS * runMs > 100)
      notes.push(
        `${name}: at ${ratePerS}/s invocations overlap (rate x run time > 0.1): one sandbox is not enough, and this model undercounts keep-warm power.`,
      );
  }
  const rank = (o: AdvisorOption) =>
    o.meetsP99 === false ? 2 : o.meetsP99 === null && p99TargetMs !== undefined ? 1 : 0;
  options.sort((a, b) => rank(a) - rank(b) || a.energyPerInvocationWh - b.energyPerInvocationWh);
  const best: AdvisorOption[] = [];
  const work = (o: AdvisorOption) => `${o.function}|${JSON.stringify(o.input)}`;
  for (const o of options) if (rank(o) === 0 && !best.some((b) => work(b) === work(o))) best.push(o);
  return { ratePerS, p99TargetMs: p99TargetMs ?? null, options, best, startup, breakEven, notes };
}

function option(
  base: { function: string; input: unknown; runtime: RuntimeKind; estimate: boolean },
  mode: InvocationMode,
  keepAliveS: number | null,
  coldShare: number,
  coldWh: number,
  warmWh: number,
  keepWarmWh: number,
  p99Ms: number | null,
  target: number | undefined,
): AdvisorOption {
  return {
    ...base,
    mode,
    keepAliveS,
    coldShare,
    energyPerInvocationWh: coldWh + warmWh + keepWarmWh,
    ci95Wh: null,
    parts: { coldWh, warmWh, keepWarmWh },
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
function clamp(value: number, what: string, unit: string, notes: string[]): number {
  if (value >= 0) return value;
  notes.push(
    `${what} came out negative (${value.toExponential(2)} ${unit}): below what the meter resolves; taken as 0.`,
  );
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
