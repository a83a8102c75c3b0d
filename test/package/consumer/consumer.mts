// A user's ES module: the installed package, top-level await, records narrowed on `ok`.
import { Nebula, type InvocationRecord } from 'nebula-faas';

const nebula = new Nebula();
try {
  const rec = await nebula.invoke('fib', 20, { runtime: 'wasm' });
  if (!rec.ok) throw new Error(`${rec.error.code}: ${rec.error.message}`);
  const fib20: number = rec.result; // fib's result type, no `| null` once `ok` is checked
  const bad = await nebula.invoke('fib', -1, { runtime: 'wasm' });
  const failed: string = bad.ok ? 'ok' : bad.error.code; // `error` is defined when `ok` is false
  console.log(JSON.stringify({ fib20, failed, entry: import.meta.resolve('nebula-faas') }));
} finally {
  await nebula.close();
}

/** Never called: the line under the directive must not compile. */
export function resultTypeIsChecked(rec: InvocationRecord<number>): string {
  if (!rec.ok) return rec.error.message;
  // @ts-expect-error a number result is not a string
  const wrong: string = rec.result;
  return wrong;
}
