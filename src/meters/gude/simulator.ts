/**
 * GudeSimulator: a Modbus TCP server (jsmodbus) serving the Gude register map with a
 * programmable power trace, so the whole energy loop can be tried without the hardware.
 */
import { createServer, type Server, type Socket } from 'node:net';
import Modbus from 'jsmodbus';
import { nowMs } from '../../clock.js';
import { cpuTimes } from '../cpu-load.js';
import { encodeBlock, sensorBase } from './register-map.js';

/** Power over time: constant watts, a function of epoch ms, or this host's CPU load. */
export type PowerTrace = number | { constantW: number } | ((tMs: number) => number) | 'cpu';

/** Options of {@link GudeSimulator}. */
export interface GudeSimulatorOptions {
  /** TCP port; 0 (default) picks a free one. */
  port?: number;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default `{ constantW: 60 }`. For `'cpu'`: `idleW + (maxW - idleW) x utilisation`. */
  trace?: PowerTrace;
  /** Watts at 0 and 100% CPU for the `'cpu'` trace. Defaults 40 and 55. */
  idleW?: number;
  maxW?: number;
  /** Supply voltage, V. Default 230. */
  voltageV?: number;
  /** Power factor, 0..1. Default 0.95. */
  powerFactor?: number;
  /** Outlets and lines served (each with the same reading). Defaults 8 and 1. */
  outlets?: number;
  lines?: number;
}

/** Serves the Gude register map over Modbus TCP. */
export class GudeSimulator {
  private server: Server | undefined;
  private readonly sockets = new Set<Socket>();
  private readonly input: Buffer;
  private energyWh = 0;
  private lastT = 0;
  private lastP = 0;
  private cpuPrev = cpuTimes();
  private readonly startedAt = nowMs();

  constructor(readonly options: GudeSimulatorOptions = {}) {
    const top = sensorBase({ port: options.outlets ?? 8 }) + 0x120;
    this.input = Buffer.alloc(top * 2);
  }

  /** The trace's power at `t` (epoch ms), W. */
  powerAt(t: number): number {
    const trace = this.options.trace ?? { constantW: 60 };
    if (typeof trace === 'number') return trace;
    if (typeof trace === 'function') return trace(t);
    if (trace === 'cpu') {
      const now = cpuTimes();
      const busy = now.busy - this.cpuPrev.busy;
      const total = now.total - this.cpuPrev.total;
      if (total > 0) this.cpuPrev = now;
      const u = total > 0 ? busy / total : 0;
      const idle = this.options.idleW ?? 40;
      return idle + ((this.options.maxW ?? 55) - idle) * u;
    }
    return trace.constantW;
  }

  /** Writes the reading for now into every served sensor block. */
  private refresh(): void {
    const t = nowMs();
    const p = Math.max(0, this.powerAt(t));
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
    for (let port = 1; port <= (this.options.outlets ?? 8); port++) block.copy(this.input, sensorBase({ port }) * 2);
    for (let line = 1; line <= (this.options.lines ?? 1); line++) block.copy(this.input, sensorBase({ line }) * 2);
  }

  /** Starts serving. Resolves with the address actually bound. */
  async start(): Promise<{ host: string; port: number }> {
    const server = createServer();
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
      s.on('error', () => undefined);
    });
    const modbus = new Modbus.server.TCP(server, { input: this.input });
    modbus.on('preReadInputRegisters', () => this.refresh());
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
