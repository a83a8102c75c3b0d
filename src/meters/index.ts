/** The meters: one `Meter` interface, its registry, a Gude PDU over Modbus TCP, RAPL, and a CPU-based estimate. */
export { GudeMeter, type GudeMeterOptions } from './gude/client.js';
export type { GudeTarget } from './gude/register-map.js';
export { RaplMeter, type RaplMeterOptions } from './rapl.js';
export { EstimateMeter, type EstimateMeterOptions } from './estimate.js';
export { defaultMeter } from './default-meter.js';
export { registerMeter, meterFromUrl } from './registry.js';
export { defineMeter, type Meter, type MeterEvents, type MeterDescriptor, type MeterUrl } from './meter.js';
