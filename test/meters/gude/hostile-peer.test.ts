/**
 * GudeMeter against Modbus TCP peers that answer wrongly on purpose, over real sockets: replies
 * from another unit or to another request, frames cut into pieces, stalled, late or stale.
 */
import { once } from 'node:events';
import type { Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { GudeMeter, MeterError } from '../../../src/index.js';
import { rawPeer, watch as watchMeter } from './raw-peer.js';

const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
});

/** A sensor block of 26 registers reading `watts` at 230 V, power factor 1. */
function block(watts: number): Buffer {
  const b = Buffer.alloc(52);
  b.writeInt32BE(1000, 0); // energy, Wh
  b.writeInt32BE(Math.round(watts), 4);
  b.writeInt32BE(230, 8);
  b.writeInt32BE(Math.round((watts / 230) * 1000), 12); // mA
  b.writeInt32BE(5000, 16); // 50 Hz
  b.writeInt32BE(1000, 20); // power factor 1.000
  return b;
}

/** The reply to `request` (a read of 26 input registers), with fields overridden as asked. */
function reply(request: Buffer, watts: number, o: { tid?: number; unit?: number; length?: number } = {}): Buffer {
  const data = block(watts);
  const out = Buffer.alloc(9 + data.length);
  out.writeUInt16BE(o.tid ?? request.readUInt16BE(0), 0);
  out.writeUInt16BE(0, 2);
  out.writeUInt16BE(o.length ?? 3 + data.length, 4);
  out[6] = o.unit ?? request[6]!;
  out[7] = 0x04;
  out[8] = data.length;
  data.copy(out, 9);
  return out;
}

/** A raw Modbus TCP peer: `answer` sees each request (12 bytes) with its socket and its number (from 1, over all connections). */
async function peer(answer: (socket: Socket, request: Buffer, n: number) => void) {
  const pending = new WeakMap<Socket, Buffer>();
  const state = { requests: 0, port: 0 };
  ({ port: state.port } = await rawPeer(stops, (s, chunk) => {
    let rest = Buffer.concat([pending.get(s) ?? Buffer.alloc(0), chunk]);
    for (; rest.length >= 12; rest = rest.subarray(12)) answer(s, rest.subarray(0, 12), ++state.requests);
    pending.set(s, rest);
  }));
  return state;
}

const watch = (meter: GudeMeter) => watchMeter(stops, meter);

// A request timeout far longer than these replies take: a check that waited for it would say "in 60000 ms".
const NEVER = 60_000;

describe('GudeMeter against a Modbus peer that answers wrongly', () => {
  it('a reply from another unit: METER_PROTOCOL at once, naming the unit id (it used to wait for the whole timeout)', async () => {
    const p = await peer((s, req) => s.write(reply(req, 50, { unit: 9 })));
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: NEVER });
    await expect(meter.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      details: { reason: 'garbage' },
      message: expect.stringContaining('unit id 9, not 1'),
    });
  });

  it('a reply to another request (wrong transaction id): METER_PROTOCOL naming both ids', async () => {
    const p = await peer((s, req) => s.write(reply(req, 50, { tid: (req.readUInt16BE(0) + 7) % 0xffff })));
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: NEVER });
    const err = (await meter.start().catch((e: unknown) => e)) as MeterError;
    expect(err).toMatchObject({ code: 'METER_PROTOCOL', details: { reason: 'garbage' } });
    expect(err.message).toMatch(/a reply to another request \(transaction id 8, expected 1\)/);
  });

  it('a length field of 65535: METER_PROTOCOL at once, nothing read past it', async () => {
    const p = await peer((s, req) => s.write(reply(req, 50, { length: 0xffff })));
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: NEVER });
    await expect(meter.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      message: expect.stringContaining('length 65535'),
    });
  });

  it('a reply cut into one-byte TCP packets is read whole', async () => {
    const p = await peer((s, req) => {
      const bytes = reply(req, 123);
      const send = (i: number) => {
        if (i >= bytes.length || s.destroyed) return;
        s.write(bytes.subarray(i, i + 1), () => setImmediate(() => send(i + 1)));
      };
      send(0);
    });
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: NEVER, intervalMs: 3_600_000 });
    const { samples } = watch(meter);
    await meter.start();
    expect(samples).toHaveLength(1);
    expect(samples[0]!.powerW).toBeCloseTo(123, 0);
  });

  it('a peer that stalls mid-frame: METER_PROTOCOL (a cut reply), not a timeout, and the connection is dropped', async () => {
    let closed = 0;
    const p = await peer((s, req) => {
      s.on('close', () => closed++);
      s.write(reply(req, 50).subarray(0, 20));
    });
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: 200 });
    await expect(meter.start()).rejects.toMatchObject({
      code: 'METER_PROTOCOL',
      details: { reason: 'garbage' },
      message: expect.stringContaining('20 bytes'),
    });
    while (!closed) await new Promise((r) => setImmediate(r));
    expect(closed).toBe(1);
  });

  it('a reply that comes after the timeout cannot be read: the timed-out connection is dropped, and readings resume on a new one', async () => {
    const held: Array<{ socket: Socket; request: Buffer }> = [];
    const p = await peer((s, req, n) => {
      if (n === 2)
        held.push({ socket: s, request: req }); // answered only once its connection is gone
      else s.write(reply(req, 50));
    });
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: 150, intervalMs: 20 });
    const { samples, errors } = watch(meter);
    await meter.start();
    while (!errors.length) await once(meter as never, 'error');
    expect(errors[0]).toMatchObject({ code: 'METER_UNAVAILABLE', details: { reason: 'timeout' } });
    const late = held[0]!;
    if (!late.socket.destroyed) await once(late.socket, 'close');
    late.socket.write(reply(late.request, 999), () => undefined);
    const before = samples.length;
    while (samples.length < before + 3) await once(meter as never, 'sample');
    expect(samples.every((s) => Math.round(s.powerW) === 50)).toBe(true);
  });

  it('a stale reply (to the previous request) ahead of the right one on a live connection is never a sample', async () => {
    const previous = new WeakMap<Socket, Buffer>();
    const p = await peer((s, req, n) => {
      // From the third request on, each answer is preceded by the previous answer on that connection.
      const stale = previous.get(s);
      if (n >= 3 && stale) s.write(stale);
      previous.set(s, reply(req, 500 + n));
      s.write(reply(req, 50));
    });
    const meter = new GudeMeter({ host: '127.0.0.1', port: p.port, timeoutMs: NEVER, intervalMs: 20 });
    const { samples, errors } = watch(meter);
    await meter.start();
    while (errors.length < 2) await once(meter as never, 'error');
    expect(errors[0]).toMatchObject({ code: 'METER_PROTOCOL', details: { reason: 'garbage' } });
    expect(samples.every((s) => Math.round(s.powerW) === 50)).toBe(true);
  });
});
