/**
 * An experiment's `preinit` setting: the functions run deployed again with the setting asked for,
 * or, for `both`, each beside a pre-initialised twin (`<name>-preinit`) on the runtimes that
 * pre-initialise it; and everything put back as it was when the run ends. Everything is deployed
 * without preparing it (`deploy(spec, { prepare: false })`), so the runner's prepare step decides,
 * as for any function, which runtime is available.
 */
import { UsageError } from '../../errors.js';
import type { Nebula } from '../../nebula.js';
import { descriptorOf, runtimeKinds, type RuntimeKind } from '../../runtimes/registry.js';
import type { FunctionInfo, FunctionSpec, SnapshotInfo } from '../../types.js';
import type { PreinitSetting } from './config.js';

/** The suffix of a function's pre-initialised twin under `preinit: 'both'`. */
export const TWIN_SUFFIX = '-preinit';

/** A snapshot a function of the run starts from on one runtime (reports show it beside the original). */
export interface RunSnapshot {
  function: string;
  runtime: RuntimeKind;
  snapshot: SnapshotInfo;
}

/** What the setting changed: the twins added (twin -> original), and how to undo it. */
export interface PreinitVariants {
  twins: Map<string, string>;
  /** Removes the twins and deploys the functions changed for the run as they were (unprepared). */
  restore(): Promise<void>;
}

/** The snapshots the deployed functions `names` start from, per runtime. */
export function snapshotsOf(infos: FunctionInfo[], names: readonly string[]): RunSnapshot[] {
  return infos
    .filter((f) => names.includes(f.name))
    .flatMap((f) =>
      runtimeKinds().flatMap((runtime) => {
        const snapshot = f.artifacts[runtime]?.snapshot;
        return snapshot ? [{ function: f.name, runtime, snapshot }] : [];
      }),
    );
}

/**
 * Deploys the functions again as the setting asks (nothing for `deployed`).
 * @throws UsageError `INVALID_CONFIG` when a twin's name is taken or too long.
 */
export async function applyPreinit(
  nebula: Nebula,
  names: readonly string[],
  setting: PreinitSetting,
  note: (text: string) => void,
): Promise<PreinitVariants> {
  const originals = new Map<string, FunctionSpec>();
  const twins = new Map<string, string>();
  const restore = async () => {
    for (const twin of twins.keys()) await nebula.undeploy(twin);
    twins.clear();
    for (const spec of originals.values()) await nebula.deploy(spec, { prepare: false });
    originals.clear();
  };
  if (setting === 'deployed') return { twins, restore };
  try {
    for (const name of names) {
      const spec = nebula.spec(name);
      const wanted = setting === 'both' ? false : setting;
      if (setting === 'both') {
        const twin = twinOf(nebula, spec);
        if (!twin) {
          note(`${name} runs without pre-initialisation only: none of its runtimes pre-initialises functions.`);
          continue;
        }
        await nebula.deploy(twin, { prepare: false });
        twins.set(twin.name, name);
      }
      if ((spec.preinit ?? 'auto') === wanted) continue;
      originals.set(name, spec);
      await nebula.deploy({ ...spec, preinit: wanted }, { prepare: false });
    }
  } catch (e) {
    await restore().catch(() => undefined);
    throw e;
  }
  return { twins, restore };
}

/**
 * After the runtimes were prepared: drops (from `twins` too) the twins that were not
 * pre-initialised anywhere (no initialiser, or no Wizer), saying why.
 */
export async function keepSnapshotted(
  nebula: Nebula,
  twins: Map<string, string>,
  note: (text: string) => void,
): Promise<void> {
  const infos = await nebula.functions();
  for (const [twin, name] of [...twins]) {
    const info = infos.find((f) => f.name === twin);
    if (runtimeKinds().some((k) => info?.artifacts[k]?.preinitialized === true)) continue;
    twins.delete(twin);
    await nebula.undeploy(twin);
    const why = runtimeKinds()
      .map((k) => info?.artifacts[k]?.preinitNote)
      .find(Boolean);
    note(
      `${name} runs without pre-initialisation only: ${why ?? `it exports no initialiser (${nebula.spec(name).initFunc ?? 'wizer.initialize'})`}.`,
    );
  }
}

/** `<name>-preinit`: the function with only its artifacts for runtimes that pre-initialise, `preinit: 'auto'`; undefined when it has none. */
function twinOf(nebula: Nebula, spec: FunctionSpec): FunctionSpec | undefined {
  const name = `${spec.name}${TWIN_SUFFIX}`;
  const kinds = runtimeKinds().filter((k) => spec[k] !== undefined && descriptorOf(k).preinit);
  if (!kinds.length) return undefined;
  if (nebula.has(name) || name.length > 63)
    throw new UsageError(
      'INVALID_CONFIG',
      `Experiment config: preinit "both" runs ${spec.name} pre-initialised as "${name}", ${nebula.has(name) ? 'a name already taken' : 'a name over 63 characters'}: rename the function.`,
      { details: { field: 'preinit' } },
    );
  const kept = Object.entries(spec).filter(
    ([k]) => k !== 'builtin' && (!(runtimeKinds() as string[]).includes(k) || (kinds as string[]).includes(k)),
  );
  return { ...(Object.fromEntries(kept) as FunctionSpec), name, preinit: 'auto' };
}
