// A user's CommonJS module: the subpath exports through require(), sharing the root's classes.
import { NebulaError } from 'nebula-faas';
import { QUICK_INPUTS } from 'nebula-faas/experiment';
import { BLOCK_REGISTERS } from 'nebula-faas/gude';
import { createServer } from 'nebula-faas/server';
import { quantile } from 'nebula-faas/stats';

let shared = false;
try {
  createServer({} as never, { historySize: 0 }); // out of range: refused before the instance is used
} catch (e) {
  shared = e instanceof NebulaError;
}
console.log(
  JSON.stringify({
    quick: Object.keys(QUICK_INPUTS).length > 0,
    registers: BLOCK_REGISTERS,
    p50: quantile([1, 2, 3], 0.5),
    shared,
    entry: require.resolve('nebula-faas/experiment'),
  }),
);
