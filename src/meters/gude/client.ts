/**
 * GudeMeter: polls a Gude Expert Power Control over Modbus TCP (jsmodbus), one read of the
 * sensor's contiguous register block per poll, over one persistent connection.
 */
import { checkKnownKeys, keysOf } from '../../known-keys.js';
import { EventEmitter } from 'eventemitter3';
import { nowMs } from '../../clock.js';
import { MeterError } from '../../errors.js';
import type { PowerSample } from '../../types.js';
import type { Meter, MeterEvents } from '../meter.js';
import { Ticker } from '../polling.js';
import { finiteNumber, hostName, oneOf, positive, wholeNumber } from './options.js';
import { checkReading, decodeBlock, sensorBase, targetLabel, type GudeTarget } from './register-map.js';
import { Link, type FailureReason } from './link.js';

/** Options of {@link GudeMeter}. */
export interface GudeMeterOptions {
  /** The PDU's host name or address. Required. */
  host: string;
  /** TCP port, 1-65535. Default 502. */
  port?: number;
  /** Which sensor: `{ port: n }` (an outlet, 1-64) or `{ line: n }` (1-48), numbered from 1. Default `{ port: 1 }`. */
  outlet?: GudeTarget;
  /** Time between polls, ms (at least 1). Default 100. */
  intervalMs?: number;
  /** `'measured'` (default) uses the device's voltage; a number (V, up to 300) fixes U (the thesis used 240 V). */
  voltage?: 'measured' | number;
  /** `'uipf'` (default): P = U x I x PF, finer than the device's 1 W active-power field; `'active'`: that field. */
  power?: 'uipf' | 'active';
  /** Deadline of connecting and of each request, ms. Default 1000. */
  timeoutMs?: number;
  /** Modbus unit id, 0-255 (the device ignores it). Default 1. */
  unitId?: number;
}

/** Reasons after which the connection is dropped and re-opened with back-off. */
const DROPS: ReadonlySet<FailureReason> = new Set(['unreachable', 'timeout', 'closed', 'garbage']);
/** Longest pause between connection attempts, ms. */
const MAX_BACKOFF_MS = 5000;

/**
 * Reads power from a Gude PDU outlet or line. After a successful start, failures (device gone,
 * timeouts, Modbus exceptions, garbage, implausible values) are `error` events with a
 * {@link MeterError} and gaps in the samples; the meter reconnects with back-off.
 * @example
 * ```ts
 * const meter = new GudeMeter({ host: '10.0.0.7', outlet: { port: 1 }, voltage: 240 });
 * const nebula = new Nebula({ meter });
 * ```
 */
export class GudeMeter extends EventEmitter<MeterEvents> implements Meter {
  readonly name: string;
  readonly intervalMs: number;
  readonly estimate = false;
  private readonly host: string;
  private readonly port: number;
  private readonly target: GudeTarget;
  private readonly base: number;
  private readonly voltage: 'measured' | number;
  private readonly power: 'uipf' | 'active';
  private readonly timeoutMs: number;
  private readonly unitId: number;
  private readonly ticker: Ticker;
  private link: Link | undefined;
  private running = false;
  /** Connections in a row that ended without a valid reading: the back-off doubles with each. */
  private failures = 0;
  /** No connection attempt before this (epoch ms). */
  private retryAt = 0;
  private lastError: MeterError | undefined;
  private starting: Promise<void> | undefined;

  /** @throws UsageError `INVALID_ARGUMENT` for a missing host or an option out of range. */
  constructor(readonly options: GudeMeterOptions) {
    super();
    const o = (options ?? {}) as Partial<GudeMeterOptions>;
    checkKnownKeys(
      o,
      keysOf<GudeMeterOptions>({
        host: true,
        port: true,
        outlet: true,
        intervalMs: true,
        voltage: true,
        power: true,
        timeoutMs: true,
        unitId: true,
      }),
      'GudeMeter options',
    );
    this.host = hostName('GudeMeter host', o.host);
    this.port = wholeNumber('GudeMeter port', o.port, 1, 65535, 502);
    this.target = o.outlet ?? { port: 1 };
    this.base = sensorBase(this.target);
    this.intervalMs = finiteNumber('GudeMeter intervalMs', o.intervalMs, 1, 3_600_000, 100);
    this.voltage =
      o.voltage === undefined || o.voltage === 'measured'
        ? 'measured'
        : positive("GudeMeter voltage (V, or 'measured')", o.voltage, 300, 0);
    this.power = oneOf('GudeMeter power', o.power, ['uipf', 'active'] as const, 'uipf');
    this.timeoutMs = finiteNumber('GudeMeter timeoutMs', o.timeoutMs, 1, 600_000, 1000);
    this.unitId = wholeNumber('GudeMeter unitId', o.unitId, 0, 255, 1);
    this.name = `gude:${this.host}:${this.port}/${targetLabel(this.target)}`;
    this.ticker = new Ticker(this.intervalMs, () => this.poll());
  }

  /**
   * Connects, takes the first reading, then polls every `intervalMs`. Within the back-off after a
   * failed attempt it rejects at once with the last error (`details.retryInMs` says when it retries).
   * @throws MeterError `METER_UNAVAILABLE` (cannot connect, no reply in `timeoutMs`, connection closed)
   * or `METER_PROTOCOL` (a Modbus exception, e.g. an outlet the device lacks; garbage; an implausible reading).
   */
  start(): Promise<void> {
    this.starting ??= this.begin().finally(() => (this.starting = undefined));
    return this.starting;
  }

  private async begin(): Promise<void> {
    if (this.running) return;
    const waitMs = this.retryAt - nowMs();
    if (this.lastError && waitMs > 0)
      throw this.error(this.lastError, { retryInMs: Math.ceil(waitMs) }, ` Next attempt in ${Math.ceil(waitMs)} ms.`);
    this.running = true;
    let sample: PowerSample;
    try {
      sample = await this.read();
    } catch (e) {
      this.running = false;
      this.drop();
      throw this.failed(e, true);
    }
    this.ticker.start();
    this.succeeded(sample);
  }

  /** Stops polling and closes the connection. */
  async stop(): Promise<void> {
    this.running = false;
    this.ticker.stop();
    this.drop();
  }

  private async poll(): Promise<void> {
    if (!this.running) return;
    // Backing off: this tick is a gap, not an attempt.
    if (!this.link && nowMs() < this.retryAt) return;
    let sample: PowerSample;
    try {
      sample = await this.read();
    } catch (e) {
      if (!this.running) return;
      const err = this.failed(e, false);
      if (this.listenerCount('error') > 0) this.emit('error', err);
      return;
    }
    this.succeeded(sample);
  }

  /** One reading over the current connection (opened first if needed). @throws MeterError */
  private async read(): Promise<PowerSample> {
    if (this.link?.closed && !this.link.garbage) this.link = undefined; // closed after a valid reply: open anew
    if (!this.link)
      this.link = await Link.open(this.host, this.port, this.unitId, this.timeoutMs, this.describe.bind(this));
    const link = this.link;
    if (!this.running) {
      this.drop();
      throw link.error('closed', 'the meter was stopped');
    }
    const t0 = nowMs();
    let bytes: Buffer;
    try {
      bytes = await link.readInputRegisters(this.base);
    } catch (e) {
      const err = e as MeterError;
      if (DROPS.has(err.details.reason as FailureReason)) this.drop();
      throw err;
    }
    const t1 = nowMs();
    const r = decodeBlock(bytes);
    checkReading(r);
    const u = this.voltage === 'measured' ? r.voltageV : this.voltage;
    const powerW = this.power === 'active' ? r.activePowerW : u * r.currentA * r.powerFactor;
    return {
      t: (t0 + t1) / 2,
      powerW,
      voltageV: u,
      currentA: r.currentA,
      powerFactor: r.powerFactor,
      activePowerW: r.activePowerW,
      energyWh: r.energyWh,
    };
  }

  private succeeded(sample: PowerSample): void {
    if (!this.running) return;
    this.failures = 0;
    this.retryAt = 0;
    this.lastError = undefined;
    this.emit('sample', sample);
  }

  /** Books a failure: a dropped connection (or a failed start) doubles the back-off. */
  private failed(e: unknown, starting: boolean): MeterError {
    const err =
      e instanceof MeterError
        ? e
        : new MeterError('METER_UNAVAILABLE', String((e as Error)?.message ?? e), { cause: e });
    let retryInMs: number | undefined;
    if (starting || DROPS.has(err.details.reason as FailureReason)) {
      this.failures++;
      retryInMs = Math.min(MAX_BACKOFF_MS, this.intervalMs * 2 ** this.failures);
      this.retryAt = nowMs() + retryInMs;
    }
    this.lastError = this.error(err, retryInMs === undefined ? {} : { retryInMs });
    return retryInMs === undefined ? this.lastError : this.error(this.lastError, {}, ` Retrying in ${retryInMs} ms.`);
  }

  /** The same error, its message opening with the meter's name, and more details. */
  private error(e: MeterError, details: Record<string, unknown>, more = ''): MeterError {
    const prefix = `Gude meter ${this.name}: `;
    const message = e.message.startsWith(prefix)
      ? e.message
      : prefix + e.message.charAt(0).toLowerCase() + e.message.slice(1);
    return new MeterError(e.code as 'METER_UNAVAILABLE' | 'METER_PROTOCOL', message + more, {
      cause: e.cause ?? e,
      details: { ...e.details, meter: this.name, ...details },
    });
  }

  /** A message prefix naming this meter, and what a Modbus exception means for its sensor. */
  private describe(reason: FailureReason, what: string, exceptionCode?: number): string {
    const sensor = 'port' in this.target ? `outlet ${this.target.port}` : `line ${this.target.line}`;
    if (reason === 'exception' && exceptionCode === 2) what = `the device has no ${sensor} (${what})`;
    return `Gude meter ${this.name}: ${what}.`;
  }

  private drop(): void {
    this.link?.close();
    this.link = undefined;
  }
}
