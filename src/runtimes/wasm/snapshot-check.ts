/**
 * The deploy-time check of a snapshot: the function runs once from its original module and once
 * from the snapshot on the input the user gave (`checkInput`), and both must give the same stdout,
 * stderr and exit code.
 */
import { nowMs } from '../../clock.js';
import { NebulaError } from '../../errors.js';
import type { RunOutcome } from '../runtime.js';

/** Runs the function loaded under `fnId` once, cold, on `input`, until `deadlineAt`. */
type RunOnce = (fnId: number, input: string, deadlineAt: number) => Promise<RunOutcome>;

const SHOWN = 120;

function shown(o: RunOutcome): string {
  const text = (t: string) => JSON.stringify(t.length > SHOWN ? `${t.slice(0, SHOWN)}...` : t);
  const end = o.error ? `${o.error.code} (${o.error.message})` : `exit ${String(o.exitCode)}`;
  return `${end}, stdout ${text(o.stdout)}, stderr ${text(o.stderr)}`;
}

const same = (a: RunOutcome, b: RunOutcome) =>
  a.exitCode === b.exitCode && a.stdout === b.stdout && a.stderr === b.stderr && a.error?.code === b.error?.code;

/**
 * @throws NebulaError `INVALID_FUNCTION` (`details.reason: 'snapshot-output'`) when the snapshot's
 * output differs from the module's on `input`.
 */
export async function checkSnapshot(
  name: string,
  run: RunOnce,
  ids: { original: number; snapshot: number },
  input: string,
  timeoutMs: number,
): Promise<void> {
  const deadlineAt = nowMs() + timeoutMs;
  const original = await run(ids.original, input, deadlineAt);
  const snapshot = await run(ids.snapshot, input, deadlineAt);
  if (same(original, snapshot)) return;
  throw new NebulaError(
    'INVALID_FUNCTION',
    `Function "${name}": its snapshot changes its output on checkInput ${input.length > SHOWN ? `${input.slice(0, SHOWN)}...` : input}: ` +
      `from the module ${shown(original)}; from the snapshot ${shown(snapshot)}. ` +
      'Its initialiser leaves a state that a start would not (one that counts its runs, or reads the time); deploy it with preinit: false.',
    { details: { reason: 'snapshot-output' } },
  );
}
