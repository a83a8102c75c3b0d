import { runtimeContract } from '../runtime.contract.js';

runtimeContract('process');
