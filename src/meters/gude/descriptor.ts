/** Registers the Gude meter: `gude://HOST[:PORT][/portN|/lineN]`, with `?intervalMs=`, `?voltage=` and `?power=`. */
import { defineMeter, numberParam, onlyParams } from '../meter.js';
import { GudeMeter, type GudeMeterOptions } from './client.js';

export const gudeMeter = defineMeter({
  scheme: 'gude',
  summary: 'a Gude Expert Power Control outlet or line, read over Modbus TCP',
  usage: 'gude://HOST[:PORT][/portN|/lineN]',
  create(url) {
    if (!url.host) throw new Error("it needs the PDU's host name or address");
    const target = /^(?:\/(port|line)(\d+))?$/.exec(url.path);
    if (!target) throw new Error(`"${url.path}" is not /portN or /lineN`);
    onlyParams(url, ['intervalMs', 'voltage', 'power']);
    const n = Number(target[2] ?? 1);
    const options: GudeMeterOptions = {
      // An IPv6 address comes in brackets, as URLs write it; the socket takes it bare.
      host: url.host.replace(/^\[(.*)\]$/, '$1'),
      port: url.port ?? 502,
      outlet: target[1] === 'line' ? { line: n } : { port: n },
    };
    const intervalMs = numberParam(url, 'intervalMs');
    if (intervalMs !== undefined) options.intervalMs = intervalMs;
    const voltage = url.params.get('voltage');
    if (voltage !== null) options.voltage = voltage === 'measured' ? 'measured' : (numberParam(url, 'voltage') ?? 0);
    const power = url.params.get('power');
    if (power !== null) options.power = power as GudeMeterOptions['power'];
    return new GudeMeter(options);
  },
});
