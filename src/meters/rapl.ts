/**
 * RaplMeter: Intel/AMD RAPL energy counters through Linux powercap (`energy_uj`), package and
 * DRAM zones, with the counter's wrap-around (`max_energy_range_uj`) handled.
 */
import { checkKnownKeys, keysOf } from '../known-keys.js';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { nowMs } from '../clock.js';
import { MeterError } from '../errors.js';
import { defineMeter, noAddress, numberParam, onlyParams, type Meter, type MeterEvents } from './meter.js';
import { finiteNumber, invalidOption } from './gude/options.js';
import { Ticker } from './polling.js';

/** Options of {@link RaplMeter}. */
export interface RaplMeterOptions {
  /** Default `/sys/class/powercap`. */
  root?: string;
  /** Zone names to sum (from each zone's `name` file). Default: every `package-*` and `dram` zone. */
  zones?: string[];
  /** Time between readings, ms, 1 to 3 600 000. Default 100. */
  intervalMs?: number;
}

interface Zone {
  name: string;
  file: string;
  maxUj: number;
  last: number;
}

/** Reads RAPL energy counters and reports their power. */
export class RaplMeter extends EventEmitter<MeterEvents> implements Meter {
  readonly name = 'rapl';
  readonly intervalMs: number;
  readonly estimate = false;
  private zones: Zone[] = [];
  private lastT = 0;
  private totalJ = 0;
  private readonly ticker: Ticker;

  /** @throws UsageError `INVALID_ARGUMENT` for an `intervalMs` that is not a finite number from 1 to 3 600 000, or `zones` that is not a list of names. */
  constructor(readonly options: RaplMeterOptions = {}) {
    super();
    checkKnownKeys(
      options,
      keysOf<RaplMeterOptions>({ root: true, zones: true, intervalMs: true }),
      'RaplMeter options',
    );
    this.intervalMs = finiteNumber('RaplMeter intervalMs', options?.intervalMs, 1, 3_600_000, 100);
    const zones: unknown = options?.zones;
    if (zones !== undefined && (!Array.isArray(zones) || zones.some((z) => typeof z !== 'string')))
      throw invalidOption('RaplMeter zones', 'a list of zone names', zones);
    this.ticker = new Ticker(this.intervalMs, () => this.read());
  }

  /**
   * Whether RAPL can be read here (a readable `package-*` or `dram` zone), without starting a
   * meter: `null` when it can, else why not. Cheap (a directory listing and a few small reads).
   */
  static probe(root = '/sys/class/powercap'): string | null {
    const found = findZones(root);
    return found.zones.length ? null : found.problem;
  }

  /** @throws MeterError `METER_UNAVAILABLE` when no readable RAPL zone exists. */
  async start(): Promise<void> {
    const found = findZones(this.options.root ?? '/sys/class/powercap', this.options.zones);
    if (!found.zones.length)
      throw new MeterError('METER_UNAVAILABLE', found.problem, found.cause === undefined ? {} : { cause: found.cause });
    this.zones = found.zones;
    this.lastT = nowMs();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    this.ticker.stop();
  }

  /**
   * One reading of every zone. A zone that cannot be read, or reads something that is not a
   * counter, is an `error` and no sample: nothing is committed, so the next good reading covers
   * the whole interval since the last one. A counter that dropped by more than half its range
   * was reset, not wrapped: an `error`, and the counters start again from there.
   */
  private read(): void {
    const t = nowMs();
    const values: number[] = [];
    for (const z of this.zones) {
      let text: string;
      try {
        text = readFileSync(z.file, 'utf8');
      } catch (e) {
        return this.fail(
          'METER_UNAVAILABLE',
          'unreadable',
          `RAPL zone ${z.name} cannot be read (${(e as Error).message})`,
          e,
        );
      }
      const v = counterValue(text);
      if (v === undefined || v > z.maxUj)
        return this.fail(
          'METER_PROTOCOL',
          'garbage',
          `RAPL zone ${z.name} reads ${JSON.stringify(text.trim().slice(0, 40))} in ${z.file}, not an energy counter (0 to ${z.maxUj} µJ)`,
        );
      values.push(v);
    }
    let joules = 0;
    const reset: string[] = [];
    this.zones.forEach((z, i) => {
      const v = values[i]!;
      // The counter wraps at max_energy_range_uj; a drop of more than half the range is no wrap.
      const delta = v >= z.last ? v - z.last : v + z.maxUj - z.last;
      if (v < z.last && delta > z.maxUj / 2) reset.push(z.name);
      z.last = v;
      joules += delta / 1e6;
    });
    const from = this.lastT;
    this.lastT = t;
    if (reset.length)
      return this.fail(
        'METER_PROTOCOL',
        'reset',
        `RAPL counter of ${reset.join(', ')} went backwards (reset, not a wrap); this interval has no reading`,
      );
    const dt = (t - from) / 1000;
    this.totalJ += joules;
    // The power is the interval's mean: it belongs to the interval's middle, not its end.
    if (dt > 0) this.emit('sample', { t: (from + t) / 2, powerW: joules / dt, energyWh: this.totalJ / 3600 });
  }

  private fail(code: 'METER_UNAVAILABLE' | 'METER_PROTOCOL', reason: string, message: string, cause?: unknown): void {
    this.emit(
      'error',
      new MeterError(code, `${message}.`, {
        ...(cause === undefined ? {} : { cause }),
        details: { reason, meter: this.name },
      }),
    );
  }
}

/** A counter file's value: a whole number of µJ, or undefined for anything else (empty, text, negative). */
function counterValue(text: string): number | undefined {
  const trimmed = text.trim();
  if (!/^\d{1,16}$/.test(trimmed)) return undefined;
  return Number(trimmed);
}

/** The readable zones under `root` (all `package-*` and `dram` ones, or those named in `only`), or why there are none. */
function findZones(root: string, only?: string[]): { zones: Zone[]; problem: string; cause?: unknown } {
  const wanted = (n: string) => (only ? only.includes(n) : n.startsWith('package') || n === 'dram');
  let entries: string[];
  try {
    entries = readdirSync(root).filter((d) => d.startsWith('intel-rapl:'));
  } catch (e) {
    return {
      zones: [],
      problem: `RAPL is not available: ${root} cannot be read (${(e as Error).message}). Linux with Intel or AMD RAPL is needed.`,
      cause: e,
    };
  }
  const zones: Zone[] = [];
  const problems: string[] = [];
  for (const d of entries) {
    const dir = join(root, d);
    try {
      const name = readFileSync(join(dir, 'name'), 'utf8').trim();
      if (!wanted(name)) continue;
      const file = join(dir, 'energy_uj');
      const last = counterValue(readFileSync(file, 'utf8'));
      const maxUj = counterValue(readFileSync(join(dir, 'max_energy_range_uj'), 'utf8'));
      if (last === undefined || maxUj === undefined || !(maxUj > 0)) throw new Error('counter is not a number');
      zones.push({ name, file, maxUj, last });
    } catch (e) {
      problems.push(`${d}: ${(e as Error).message}`);
    }
  }
  return {
    zones,
    problem: `No readable RAPL zone under ${root}${problems.length ? ` (${problems.join('; ')}; energy_uj is often root-only)` : ''}.`,
  };
}

/** Registers RAPL: `rapl`, or `rapl?intervalMs=100`. */
export const raplMeter = defineMeter({
  scheme: 'rapl',
  summary: "this machine's RAPL energy counters (Linux powercap: package and DRAM)",
  usage: 'rapl',
  create(url) {
    noAddress(url);
    onlyParams(url, ['intervalMs']);
    const intervalMs = numberParam(url, 'intervalMs');
    return new RaplMeter(intervalMs === undefined ? {} : { intervalMs });
  },
});
