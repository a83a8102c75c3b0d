/**
 * Keep-alive policies: after each invocation of a function ends, how long its sandbox is kept, and
 * whether it is removed and made again ahead of the next expected arrival (a pre-warm). `none`
 * keeps nothing, `fixed` keeps every sandbox a fixed time (providers' 10-20 minutes), `histogram`
 * is the hybrid policy of Shahrad et al., "Serverless in the Wild" (USENIX ATC 2020): a histogram
 * of idle times, per application as the paper keeps it or per function, sets a pre-warm window at
 * its head and a keep-alive window to its tail.
 */
import { UsageError } from '../../errors.js';
import type { Trace } from './trace.js';

/** What to do after an invocation ends, in trace time (ms). */
export interface KeepAliveDecision {
  /** 0: the sandbox is kept from the end; above 0: it is removed at the end and made again this long after it. */
  prewarmMs: number;
  /** How long the sandbox is then kept (from the end, or from the pre-warm) before it is removed; 0: removed at once. */
  keepAliveMs: number;
}

/** What a policy learns the idle times of: each trace function, or each application (all its functions' arrivals together). */
export type LearningUnit = 'app' | 'function';

/** A keep-alive policy. It learns from each unit's idle times (time between arrivals, trace ms). */
export interface KeepAlivePolicy {
  /** As the command line names it, e.g. `fixed:10m`. */
  readonly name: string;
  /** What it learns per; undefined: per application when the trace has applications, else per function. */
  readonly per?: LearningUnit;
  /** An arrival of `unit` (a function or an application), `idleMs` after its previous one (undefined for its first). */
  observe(unit: string, idleMs: number | undefined): void;
  /** What to do after an invocation of a function of `unit` ends. */
  decide(unit: string): KeepAliveDecision;
}

/** A policy following a trace's arrivals: each arrival taught to its unit, each function decided by its unit. */
export interface PolicyOnTrace {
  /** The unit learnt per. */
  per: LearningUnit;
  /** An arrival of trace function `fn` at trace time `atMs` (arrivals in time order). */
  arrive(fn: string, atMs: number): void;
  /** What to do after an invocation of trace function `fn` ends. */
  decide(fn: string): KeepAliveDecision;
}

/**
 * Applies `policy` to a trace: per application, an idle time is the time from one arrival of any of
 * the application's functions to the next (as Shahrad et al. count it: the application is their
 * unit of keep-alive), and every function of the application follows its histogram; per function,
 * each function's own arrivals.
 * @throws UsageError `INVALID_ARGUMENT` for a policy per application on a trace without applications.
 */
export function policyOnTrace(policy: KeepAlivePolicy, trace: Pick<Trace, 'functions' | 'apps'>): PolicyOnTrace {
  if (policy.per === 'app' && !trace.apps)
    throw bad(
      policy.name,
      'per=app needs a trace with applications (the Azure format, whose HashApp names them); this one has none: use per=function.',
    );
  const per: LearningUnit = policy.per ?? (trace.apps ? 'app' : 'function');
  const appOf = new Map(trace.functions.map((f, i) => [f, trace.apps?.[i] ?? f]));
  const unit = (fn: string) => (per === 'app' ? `app:${appOf.get(fn) ?? fn}` : `fn:${fn}`);
  const lastAt = new Map<string, number>();
  return {
    per,
    arrive(fn, atMs) {
      const u = unit(fn);
      const last = lastAt.get(u);
      policy.observe(u, last === undefined ? undefined : atMs - last);
      lastAt.set(u, atMs);
    },
    decide: (fn) => policy.decide(unit(fn)),
  };
}

/** The parameters of the hybrid histogram policy, with the paper's values as defaults. */
export interface HistogramParameters {
  /** Width of a bin, ms. Default 1 minute. */
  binMs: number;
  /** Idle times up to this are binned, ms; longer ones are counted out of range. Default 4 hours. */
  rangeMs: number;
  /** The pre-warm window is this percentile of the idle times (its bin's lower edge) ... Default 5. */
  headPercentile: number;
  /** ... and the keep-alive window ends at this one (its bin's upper edge). Default 99. */
  tailPercentile: number;
  /** The pre-warm window is shortened and the keep-alive's end lengthened by this share. Default 0.1. */
  margin: number;
  /** Fewer idle times than this: not representative. Default 10. */
  minSamples: number;
  /** A coefficient of variation of the bin counts below this (idle times spread out evenly): not representative. Default 2. */
  cvThreshold: number;
  /** More than this share of idle times out of range: not representative. Default 0.5. */
  outOfRangeShare: number;
  /** The keep-alive when the histogram is not representative (no pre-warm), ms. Default: the range. */
  fallbackMs: number;
}

const MINUTE = 60_000;
const HISTOGRAM_DEFAULTS: HistogramParameters = {
  binMs: MINUTE,
  rangeMs: 240 * MINUTE,
  headPercentile: 5,
  tailPercentile: 99,
  margin: 0.1,
  minSamples: 10,
  cvThreshold: 2,
  outOfRangeShare: 0.5,
  fallbackMs: 240 * MINUTE,
};

/** Keeps nothing: every invocation is a cold start. */
class NoKeepAlive implements KeepAlivePolicy {
  readonly name = 'none';
  observe(): void {}
  decide(): KeepAliveDecision {
    return { prewarmMs: 0, keepAliveMs: 0 };
  }
}

/** Keeps each sandbox `keepAliveMs` after its last invocation ended. */
class FixedKeepAlive implements KeepAlivePolicy {
  constructor(
    readonly name: string,
    private readonly keepAliveMs: number,
  ) {}
  observe(): void {}
  decide(): KeepAliveDecision {
    return { prewarmMs: 0, keepAliveMs: this.keepAliveMs };
  }
}

/** One function's idle times, binned. */
interface IdleHistogram {
  bins: number[];
  inRange: number;
  outOfRange: number;
}

/** The hybrid histogram policy, one histogram per unit (an application or a function). */
export class HistogramKeepAlive implements KeepAlivePolicy {
  readonly params: HistogramParameters;
  private readonly histograms = new Map<string, IdleHistogram>();
  constructor(
    readonly name: string,
    params: Partial<HistogramParameters> = {},
    readonly per?: LearningUnit,
  ) {
    this.params = { ...HISTOGRAM_DEFAULTS, ...params };
    if (params.fallbackMs === undefined) this.params.fallbackMs = this.params.rangeMs;
  }

  observe(fn: string, idleMs: number | undefined): void {
    if (idleMs === undefined) return;
    const { binMs, rangeMs } = this.params;
    let h = this.histograms.get(fn);
    if (!h)
      this.histograms.set(
        fn,
        (h = { bins: new Array<number>(Math.ceil(rangeMs / binMs)).fill(0), inRange: 0, outOfRange: 0 }),
      );
    if (idleMs >= rangeMs) h.outOfRange++;
    else {
      h.bins[Math.floor(idleMs / binMs)]!++;
      h.inRange++;
    }
  }

  decide(fn: string): KeepAliveDecision {
    const p = this.params;
    const h = this.histograms.get(fn);
    if (!h || !this.representative(h)) return { prewarmMs: 0, keepAliveMs: p.fallbackMs };
    const head = this.percentileBin(h, p.headPercentile) * p.binMs;
    const tail = (this.percentileBin(h, p.tailPercentile) + 1) * p.binMs;
    const prewarmMs = head * (1 - p.margin);
    return { prewarmMs, keepAliveMs: tail * (1 + p.margin) - prewarmMs };
  }

  /** Enough idle times, mostly in range, and concentrated in few bins (a high coefficient of variation of the counts). */
  representative(h: IdleHistogram): boolean {
    const p = this.params;
    const total = h.inRange + h.outOfRange;
    if (total < p.minSamples || h.outOfRange / total > p.outOfRangeShare) return false;
    const mean = h.inRange / h.bins.length;
    const variance = h.bins.reduce((a, c) => a + (c - mean) ** 2, 0) / h.bins.length;
    return Math.sqrt(variance) / mean >= p.cvThreshold;
  }

  /** The bin holding the `percentile`th idle time of those in range. */
  private percentileBin(h: IdleHistogram, percentile: number): number {
    const target = (percentile / 100) * h.inRange;
    let seen = 0;
    for (const [i, c] of h.bins.entries()) {
      seen += c;
      if (c && seen >= target) return i;
    }
    return h.bins.length - 1;
  }

  /** The histogram of `unit`, for reports and tests. */
  histogram(unit: string): IdleHistogram | undefined {
    return this.histograms.get(unit);
  }
}

const bad = (text: string, what: string) => new UsageError('INVALID_ARGUMENT', `Keep-alive policy "${text}": ${what}`);

/** `10m`, `30s`, `2h`, `500ms` to ms (0 allowed). */
function duration(text: string, policy: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(text);
  if (!m) throw bad(policy, `"${text}" is not a duration such as 10m, 30s or 2h.`);
  const unit = { ms: 1, s: 1000, m: MINUTE, h: 60 * MINUTE }[m[2] as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

/**
 * A policy from its name: `none`, `fixed:DURATION` (e.g. `fixed:10m`), `histogram` or
 * `histogram:per=app,range=4h,bin=1m,head=5,tail=99,margin=0.1,min=10,cv=2,out=0.5,fallback=4h`
 * (`per=app|function`; by default per application when the trace has applications).
 * @throws UsageError `INVALID_ARGUMENT` saying what is wrong.
 */
export function parsePolicy(text: string): KeepAlivePolicy {
  const [kind, rest] = [text.split(':')[0]!, text.slice(text.indexOf(':') + 1)];
  const hasArgs = text.includes(':');
  if (kind === 'none' && !hasArgs) return new NoKeepAlive();
  if (kind === 'fixed') {
    if (!hasArgs) throw bad(text, 'fixed takes its keep-alive, e.g. fixed:10m.');
    return new FixedKeepAlive(text, duration(rest, text));
  }
  if (kind === 'histogram') {
    const params: Partial<HistogramParameters> = {};
    let per: LearningUnit | undefined;
    const keys: Record<string, [keyof HistogramParameters, 'duration' | 'number']> = {
      range: ['rangeMs', 'duration'],
      bin: ['binMs', 'duration'],
      head: ['headPercentile', 'number'],
      tail: ['tailPercentile', 'number'],
      margin: ['margin', 'number'],
      min: ['minSamples', 'number'],
      cv: ['cvThreshold', 'number'],
      out: ['outOfRangeShare', 'number'],
      fallback: ['fallbackMs', 'duration'],
    };
    for (const pair of hasArgs ? rest.split(',') : []) {
      const [key, value] = pair.split('=');
      if (key === 'per') {
        if (value !== 'app' && value !== 'function') throw bad(text, `per is app or function, got "${value ?? ''}".`);
        per = value;
        continue;
      }
      const entry = key === undefined ? undefined : keys[key];
      if (!entry || value === undefined)
        throw bad(
          text,
          `"${pair}" is not one of per=app|function, ${Object.keys(keys)
            .map((k) => `${k}=...`)
            .join(', ')}.`,
        );
      const v = entry[1] === 'duration' ? duration(value, text) : Number(value);
      if (!Number.isFinite(v) || v < 0) throw bad(text, `${key} must be a number of 0 or more, got "${value}".`);
      params[entry[0]] = v;
    }
    const merged = { ...HISTOGRAM_DEFAULTS, ...params };
    if (!(merged.binMs > 0) || merged.rangeMs < merged.binMs)
      throw bad(text, 'bin must be above 0 and at most the range.');
    if (merged.headPercentile > merged.tailPercentile || merged.tailPercentile > 100)
      throw bad(text, 'head must be at most tail, and tail at most 100.');
    if (merged.margin >= 1) throw bad(text, 'margin must be below 1.');
    return new HistogramKeepAlive(text, params, per);
  }
  throw bad(text, 'use none, fixed:DURATION (e.g. fixed:10m) or histogram[:per=app,range=4h,head=5,tail=99,...].');
}
