/**
 * The meter registry: one descriptor per kind of meter, each named by its URL scheme. Every place
 * that takes a meter as text (`--meter`, a config file's `meter`, `meterFromUrl`) reads the one
 * grammar below; the package's own meters are registered at the end of this file, and a meter of
 * one's own is its module plus `registerMeter(descriptor)`.
 *
 * The grammar: `SCHEME`, or `SCHEME://ADDRESS`, then optionally `?KEY=VALUE&...`; ADDRESS is
 * `[HOST][:PORT][/PATH]` as in a URL (`gude://10.0.0.7:502/port1`, `rapl`, `estimate?intervalMs=100`).
 * `none` is no meter (energy off).
 */
import { UsageError } from '../errors.js';
import { estimateMeter } from './estimate.js';
import { gudeMeter } from './gude/descriptor.js';
import type { Meter, MeterDescriptor, MeterUrl } from './meter.js';
import { raplMeter } from './rapl.js';

const registered = new Map<string, MeterDescriptor>();
const URL_FORM = /^([a-z][a-z0-9-]*)(?::\/\/([^?#]*))?(?:\?([^#]*))?$/;

/**
 * Registers a kind of meter: from then on `--meter SCHEME...`, a config file's `meter` and
 * `meterFromUrl()` take it. Registering the same descriptor again does nothing.
 * @throws UsageError `INVALID_ARGUMENT` for a malformed descriptor, or a scheme already registered with another.
 */
export function registerMeter(descriptor: MeterDescriptor): void {
  const d = (descriptor ?? {}) as Partial<MeterDescriptor>;
  const scheme = d.scheme;
  const refuse = (why: string) =>
    new UsageError('INVALID_ARGUMENT', `registerMeter(${JSON.stringify(scheme) ?? String(scheme)}): ${why}.`);
  if (typeof scheme !== 'string' || !/^[a-z][a-z0-9-]{0,30}$/.test(scheme) || scheme === 'none')
    throw refuse('a scheme is 1-31 lower-case letters, digits or "-", starting with a letter, and not "none"');
  if (registered.get(scheme) === descriptor) return;
  if (registered.has(scheme)) throw refuse('that scheme is registered already');
  if (typeof d.summary !== 'string' || typeof d.usage !== 'string' || typeof d.create !== 'function')
    throw refuse('a meter descriptor needs summary, usage and create(url)');
  registered.set(scheme, descriptor);
}

/** The registered meter descriptors, in registration order. */
export function meterDescriptors(): MeterDescriptor[] {
  return [...registered.values()];
}

/** Every form `--meter` takes, for help texts: `estimate | rapl | gude://HOST... | none`. */
export function meterUsage(separator = ' | '): string {
  return [...meterDescriptors().map((d) => d.usage), 'none'].join(separator);
}

/** A JSON Schema pattern of the grammar above, for the registered schemes. */
export function meterPattern(): string {
  return `^(none|(${[...registered.keys()].join('|')})(://[^?#]*)?([?][^#]*)?)$`;
}

/**
 * Takes a meter URL apart and finds its descriptor.
 * @throws UsageError `INVALID_ARGUMENT` for text outside the grammar or an unknown scheme.
 */
function parseMeterUrl(text: string): { url: MeterUrl; descriptor: MeterDescriptor } {
  const m = URL_FORM.exec(text);
  const descriptor = m ? registered.get(m[1]!) : undefined;
  if (!m || !descriptor)
    throw new UsageError('INVALID_ARGUMENT', `Unknown meter "${text}": use ${meterUsage(', ')}.`, {
      details: { field: 'meter' },
    });
  let host = '';
  let port: number | undefined;
  let path = '';
  if (m[2]) {
    let address: URL;
    try {
      address = new URL(`meter://${m[2]}`);
    } catch {
      throw new UsageError(
        'INVALID_ARGUMENT',
        `Meter "${text}": "${m[2]}" is not an address (HOST[:PORT][/PATH]); ${descriptor.usage}.`,
      );
    }
    host = address.hostname;
    port = address.port === '' ? undefined : Number(address.port);
    path = decodeURIComponent(address.pathname);
  }
  return {
    url: {
      text,
      scheme: m[1]!,
      host,
      ...(port === undefined ? {} : { port }),
      path,
      params: new URLSearchParams(m[3]),
    },
    descriptor,
  };
}

/**
 * The meter a URL names, made and not started; `null` for `none` (energy off).
 * @throws UsageError `INVALID_ARGUMENT` for text outside the grammar, an unknown scheme, or a URL the meter refuses.
 * @example
 * ```ts
 * const nebula = new Nebula({ meter: meterFromUrl('gude://10.0.0.7/port1') });
 * ```
 */
export function meterFromUrl(text: string): Meter | null {
  if (text === 'none') return null;
  const { url, descriptor } = parseMeterUrl(text);
  try {
    return descriptor.create(url);
  } catch (e) {
    const why = (e as Error).message;
    throw new UsageError('INVALID_ARGUMENT', `Meter "${text}": ${why.replace(/\.$/, '')}; ${descriptor.usage}.`, {
      cause: e,
    });
  }
}

registerMeter(estimateMeter);
registerMeter(raplMeter);
registerMeter(gudeMeter);
