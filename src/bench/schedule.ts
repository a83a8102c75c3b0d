/** The order of an experiment's invocations: cells interleaved so drift favours no runtime. */
import type { InvocationMode } from '../types.js';
import { rng } from './stats.js';

/** One cell of the matrix. */
export interface Cell {
  function: string;
  runtime: 'wasm' | 'docker';
  mode: InvocationMode;
  input: unknown;
}

/** A stable key for a cell. */
export function cellKey(c: Cell): string {
  return `${c.function}|${c.runtime}|${c.mode}|${JSON.stringify(c.input)}`;
}

/**
 * `repetitions` rounds over all cells. `interleaved`: every round in the same order (A B A B);
 * `shuffled`: every round in its own order, from a seeded shuffle.
 */
export function schedule(cells: Cell[], repetitions: number, order: 'interleaved' | 'shuffled', seed = 1): Cell[] {
  const rand = rng(seed);
  const out: Cell[] = [];
  for (let r = 0; r < repetitions; r++) {
    const round = [...cells];
    if (order === 'shuffled') {
      for (let i = round.length - 1; i > 0; i--) {
        const j = Math.floor(rand() * (i + 1));
        [round[i], round[j]] = [round[j]!, round[i]!];
      }
    }
    out.push(...round);
  }
  return out;
}
