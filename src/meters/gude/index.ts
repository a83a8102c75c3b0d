/**
 * `nebula-faas/gude`: the Gude power distribution unit's side of the energy loop, beside
 * `GudeMeter` (exported from the package root): `GudeSimulator`, a Modbus TCP server with the
 * same register map and a programmable power trace, for tests, demos and docs without the
 * hardware; and the register map's codec (where a sensor's block starts, how a block of input
 * registers decodes to readings and back).
 *
 * @example
 * ```ts
 * import { GudeMeter, Nebula } from 'nebula-faas';
 * import { GudeSimulator } from 'nebula-faas/gude';
 * const simulator = new GudeSimulator({ trace: 'cpu' }); // 40 W idle, 55 W at full CPU
 * const { host, port } = await simulator.start();
 * const nebula = new Nebula({ meter: new GudeMeter({ host, port, outlet: { port: 1 } }) });
 * // ... invoke, then: await nebula.close(); await simulator.stop();
 * ```
 * @module
 */
export { GudeSimulator, type GudeSimulatorOptions, type GudeFault, type PowerTrace } from './simulator.js';
export {
  decodeBlock,
  encodeBlock,
  sensorBase,
  BLOCK_REGISTERS,
  type GudeReading,
  type GudeTarget,
} from './register-map.js';
