import { describe } from 'vitest';
import { runtimeContract } from '../runtime.contract.js';
import { dockerAvailable } from './engine.js';

if (dockerAvailable()) runtimeContract('docker');
else describe.skip('Runtime contract: docker (no engine)', () => undefined);
