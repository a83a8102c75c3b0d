/** Raw TCP peers for the Gude meter's tests: servers that answer Modbus requests however a test says, over real sockets. */
import { createServer, type Server, type Socket } from 'node:net';
import type { GudeMeter, MeterError, PowerSample } from '../../../src/index.js';

/** What a test runs at its end (closed in reverse order by its `afterEach`). */
export type Stops = Array<() => Promise<void>>;

/** A raw TCP peer on loopback: `onData` answers each chunk; `connections` counts accepted sockets. Closed with `stops`. */
export async function rawPeer(
  stops: Stops,
  onData: (socket: Socket, chunk: Buffer) => void,
  onConnect?: (socket: Socket) => void,
) {
  const sockets = new Set<Socket>();
  const peer = { connections: 0, port: 0, server: undefined as unknown as Server };
  peer.server = createServer((s) => {
    peer.connections++;
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    s.on('data', (c) => onData(s, c));
    onConnect?.(s);
  });
  await new Promise<void>((r) => peer.server.listen(0, '127.0.0.1', () => r()));
  peer.port = (peer.server.address() as { port: number }).port;
  stops.push(async () => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((r) => peer.server.close(() => r()));
  });
  return peer;
}

/** Collects a meter's samples and errors, and stops it with `stops`. */
export function watch(stops: Stops, meter: GudeMeter) {
  const samples: PowerSample[] = [];
  const errors: MeterError[] = [];
  meter.on('sample', (s) => samples.push(s));
  meter.on('error', (e) => errors.push(e as MeterError));
  stops.push(() => meter.stop());
  return { samples, errors };
}
