/** The order of an experiment's invocations: cells interleaved so drift favours no runtime. */
import { rng } from '../../stats.js';
import type { Cell } from '../cell.js';

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
