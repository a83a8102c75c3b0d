/**
 * ProcessRuntime: a function's native binary run as a plain child process, the baseline the other
 * runtimes are measured against. Not a sandbox: limits via setrlimit and a cgroup per run, nothing more.
 */
import { checkKnownKeys, keysOf } from '../../known-keys.js';
import { tmpdir } from 'node:os';
import { NebulaError, UsageError } from '../../errors.js';
import type { ArtifactInfo, FunctionSpec } from '../../types.js';
import type { Prepared, RunContext, Runtime } from '../runtime.js';
import { checkBinary, checkHelper, defaultHelperPath } from './binary.js';
import { cgroupSetup, reapOnce, type CgroupSetup } from './cgroup.js';
import { Launch, type LaunchPlan } from './launch.js';
import { checkLimits, memoryBytes, planLimits } from './limits.js';
import { failedOutcome } from '../outcome.js';
import { runOnce, type ProcessRunOutcome } from './run.js';

/** Options of {@link ProcessRuntime}. */
export interface ProcessRuntimeOptions {
  /** Helpers kept started and parked per function for `prewarmed` and `warm` invocations. Default 2. */
  prewarmedProcesses?: number;
  /** Largest stdout and stderr kept per invocation, bytes. Default 1 MiB. */
  maxOutputBytes?: number;
  /** Largest file a function may write (RLIMIT_FSIZE), bytes. Default 64 MiB. */
  maxFileBytes?: number;
  /** Where each invocation's private working directory is made. Default `os.tmpdir()`. */
  tmpDir?: string;
  /** The helper binary (`nebula-exec`) to use. Default: the one committed for this machine's architecture. */
  helperPath?: string;
  /**
   * A cgroup per run, so `limits.memoryMiB` bounds the function's whole process tree. `true`: found
   * here (a cgroup v2 one with the memory controller, the host's own or the delegated one above it;
   * else the host's cgroup v1 memory one); a path: the parent cgroup to make them in (cgroup v2 with
   * the memory controller enabled for its children, or cgroup v1 memory); `false`: none. Without
   * one the limit bounds each process alone, and records say it did not hold. Default `true`.
   */
  cgroup?: boolean | string;
}

const MiB = 1024 * 1024;

/**
 * Runs functions as native processes: the same static binary a Docker image would wrap, started
 * through a small helper that closes inherited descriptors, sets resource limits and execs it in
 * a private temporary directory with only the granted environment. For measurement, not isolation.
 */
export class ProcessRuntime implements Runtime {
  readonly kind = 'process' as const;
  private readonly prepared = new Set<PreparedProcess>();
  private cgroups: CgroupSetup | undefined;

  /** @throws UsageError `INVALID_ARGUMENT` for an option that is not one, naming the nearest. */
  constructor(readonly options: ProcessRuntimeOptions = {}) {
    checkKnownKeys(
      options,
      keysOf<ProcessRuntimeOptions>({
        prewarmedProcesses: true,
        maxOutputBytes: true,
        maxFileBytes: true,
        tmpDir: true,
        helperPath: true,
        cgroup: true,
      }),
      'ProcessRuntime options',
    );
  }

  /**
   * Checks the binary (a regular, executable ELF file for this machine) and the helper.
   * @throws NebulaError `INVALID_FUNCTION` (not a file, not executable, not ELF, another architecture),
   * `INVALID_ARGUMENT` (a limit out of range, a `cgroup` option that names no usable cgroup),
   * `RUNTIME_UNAVAILABLE` (not Linux, no helper).
   */
  async prepare(fn: FunctionSpec): Promise<Prepared> {
    if (!fn.process) throw new UsageError('INVALID_ARGUMENT', `Function "${fn.name}" has no process source.`);
    const helper = this.options.helperPath ?? defaultHelperPath();
    await checkHelper(helper);
    checkLimits(fn);
    const bin = await checkBinary(fn.name, fn.process.binary);
    const cgroups = (this.cgroups ??= cgroupSetup(this.options.cgroup));
    await reapOnce(helper, cgroups.parents);
    const plan: LaunchPlan = {
      helper,
      binary: bin.path,
      argv: [fn.name, ...(fn.grants?.args ?? [])],
      env: { ...fn.grants?.env },
      tmpDir: this.options.tmpDir ?? tmpdir(),
      maxOutputBytes: this.options.maxOutputBytes ?? MiB,
      cgroups,
      memoryMaxBytes: memoryBytes(fn),
    };
    const info: ArtifactInfo = { path: bin.path, sizeBytes: bin.sizeBytes, digest: bin.digest };
    const p = new PreparedProcess(fn, plan, info, this.options, () => this.prepared.delete(p));
    this.prepared.add(p);
    return p;
  }

  /** Releases the parked helpers of every prepared function and removes their directories. */
  async close(): Promise<void> {
    await Promise.allSettled([...this.prepared].map((p) => p.release()));
  }
}

class PreparedProcess implements Prepared {
  private readonly parked: Launch[] = [];
  private readonly cleanups = new Set<Promise<number>>();
  private released = false;

  constructor(
    private readonly fn: FunctionSpec,
    private readonly plan: LaunchPlan,
    readonly info: ArtifactInfo,
    private readonly options: ProcessRuntimeOptions,
    private readonly onRelease: () => void,
  ) {}

  async run(input: string, ctx: RunContext): Promise<ProcessRunOutcome> {
    if (ctx.signal?.aborted)
      return failedOutcome(
        new NebulaError('ABORTED', 'The invocation was aborted by its signal before the process started.'),
      );
    let launch = ctx.mode !== 'cold' ? this.takeParked() : undefined;
    const prewarmed = launch !== undefined;
    if (!launch) {
      try {
        launch = new Launch(this.plan);
      } catch (e) {
        return failedOutcome(
          new NebulaError('RUNTIME_ERROR', `The process could not be launched: ${(e as Error).message}`, { cause: e }),
        );
      }
    }
    const outcome = await runOnce(launch, input, ctx, {
      plan: planLimits(this.fn, ctx.timeoutMs, this.options.maxFileBytes ?? 64 * MiB),
      cpus: this.fn.limits?.cpus ?? 1,
      prewarmed,
      binary: this.plan.binary,
      cgroups: this.plan.cgroups,
    });
    outcome.cleanup = this.track(launch.cleanup());
    if (ctx.mode !== 'cold') this.refill();
    return outcome;
  }

  /** A parked helper that is still alive, held again for its run. */
  private takeParked(): Launch | undefined {
    for (let l = this.parked.shift(); l; l = this.parked.shift()) {
      if (l.alive) {
        l.hold(true);
        return l;
      }
      void this.track(l.cleanup());
    }
    return undefined;
  }

  /**
   * Keeps `prewarmedProcesses` helpers started and parked. Spawning blocks the event loop while
   * Node forks, so it waits until the current invocation's record is built (a macrotask later).
   */
  private refill(): void {
    const want = this.options.prewarmedProcesses ?? 2;
    setImmediate(() => {
      while (!this.released && this.parked.length < want) {
        let l: Launch;
        try {
          l = new Launch(this.plan);
        } catch {
          return;
        }
        l.hold(false);
        this.parked.push(l);
      }
    });
  }

  private track(p: Promise<number>): Promise<number> {
    this.cleanups.add(p);
    p.catch(() => undefined).finally(() => this.cleanups.delete(p));
    return p;
  }

  async release(): Promise<void> {
    this.released = true;
    await Promise.allSettled(this.parked.splice(0).map((l) => this.track(l.cleanup())));
    await Promise.allSettled([...this.cleanups]);
    this.onRelease();
  }
}
