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

  /** @throws MeterError `METER_UNAVAILABLE` when no readable RAPL zone exists. */
  async start(): Promise<void> {
    const root = this.options.root ?? '/sys/class/powercap';
    const wanted = (n: string) => (this.options.zones ? this.options.zones.includes(n) : n.startsWith('package') || n === 'dram');
    const zones: Zone[] = [];
    let entries: string[] = [];
    try {
      entries = readdirSync(root).filter((d) => d.startsWith('intel-rapl:'));
    } catch (e) {
      throw new MeterError('METER_UNAVAILABLE', `RAPL is not available: ${root} cannot be read (${(e as Error).message}). Linux with Intel or AMD RAPL is needed.`, { cause: e });
    }
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
    if (zones.length === 0)
      throw new MeterError(
        'METER_UNAVAILABLE',
        `No readable RAPL zone under ${root}${problems.length ? ` (${problems.join('; ')}; energy_uj is often root-only)` : ''}.`,
      );
    this.zones = zones;
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
      const dt = (t - this.lastT) / 1000;
      this.lastT = t;
      this.totalJ += joules;
      if (dt > 0) this.emit('sample', { t, powerW: joules / dt, energyWh: this.totalJ / 3600 });
    } catch (e) {
      this.emit('error', new MeterError('METER_UNAVAILABLE', `RAPL read failed: ${(e as Error).message}`, { cause: e }));
    }
  }
}
