/** GudeMeter against peers that misbehave, over real sockets: the simulator's faults and raw TCP servers. */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GudeMeter, MeterError, Nebula } from '../../../src/index.js';
import { GudeSimulator, type GudeFault } from '../../../src/meters/gude/index.js';
import { rawPeer as rawTcpPeer, watch as watchMeter } from './raw-peer.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

const rawPeer = (onData: (socket: Socket, chunk: Buffer) => void, onConnect?: (socket: Socket) => void) =>
  rawTcpPeer(stops, onData, onConnect);

/** A Modbus TCP exception reply to the request in `chunk` (same transaction and unit id). */
function exceptionReply(chunk: Buffer, code: number): Buffer {
  const b = Buffer.from([0, 0, 0, 0, 0, 3, chunk[6] ?? 1, 0x84, code]);
  chunk.copy(b, 0, 0, 2);
  return b;
}

async function simulator(options: ConstructorParameters<typeof GudeSimulator>[0] = {}) {
  const sim = new GudeSimulator({ trace: 50, ...options });
  const addr = await sim.start();
  stops.push(() => sim.stop());
  return { sim, ...addr };
}

const watch = (meter: GudeMeter) => watchMeter(stops, meter);

/** Resolves once `n` more errors arrived. */
async function errorsAfter(meter: GudeMeter, errors: MeterError[], n: number): Promise<void> {
  const want = errors.length + n;
  while (errors.length < want) await once(meter as never, 'error');
}

describe('GudeMeter start against a faulty peer', () => {
  it('an outlet or line the device lacks: METER_PROTOCOL from start(), naming it', async () => {
    const { host, port } = await simulator({ outlets: 8, lines: 1 });
    const outlet = new GudeMeter({ host, port, outlet: { port: 9 } });
    await expect(outlet.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      message: expect.stringContaining('the device has no outlet 9 (Modbus exception 2, illegal data address)'),
      details: { reason: 'exception', exceptionCode: 2, meter: outlet.name },
    });
    const line = new GudeMeter({ host, port, outlet: { line: 2 } });
    await expect(line.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      message: expect.stringContaining('no line 2'),
    });
    const served = new GudeMeter({ host, port, outlet: { port: 8 } });
    await served.start();
    await served.stop();
  });

  it('concurrent start() calls share one attempt and its outcome', async () => {
    const { sim, host, port } = await simulator({ outlets: 8 });
    const meter = new GudeMeter({ host, port, outlet: { port: 9 } });
    const outcomes = await Promise.allSettled([meter.start(), meter.start()]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    expect(sim.connections).toBe(1);
  });

  it('a raw peer answering Modbus exceptions: METER_PROTOCOL with the exception code', async () => {
    const peer = await rawPeer((s, c) => s.write(exceptionReply(c, 4)));
    const meter = new GudeMeter({ host: '127.0.0.1', port: peer.port });
    await expect(meter.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      details: { reason: 'exception', exceptionCode: 4 },
      message: expect.stringContaining('server device failure'),
    });
  });

  it.each([
    ['text', Buffer.from('this is not modbus at all')],
    ['a header declaring another function', Buffer.from([0, 1, 0, 0, 0, 5, 1, 0x03, 2, 0, 0])],
    ['a block of the wrong size', Buffer.from([0, 1, 0, 0, 0, 7, 1, 0x04, 4, 0, 0, 0, 0])],
  ])('garbage (%s): METER_PROTOCOL at once, not a timeout', async (_what, reply) => {
    const peer = await rawPeer((s) => s.write(reply));
    const meter = new GudeMeter({ host: '127.0.0.1', port: peer.port, timeoutMs: 60_000 });
    // With a one-minute request timeout, only the reply check can end this within the test's time.
    await expect(meter.start()).rejects.toMatchObject({ code: 'METER_PROTOCOL', details: { reason: 'garbage' } });
  });

  it('a peer that accepts and closes: METER_UNAVAILABLE, and start() again within the back-off fails without connecting', async () => {
    const peer = await rawPeer(
      () => undefined,
      (s) => s.destroy(),
    );
    const meter = new GudeMeter({ host: '127.0.0.1', port: peer.port, intervalMs: 1000 });
    await expect(meter.start()).rejects.toMatchObject({
      code: 'METER_UNAVAILABLE',
      details: { reason: 'closed', retryInMs: 2000 },
    });
    expect(peer.connections).toBe(1);
    const again = await meter.start().catch((e: MeterError) => e);
    expect(again).toMatchObject({
      code: 'METER_UNAVAILABLE',
      details: { reason: 'closed' },
      message: expect.stringMatching(/Next attempt in \d+ ms/),
    });
    expect(peer.connections).toBe(1);
  });

  it('an all-0xFF reply is never a sample: METER_PROTOCOL, and no baseline from it', async () => {
    const { host, port } = await simulator({ fault: 'all-ff' });
    const meter = new GudeMeter({ host, port });
    const { samples } = watch(meter);
    await expect(meter.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      details: { reason: 'implausible', field: 'voltageV', value: -1 },
    });
    const nebula = new Nebula({ meter: new GudeMeter({ host, port }) });
    stops.push(() => nebula.close());
    await expect(nebula.measureBaseline({ durationMs: 100 })).rejects.toMatchObject({ code: 'METER_PROTOCOL' });
    expect(samples).toEqual([]);
  });
});

describe('GudeMeter when a running device starts to misbehave', () => {
  it.each<[GudeFault, string, string, boolean]>([
    ['exception', 'METER_PROTOCOL', 'exception', false],
    ['all-ff', 'METER_PROTOCOL', 'implausible', false],
    ['garbage', 'METER_PROTOCOL', 'garbage', true],
    ['frozen', 'METER_UNAVAILABLE', 'timeout', true],
    ['close', 'METER_UNAVAILABLE', 'closed', true],
  ])('%s: %s (%s), no samples meanwhile, and it recovers', async (fault, code, reason, reconnects) => {
    const { sim, host, port } = await simulator();
    const meter = new GudeMeter({ host, port, intervalMs: 20, timeoutMs: 150 });
    const { samples, errors } = watch(meter);
    await meter.start();
    sim.fault = fault;
    const connections = sim.connections;
    await errorsAfter(meter, errors, 3);
    const during = samples.length;
    await errorsAfter(meter, errors, 2);
    expect(samples.length).toBe(during);
    const last = errors.at(-1)!;
    expect(last).toBeInstanceOf(MeterError);
    expect(last).toMatchObject({ code, details: { reason, meter: meter.name } });
    // Wrong values over a sound connection keep it; a broken connection is dropped and opened anew.
    if (reconnects) expect(sim.connections).toBeGreaterThan(connections);
    else expect(sim.connections).toBe(connections);
    sim.fault = 'none';
    const before = samples.length;
    while (samples.length < before + 3) await once(meter as never, 'sample');
    expect(samples.at(-1)!.powerW).toBeCloseTo(50, 0);
  });

  it('a peer that accepts and closes: each attempt doubles the back-off, none in between, and a valid reading resets it', async () => {
    const { sim, host, port } = await simulator();
    const meter = new GudeMeter({ host, port, intervalMs: 20 });
    const { samples, errors } = watch(meter);
    await meter.start();
    const first = sim.connections;
    sim.fault = 'close';
    await errorsAfter(meter, errors, 6);
    const retries = errors.map((e) => e.details.retryInMs as number);
    expect(retries).toEqual([40, 80, 160, 320, 640, 1280].slice(0, retries.length));
    // One connection per reported attempt at most, none hidden between them (the first error may
    // be the dropped connection itself, with no new one).
    expect(sim.connections - first).toBeLessThanOrEqual(errors.length);
    expect(sim.connections - first).toBeGreaterThanOrEqual(errors.length - 1);
    sim.fault = 'none';
    await once(meter as never, 'sample');
    sim.fault = 'close';
    await errorsAfter(meter, errors, 1);
    expect(errors.at(-1)!.details.retryInMs).toBe(40);
    expect(samples.length).toBeGreaterThan(1);
  });
});
