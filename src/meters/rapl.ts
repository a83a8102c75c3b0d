/**
 * RaplMeter: Intel/AMD RAPL energy counters through Linux powercap (`energy_uj`), package and
 * DRAM zones, with the counter's wrap-around (`max_energy_range_uj`) handled.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EventEmitter } from 'eventemitter3';
import { nowMs } from '../clock.js';
import { MeterError } from '../errors.js';
import type { Meter, MeterEvents } from './meter.js';
import { Ticker } from './polling.js';

/** Options of {@link RaplMeter}. */
export interface RaplMeterOptions {
  /** Default `/sys/class/powercap`. */
  root?: string;
  /** Zone names to sum (from each zone's `name` file). Default: every `package-*` and `dram` zone. */
  zones?: string[];
  /** Default 100 ms. */
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

  constructor(readonly options: RaplMeterOptions = {}) {
    super();
    this.intervalMs = options.intervalMs ?? 100;
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
    if (!found.zones.length) throw new MeterError('METER_UNAVAILABLE', found.problem, found.cause === undefined ? {} : { cause: found.cause });
    this.zones = found.zones;
    this.lastT = nowMs();
    this.ticker.start();
  }

  async stop(): Promise<void> {
    this.ticker.stop();
  }

  private read(): void {
    try {
      const t = nowMs();
      let joules = 0;
      for (const z of this.zones) {
        const v = Number(readFileSync(z.file, 'utf8'));
        // The counter wraps at max_energy_range_uj.
        const delta = v >= z.last ? v - z.last : v + z.maxUj - z.last;
        z.last = v;
        joules += delta / 1e6;
      }
      const from = this.lastT;
      const dt = (t - from) / 1000;
      this.lastT = t;
      this.totalJ += joules;
      // The power is the interval's mean: it belongs to the interval's middle, not its end.
      if (dt > 0) this.emit('sample', { t: (from + t) / 2, powerW: joules / dt, energyWh: this.totalJ / 3600 });
    } catch (e) {
      this.emit('error', new MeterError('METER_UNAVAILABLE', `RAPL read failed: ${(e as Error).message}`, { cause: e }));
    }
  }
}

/** The readable zones under `root` (all `package-*` and `dram` ones, or those named in `only`), or why there are none. */
function findZones(root: string, only?: string[]): { zones: Zone[]; problem: string; cause?: unknown } {
  const wanted = (n: string) => (only ? only.includes(n) : n.startsWith('package') || n === 'dram');
  let entries: string[];
  try {
    entries = readdirSync(root).filter((d) => d.startsWith('intel-rapl:'));
  } catch (e) {
    return { zones: [], problem: `RAPL is not available: ${root} cannot be read (${(e as Error).message}). Linux with Intel or AMD RAPL is needed.`, cause: e };
  }
  const zones: Zone[] = [];
  const problems: string[] = [];
  for (const d of entries) {
    const dir = join(root, d);
    try {
      const name = readFileSync(join(dir, 'name'), 'utf8').trim();
      if (!wanted(name)) continue;
      const file = join(dir, 'energy_uj');
      const last = Number(readFileSync(file, 'utf8'));
      const maxUj = Number(readFileSync(join(dir, 'max_energy_range_uj'), 'utf8'));
      if (!Number.isFinite(last) || !(maxUj > 0)) throw new Error('counter is not a number');
      zones.push({ name, file, maxUj, last });
    } catch (e) {
      problems.push(`${d}: ${(e as Error).message}`);
    }
  }
  return { zones, problem: `No readable RAPL zone under ${root}${problems.length ? ` (${problems.join('; ')}; energy_uj is often root-only)` : ''}.` };
}
