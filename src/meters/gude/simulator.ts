/**
 * GudeSimulator: a Modbus TCP server (jsmodbus) serving the Gude register map with a
 * programmable power trace, so the whole energy loop can be tried without the hardware; it can
 * also play the faults a meter must survive (see {@link GudeFault}).
 */
import { checkKnownKeys, keysOf } from '../../known-keys.js';
import { createServer, type Server, type Socket } from 'node:net';
import Modbus from 'jsmodbus';
import { nowMs } from '../../clock.js';
import { cpuTimes } from '../cpu-load.js';
import { finiteNumber, hostName, invalidOption, oneOf, positive, wholeNumber } from './options.js';
import { BLOCK_STRIDE, encodeBlock, MAX_SENSORS, sensorBase } from './register-map.js';

/** Power over time: constant watts, a function of epoch ms, or this host's CPU load. */
export type PowerTrace = number | { constantW: number } | ((tMs: number) => number) | 'cpu';

/**
 * A fault the simulator plays on every request (or connection) while it is set:
 * - `none`: answers as the device does. A read of an outlet or line it lacks (past `outlets` /
 *   `lines`) is always answered with Modbus exception 2 (illegal data address), as the device does.
 * - `exception`: every read answered with Modbus exception 4 (server device failure).
 * - `all-ff`: every register 0xFFFF (a reply some broken gateways send), an implausible reading.
 * - `garbage`: bytes that are not Modbus TCP.
 * - `frozen`: accepts connections and requests, never answers.
 * - `close`: closes the open connections, then accepts each new one and closes it at once.
 */
export type GudeFault = 'none' | 'exception' | 'all-ff' | 'garbage' | 'frozen' | 'close';

const FAULTS: readonly GudeFault[] = ['none', 'exception', 'all-ff', 'garbage', 'frozen', 'close'];

/** Options of {@link GudeSimulator}. */
export interface GudeSimulatorOptions {
  /** TCP port, 0-65535; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `{ constantW: 60 }`. For `'cpu'`: `idleW + (maxW - idleW) x utilisation`. Watts, 0 to 30 000. */
  trace?: PowerTrace;
  /** Watts at 0 and 100% CPU for the `'cpu'` trace. Defaults 40 and 55. */
  idleW?: number;
  maxW?: number;
  /** Supply voltage, V (above 0, up to 300). Default 230. */
  voltageV?: number;
  /** Power factor, above 0 up to 1. Default 0.95. */
  powerFactor?: number;
  /** Outlets (1-64) and lines (1-48) served, each with the same reading. Defaults 8 and 1. */
  outlets?: number;
  lines?: number;
  /** A fault to play from the start. Default `'none'`; change it any time with {@link GudeSimulator.fault}. */
  fault?: GudeFault;
}

/** Serves the Gude register map over Modbus TCP. */
export class GudeSimulator {
  /** Connections accepted so far. */
  connections = 0;
  private faultNow: GudeFault;
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly input: Buffer;
  private readonly trace: PowerTrace;
  private readonly outlets: number;
  private readonly lines: number;
  private energyWh = 0;
  private lastT = 0;
  private lastP = 0;
  private cpuPrev = cpuTimes();
  private readonly startedAt = nowMs();

  /** @throws UsageError `INVALID_ARGUMENT` for an option out of range. */
  constructor(readonly options: GudeSimulatorOptions = {}) {
    const o = options ?? {};
    checkKnownKeys(
      o,
      keysOf<GudeSimulatorOptions>({
        port: true,
        host: true,
        trace: true,
        idleW: true,
        maxW: true,
        voltageV: true,
        powerFactor: true,
        outlets: true,
        lines: true,
        fault: true,
      }),
      'GudeSimulator options',
    );
    wholeNumber('GudeSimulator port', o.port, 0, 65535, 0);
    hostName('GudeSimulator host', o.host, '127.0.0.1');
    this.trace = o.trace ?? { constantW: 60 };
    const t = this.trace;
    if (typeof t === 'number') finiteNumber('GudeSimulator trace', t, 0, 30_000, 0);
    else if (t && typeof t === 'object') finiteNumber('GudeSimulator trace.constantW', t.constantW, 0, 30_000, 0);
    else if (typeof t !== 'function' && t !== 'cpu')
      throw invalidOption('GudeSimulator trace', "watts, { constantW }, a function of time or 'cpu'", t);
    const idleW = finiteNumber('GudeSimulator idleW', o.idleW, 0, 30_000, 40);
    finiteNumber('GudeSimulator maxW', o.maxW, idleW, 30_000, Math.max(idleW, 55));
    positive('GudeSimulator voltageV', o.voltageV, 300, 230);
    positive('GudeSimulator powerFactor', o.powerFactor, 1, 0.95);
    this.outlets = wholeNumber('GudeSimulator outlets', o.outlets, 1, MAX_SENSORS.port, 8);
    this.lines = wholeNumber('GudeSimulator lines', o.lines, 1, MAX_SENSORS.line, 1);
    this.faultNow = oneOf('GudeSimulator fault', o.fault, FAULTS, 'none');
    this.input = Buffer.alloc((sensorBase({ port: this.outlets }) + BLOCK_STRIDE) * 2);
  }

  /** The fault played now; set it to change what the next requests get. */
  get fault(): GudeFault {
    return this.faultNow;
  }
  set fault(value: GudeFault) {
    this.faultNow = oneOf('GudeSimulator fault', value, FAULTS, 'none');
    if (this.faultNow === 'close') for (const s of this.sockets) s.destroy();
  }

  /** The trace's power at `t` (epoch ms), W. */
  powerAt(t: number): number {
    const trace = this.trace;
    if (typeof trace === 'number') return trace;
    if (typeof trace === 'function') return trace(t);
    if (trace === 'cpu') {
      const now = cpuTimes();
      const busy = now.busy - this.cpuPrev.busy;
      const total = now.total - this.cpuPrev.total;
      if (total > 0) this.cpuPrev = now;
      const u = total > 0 ? busy / total : 0;
      const idle = this.options.idleW ?? 40;
      return idle + ((this.options.maxW ?? Math.max(idle, 55)) - idle) * u;
    }
    return trace.constantW;
  }

  /** Writes the reading for now into every served sensor block. */
  private refresh(): void {
    const t = nowMs();
    const p = Math.max(0, this.powerAt(t)) || 0;
    if (this.lastT) this.energyWh += (((this.lastP + p) / 2) * (t - this.lastT)) / 3_600_000;
    this.lastT = t;
    this.lastP = p;
    const u = this.options.voltageV ?? 230;
    const pf = this.options.powerFactor ?? 0.95;
    const apparent = p / pf;
    const block = encodeBlock({
      energyWh: this.energyWh,
      activePowerW: p,
      voltageV: u,
      currentA: apparent / u,
      frequencyHz: 50,
      powerFactor: pf,
      powerAngleDeg: (Math.acos(pf) * 180) / Math.PI,
      apparentPowerVA: apparent,
      reactivePowerVAR: Math.sqrt(Math.max(0, apparent ** 2 - p ** 2)),
      resettableEnergyWh: this.energyWh,
      secondsSinceReset: (t - this.startedAt) / 1000,
    });
    for (let port = 1; port <= this.outlets; port++) block.copy(this.input, sensorBase({ port }) * 2);
    for (let line = 1; line <= this.lines; line++) block.copy(this.input, sensorBase({ line }) * 2);
  }

  /** True when [start, start + count) lies in the served outlet or line blocks. */
  private serves(start: number, count: number): boolean {
    const within = (first: number, n: number) => start >= first && start + count <= first + n * BLOCK_STRIDE;
    return within(sensorBase({ port: 1 }), this.outlets) || within(sensorBase({ line: 1 }), this.lines);
  }

  /** The reply to one "read input registers" request, or none (frozen). */
  private answer(request: InstanceType<typeof Modbus.ModbusTCPRequest>): Buffer | undefined {
    const { start, count } = request.body as unknown as { start: number; count: number };
    const fault = this.faultNow;
    if (fault === 'frozen') return undefined;
    if (fault === 'garbage') return Buffer.from('HTTP/1.1 400 Bad Request\r\n\r\nthis is not Modbus\r\n');
    const exception = (code: number) => new Modbus.responses.ExceptionResponseBody(0x04, code as never);
    let body;
    if (fault === 'exception') body = exception(4);
    else if (count < 1 || count > 125) body = exception(3);
    else if (!this.serves(start, count)) body = exception(2);
    else if (fault === 'all-ff')
      body = new Modbus.responses.ReadInputRegistersResponseBody(count * 2, Buffer.alloc(count * 2, 0xff));
    else {
      this.refresh();
      const values = Buffer.from(this.input.subarray(start * 2, (start + count) * 2));
      body = new Modbus.responses.ReadInputRegistersResponseBody(values.length, values);
    }
    return Modbus.ModbusTCPResponse.fromRequest(request, body).createPayload();
  }

  /** Starts serving. Resolves with the address actually bound. */
  async start(): Promise<{ host: string; port: number }> {
    const server = createServer();
    server.on('connection', (s) => {
      this.connections++;
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
      if (this.faultNow === 'close') s.destroy();
    });
    // No input buffer: every read comes to `answer`, which can refuse, corrupt or ignore it.
    const modbus = new Modbus.server.TCP(server, { input: undefined as unknown as Buffer });
    modbus.on('readInputRegisters', (request, cb) => {
      const reply = this.answer(request as InstanceType<typeof Modbus.ModbusTCPRequest>);
      if (reply) cb(reply);
    });
    this.refresh();
    const host = this.options.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, host, () => resolve());
    });
    this.server = server;
    const address = server.address();
    return { host, port: typeof address === 'object' && address ? address.port : (this.options.port ?? 0) };
  }

  /** Stops serving and drops every connection. */
  async stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    const server = this.server;
    this.server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
