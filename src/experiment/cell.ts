/** A cell of an experiment's matrix (function x runtime x mode x input): what the runner schedules, the summary groups by and the reports show. */
import type { RuntimeKind } from '../runtimes/index.js';
import type { InvocationMode } from '../types.js';

/** One cell of the matrix. */
export interface Cell {
  function: string;
  runtime: RuntimeKind;
  mode: InvocationMode;
  input: unknown;
  /**
   * Set on the cells of a function's pre-initialised twin (`preinit: 'both'`): the function it is
   * the twin of. Its outputs are checked against that function's, and it is compared with it.
   */
  variantOf?: string;
}

/** A stable key for a cell. */
export function cellKey(c: Cell): string {
  return `${c.function}|${c.runtime}|${c.mode}|${JSON.stringify(c.input)}`;
}
