/**
 * GudeMeter: polls a Gude Expert Power Control over Modbus TCP (jsmodbus), one read of the
 * sensor's contiguous register block per poll, over one persistent connection.
 */
import { Socket } from 'node:net';
import { EventEmitter } from 'eventemitter3';
import Modbus from 'jsmodbus';
import { nowMs } from '../../clock.js';
import { MeterError } from '../../errors.js';
import type { PowerSample } from '../../types.js';
import type { Meter, MeterEvents } from '../meter.js';
import { Ticker } from '../polling.js';
import { BLOCK_REGISTERS, decodeBlock, sensorBase, type GudeTarget } from './register-map.js';

/** Options of {@link GudeMeter}. */
export interface GudeMeterOptions {
  host: string;
  /** Default 502. */
  port?: number;
  /** Which sensor: `{ port: n }` (an outlet) or `{ line: n }`, numbered from 1. Default `{ port: 1 }`. */
  outlet?: GudeTarget;
  /** Time between polls, ms. Default 100. */
  intervalMs?: number;
  /** `'measured'` (default) uses the device's voltage; a number fixes U (the thesis used 240 V). */
  voltage?: 'measured' | number;
  /** `'uipf'` (default): P = U x I x PF, finer than the device's 1 W active-power field; `'active'`: that field. */
  power?: 'uipf' | 'active';
  /** Per-request timeout, ms. Default 1000. */
  timeoutMs?: number;
  /** Modbus unit id (the device ignores it). Default 1. */
  unitId?: number;
}

type ModbusClient = InstanceType<typeof Modbus.client.TCP>;

/**
 * Reads power from a Gude PDU outlet or line. Errors (unreachable device, timeouts, wrong replies,
 * Modbus exceptions) are `error` events and gaps in the samples; the meter reconnects with back-off.
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
  private readonly base: number;
  private socket: Socket | undefined;
  private client: ModbusClient | undefined;
  private connected = false;
  private running = false;
  private readonly ticker: Ticker;
  private failures = 0;
  private nextConnectAt = 0;

  constructor(readonly options: GudeMeterOptions) {
    super();
    if (!options?.host) throw new MeterError('METER_UNAVAILABLE', 'GudeMeter needs a host (the PDU\'s address).');
    const target = options.outlet ?? { port: 1 };
    this.base = sensorBase(target);
    this.intervalMs = options.intervalMs ?? 100;
    const port = options.port ?? 502;
    this.name = `gude:${options.host}:${port}/${'port' in target ? `port${target.port}` : `line${target.line}`}`;
    this.ticker = new Ticker(this.intervalMs, () => this.poll());
  }

  /** Connects and starts polling. @throws MeterError `METER_UNAVAILABLE` when the first connection fails. */
  async start(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      await this.connect();
    } catch (e) {
      this.running = false;
      throw new MeterError('METER_UNAVAILABLE', `Cannot reach the Gude meter at ${this.options.host}:${this.options.port ?? 502}: ${(e as Error).message}`, { cause: e });
    }
    this.ticker.start();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.ticker.stop();
    this.socket?.destroy();
    this.socket = undefined;
    this.connected = false;
  }

  private connect(): Promise<void> {
    return new Promise((resolve, reject) => {
      const socket = new Socket();
      const client = new Modbus.client.TCP(socket, this.options.unitId ?? 1, this.options.timeoutMs ?? 1000);
      const timeout = setTimeout(() => {
        socket.destroy();
        reject(new Error('connection timed out'));
      }, this.options.timeoutMs ?? 1000);
      socket.once('connect', () => {
        clearTimeout(timeout);
        this.connected = true;
        this.failures = 0;
        resolve();
      });
      socket.on('error', (e) => {
        clearTimeout(timeout);
        reject(e);
      });
      socket.on('close', () => {
        if (this.socket === socket) this.connected = false;
      });
      socket.setNoDelay(true);
      this.socket?.destroy();
      this.socket = socket;
      this.client = client;
      socket.connect({ host: this.options.host, port: this.options.port ?? 502 });
    });
  }

  private fail(e: unknown): void {
    const err =
      e instanceof MeterError
        ? e
        : new MeterError(
            (e as { err?: string })?.err === 'ModbusException' || (e as { err?: string })?.err === 'Protocol' || (e as { err?: string })?.err === 'OutOfSync'
              ? 'METER_PROTOCOL'
              : 'METER_UNAVAILABLE',
            `Gude meter ${this.name}: ${(e as Error)?.message ?? (e as { message?: string })?.message ?? String(e)}`,
            { cause: e },
          );
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private async poll(): Promise<void> {
    if (!this.running) return;
    try {
      if (!this.connected) {
        // Back-off between reconnects: 1, 2, 4 ... intervals, at most 5 s; ticks in between are gaps.
        if (nowMs() < this.nextConnectAt) return;
        try {
          await this.connect();
        } catch (e) {
          this.failures++;
          this.nextConnectAt = nowMs() + Math.min(5000, this.intervalMs * 2 ** this.failures);
          throw e;
        }
      }
      const t0 = nowMs();
      const resp = await this.client!.readInputRegisters(this.base, BLOCK_REGISTERS);
      const t1 = nowMs();
      const body = resp.response.body as unknown as { valuesAsBuffer: Buffer };
      const r = decodeBlock(body.valuesAsBuffer);
      const u = typeof this.options.voltage === 'number' ? this.options.voltage : r.voltageV;
      const powerW = (this.options.power ?? 'uipf') === 'active' ? r.activePowerW : u * r.currentA * r.powerFactor;
      const sample: PowerSample = {
        t: (t0 + t1) / 2,
        powerW,
        voltageV: u,
        currentA: r.currentA,
        powerFactor: r.powerFactor,
        activePowerW: r.activePowerW,
        energyWh: r.energyWh,
      };
      this.emit('sample', sample);
    } catch (e) {
      if ((e as { err?: string })?.err === 'Timeout' || (e as { err?: string })?.err === 'Offline') this.connected = false;
      this.fail(e);
    }
  }
}
