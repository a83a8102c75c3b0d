/** `--meter estimate | rapl | gude://host[:port][/port1|/line1] | none` to a Meter. */
import { UsageError } from '../errors.js';
import type { Meter } from '../meters/meter.js';
import { EstimateMeter, GudeMeter, RaplMeter } from '../meters/index.js';

/** `none` is `null`: energy off. */
export function meterFromSpec(spec: string): Meter | null {
  if (spec === 'none') return null;
  if (spec === 'estimate') return new EstimateMeter();
  if (spec === 'rapl') return new RaplMeter();
  const m = /^gude:\/\/([^/:]+)(?::(\d+))?(?:\/(port|line)(\d+))?$/.exec(spec);
  if (m) {
    const n = Number(m[4] ?? 1);
    return new GudeMeter({
      host: m[1]!,
      port: Number(m[2] ?? 502),
      outlet: m[3] === 'line' ? { line: n } : { port: n },
    });
  }
  throw new UsageError(
    'INVALID_CONFIG',
    `Unknown meter "${spec}": use estimate, rapl, none, or gude://HOST[:PORT][/portN|/lineN].`,
  );
}
