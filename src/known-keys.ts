/**
 * Keys of options, specs, configs and request bodies: one that is not known is an error naming the
 * nearest known key (`timeout`: did you mean `timeoutMs`?), never silently ignored.
 */
import { UsageError } from './errors.js';

/** Edit distance (insertions, deletions, substitutions), for "did you mean". */
function distance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++)
      cur.push(Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)));
    prev = cur;
  }
  return prev[b.length]!;
}

/**
 * The candidate nearest to `word` (a prefix, or within a third of its length in edits, case and a
 * unit suffix aside), if any is near.
 */
export function nearest(word: string, candidates: readonly string[]): string | undefined {
  const prefixed = candidates.filter((c) => c.startsWith(word) || word.startsWith(c));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Math.max(2, Math.floor(word.length / 3)) + 1;
  const lower = word.toLowerCase();
  for (const c of candidates) {
    // Names carry their unit (timeoutMs, memoryMiB): a word without it, or misspelt, is still near.
    const bare = c.replace(/(Ms|Us|MiB|Bytes|W|Wh|J)$/, '');
    const d = Math.min(distance(lower, c.toLowerCase()), distance(lower, bare.toLowerCase()));
    if (d < bestD) [best, bestD] = [c, d];
  }
  return best;
}

/** Every key of `T`, as the compiler checks it: a key added to `T` and not here (or here and not in `T`) does not compile. */
export function keysOf<T>(keys: Record<keyof T, true>): readonly string[] {
  return Object.keys(keys);
}

/**
 * The first key of `value` (a plain object) that is not `known`, as `unknown key "x" (did you mean
 * "y"?); known: ...`, or undefined when every key is known or `value` is not an object.
 * `hints` adds a sentence for keys people often try (`binary` at the top of a spec).
 */
export function unknownKey(
  value: unknown,
  known: readonly string[],
  hints: Readonly<Record<string, string>> = {},
): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  for (const key of Object.keys(value)) {
    if (known.includes(key)) continue;
    const hint = Object.hasOwn(hints, key) ? hints[key] : undefined;
    const near = hint ? undefined : nearest(key, known);
    return `unknown key "${key}"${hint ? ` (${hint})` : near ? ` (did you mean "${near}"?)` : ''}; known: ${known.join(', ')}`;
  }
  return undefined;
}

/**
 * Refuses a key of `value` that is not `known`.
 * @throws UsageError `INVALID_ARGUMENT`: `${where}: unknown key "x" (did you mean "y"?); known: ...`.
 */
export function checkKnownKeys(
  value: unknown,
  known: readonly string[],
  where: string,
  hints?: Readonly<Record<string, string>>,
): void {
  const problem = unknownKey(value, known, hints);
  if (problem) throw new UsageError('INVALID_ARGUMENT', `${where}: ${problem}.`, { details: { where } });
}
