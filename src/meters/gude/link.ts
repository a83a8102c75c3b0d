/**
 * One Modbus TCP connection to a Gude device (a jsmodbus client on a socket), reading one sensor
 * block per request, with jsmodbus's errors translated into MeterErrors once, here.
 */
import { Socket } from 'node:net';
import Modbus from 'jsmodbus';
import { MeterError } from '../../errors.js';
import { BLOCK_REGISTERS } from './register-map.js';

/** What went wrong, in `MeterError.details.reason`. */
export type FailureReason = 'unreachable' | 'timeout' | 'closed' | 'exception' | 'garbage' | 'implausible';

/** Writes the message of a failure (the meter knows its name and sensor). */
export type Describe = (reason: FailureReason, what: string, exceptionCode?: number) => string;

const EXCEPTIONS: Record<number, string> = {
  1: 'illegal function',
  2: 'illegal data address',
  3: 'illegal data value',
  4: 'server device failure',
  5: 'acknowledge',
  6: 'server device busy',
  10: 'gateway path unavailable',
  11: 'gateway target device failed to respond',
};

/** Bytes of a reply: MBAP header (7) + function, byte count and the block; an exception: MBAP + function + code. */
const BLOCK_REPLY_LENGTH = 3 + BLOCK_REGISTERS * 2;
const EXCEPTION_REPLY_LENGTH = 3;

type Client = InstanceType<typeof Modbus.client.TCP>;

export class Link {
  /** Set when the peer sent bytes that cannot be a reply; the socket is then closed. */
  garbage: string | undefined;
  closed = false;
  private pending = false;
  private received = 0;
  private header = Buffer.alloc(0);
  private client: Client;

  private constructor(
    private readonly socket: Socket,
    private readonly unitId: number,
    private readonly timeoutMs: number,
    private readonly describe: Describe,
  ) {
    this.client = new Modbus.client.TCP(socket, unitId, timeoutMs);
    // Before jsmodbus's own listener: it waits for whatever length a header declares, so a
    // garbage header would hold a request until its timeout and poison the next reply.
    socket.prependListener('data', (chunk: Buffer) => this.check(chunk));
    socket.on('close', () => (this.closed = true));
  }

  /** Connects within `timeoutMs`. @throws MeterError `METER_UNAVAILABLE` (`unreachable` or `timeout`). */
  static open(host: string, port: number, unitId: number, timeoutMs: number, describe: Describe): Promise<Link> {
    const socket = new Socket();
    const link = new Link(socket, unitId, timeoutMs, describe);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        socket.destroy();
        reject(link.error('timeout', `no connection within ${timeoutMs} ms`));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        resolve(link);
      });
      socket.on('error', (e: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        reject(
          link.error(
            'unreachable',
            `cannot connect (${e.code ?? e.message}); check the address and that Modbus TCP is enabled on the device`,
            {},
            e,
          ),
        );
      });
      socket.setNoDelay(true);
      socket.connect({ host, port });
    });
  }

  /** Reads one sensor block (26 registers from `start`). @throws MeterError, `details.reason` saying why. */
  async readInputRegisters(start: number): Promise<Buffer> {
    if (this.closed)
      throw this.garbage
        ? this.error('garbage', this.garbage)
        : this.error('closed', 'the device closed the connection');
    this.pending = true;
    this.received = 0;
    this.header = Buffer.alloc(0);
    try {
      const reply = await this.client.readInputRegisters(start, BLOCK_REGISTERS);
      if (this.garbage) throw this.error('garbage', this.garbage);
      return (reply.response.body as unknown as { valuesAsBuffer: Buffer }).valuesAsBuffer;
    } catch (e) {
      throw this.translate(e);
    } finally {
      this.pending = false;
    }
  }

  close(): void {
    this.closed = true;
    this.socket.destroy();
  }

  /** A MeterError for `reason`: outages are `METER_UNAVAILABLE`, wrong answers `METER_PROTOCOL`. */
  error(reason: FailureReason, what: string, extra: Record<string, unknown> = {}, cause?: unknown): MeterError {
    const code =
      reason === 'unreachable' || reason === 'timeout' || reason === 'closed' ? 'METER_UNAVAILABLE' : 'METER_PROTOCOL';
    const exceptionCode = typeof extra.exceptionCode === 'number' ? extra.exceptionCode : undefined;
    return new MeterError(code, this.describe(reason, what, exceptionCode), { cause, details: { reason, ...extra } });
  }

  private translate(e: unknown): MeterError {
    if (e instanceof MeterError) return e;
    if (this.garbage) return this.error('garbage', this.garbage, {}, e);
    const failure = e as { err?: string; message?: string; response?: { body?: { code?: number } } };
    switch (failure?.err) {
      case 'ModbusException': {
        const code = failure.response?.body?.code ?? 0;
        return this.error(
          'exception',
          `Modbus exception ${code}, ${EXCEPTIONS[code] ?? 'unknown'}`,
          { exceptionCode: code },
          e,
        );
      }
      case 'Timeout':
        return this.received > 0
          ? this.error(
              'garbage',
              `${this.received} bytes in ${this.timeoutMs} ms that are not a whole Modbus TCP reply`,
              {},
              e,
            )
          : this.error('timeout', `no reply within ${this.timeoutMs} ms`, {}, e);
      case 'OutOfSync': {
        // Framing, unit and function were checked as the bytes came: what is left is the transaction id.
        const expected = (failure as { request?: { id?: unknown } }).request?.id;
        const got = this.header.length >= 2 ? this.header.readUInt16BE(0) : undefined;
        return this.error(
          'garbage',
          `a reply to another request (transaction id ${got ?? '?'}, expected ${typeof expected === 'number' ? expected : '?'}): a late or duplicated reply`,
          {},
          e,
        );
      }
      case 'Protocol':
        return this.error('garbage', `a reply that does not match the request (${failure.message})`, {}, e);
      default:
        return this.error('closed', 'the device closed the connection before answering', {}, e);
    }
  }

  /** Checks each reply's framing as its bytes arrive; anything else closes the connection. */
  private check(chunk: Buffer): void {
    if (this.garbage) return;
    if (!this.pending) return this.reject(`${chunk.length} bytes nobody asked for`);
    this.received += chunk.length;
    if (this.header.length < 9) this.header = Buffer.concat([this.header, chunk.subarray(0, 9 - this.header.length)]);
    const h = this.header;
    if (h.length >= 4 && h.readUInt16BE(2) !== 0) return this.reject(`protocol id ${h.readUInt16BE(2)}, not 0`);
    // jsmodbus drops a reply from another unit silently, which would end as a timeout.
    if (h.length >= 7 && h[6] !== this.unitId)
      return this.reject(`unit id ${h[6]}, not ${this.unitId} (the device must echo the request's unit id)`);
    if (h.length < 8) return;
    const length = h.readUInt16BE(4);
    const fc = h[7]!;
    if (!((fc === 0x04 && length === BLOCK_REPLY_LENGTH) || (fc === 0x84 && length === EXCEPTION_REPLY_LENGTH)))
      return this.reject(
        `function 0x${fc.toString(16)} and length ${length}, not a reply to reading ${BLOCK_REGISTERS} input registers`,
      );
    if (h.length >= 9 && fc === 0x04 && h[8] !== BLOCK_REGISTERS * 2)
      return this.reject(`${h[8]} data bytes, not ${BLOCK_REGISTERS * 2}`);
    if (this.received > 6 + length) this.reject(`${this.received - 6 - length} bytes beyond the reply`);
  }

  private reject(what: string): void {
    this.garbage = `the reply is not Modbus TCP: ${what}`;
    this.close();
  }
}
