/**
 * The Runtime interface: where a function runs, and the descriptor that registers a kind of
 * runtime (`registry.ts` holds them). `Nebula` sees only these; each folder beside this file
 * (`wasm/` with jco, `docker/` with dockerode, ...) is one implementation.
 */
import type { BuiltinName } from '../builtins.js';
import type { NebulaError } from '../errors.js';
import type { Schema } from '../json-schema.js';
import type {
  ArtifactInfo,
  FunctionSpec,
  InvocationMode,
  InvocationResources,
  LimitState,
  SandboxUse,
} from '../types.js';

/**
 * The steps of a run, each with one meaning on every runtime. A record's `timing.phases` holds
 * those its run went through, in ms, in the order they happened; each descriptor lists its own.
 */
export const PHASES = {
  dispatch: 'from the invoke() call until the runtime took the run up (a Wasm worker thread claimed it)',
  dir: 'a private working folder made for the run',
  create: 'the sandbox created (a container)',
  attach: "the sandbox's stdin, stdout and stderr connected",
  spawn: 'the process or thread that runs the function started (the helper forked)',
  instantiate: 'the instance made (0 when it was made ahead or reused)',
  start: "from asking the sandbox to start until the function's own code runs (a container started, a process exec'd)",
  ready: 'a new kept sandbox reported ready for its first input',
  run: "the function's own code, from its start to its end, both taken by the runtime (what execMs measures)",
  wait: "waiting for the sandbox to report the function's end (the engine's wait on a container)",
  collect: 'the output and exit status gathered after the end',
} as const satisfies Record<string, string>;

/** The name of a step of a run (see {@link PHASES}). */
export type Phase = keyof typeof PHASES;

/** What one run gets from Nebula. */
export interface RunContext {
  mode: InvocationMode;
  /** Stop the function after this many ms and report `TIMEOUT`. */
  timeoutMs: number;
  /** Epoch ms (nebula's clock) by which the run, and every engine call or wait it makes, has ended: `requestAt + timeoutMs`. */
  deadlineAt: number;
  signal?: AbortSignal;
  /** Epoch ms of the `invoke()` call (the start of `startupMs`). */
  requestAt: number;
}

/** What one run gives back. Runtimes never throw from `run()` for a function's failure. */
export interface RunOutcome {
  /** The function's exit code; `null` when it did not exit (trap, timeout, crash). */
  exitCode: number | null;
  stdout: string;
  stderr: string;
  /** Epoch ms when the function's own code started / ended (see clock.ts). */
  functionStartAt: number;
  functionEndAt: number;
  /** The breakdown of the run, in ms, in the order the steps happened (names from {@link PHASES}). */
  phases: Partial<Record<Phase, number>>;
  /** True when this run had to compile (nothing cached). */
  compiled: boolean;
  /** Set when the run failed for a reason other than a non-zero exit (TIMEOUT, MEMORY_LIMIT, trap, engine error). */
  error?: NebulaError;
  /** Resolves with the clean-up time in ms once the instance/container is gone. */
  cleanup?: Promise<number>;
  /** `fresh`: created in this invocation; `prewarmed`: created ahead, first use; `reused`: an earlier invocation ran in it. */
  sandbox: SandboxUse;
  /**
   * Which sandbox the run was in (e.g. a container's id), where the runtime can name it; runs in
   * the same sandbox carry the same id. Copied to the record's `sandboxId`.
   */
  sandboxId?: string;
  /**
   * ms this run waited for the runtime's own set-up (threads starting, code loading) before its
   * own work began. Reported as `timing.prepareMs`, never inside `startupMs`.
   */
  setupWaitMs?: number;
  /** stdout went over the output cap and was cut (the record becomes `OUTPUT_LIMIT`). */
  stdoutTruncated?: boolean;
  /** stderr went over the output cap and was cut. */
  stderrTruncated?: boolean;
  /** The resource limits this run was under and which held (copied to the record's `limits`). */
  limits?: Record<string, LimitState>;
  /**
   * CPU time and peak memory of the run's sandbox, from the kernel (copied to the record's
   * `resources`); without it the record says the runtime reported none.
   */
  resources?: InvocationResources;
  /** True when the run started from a pre-initialised artifact (copied to the record's `preinitialized`). */
  preinitialized?: boolean;
}

/**
 * Control of one prepared function's kept sandboxes (those `mode: 'warm'` reuses), for keep-alive
 * policies: once held, the runtime's own keep-alive timer leaves them alone, and these calls decide
 * when they are made and removed. Offered by runtimes that keep sandboxes (`Prepared.keeper`).
 */
export interface SandboxKeeper {
  /** From now on this function's idle sandboxes stay until `drop()` (the runtime's keep-alive no longer removes them). */
  hold(): void;
  /** Makes one sandbox now and keeps it idle; the next `warm` run takes it as `prewarmed`. Resolves once it is ready. */
  prewarm(): Promise<void>;
  /** Removes this function's idle sandboxes: none can be taken once it returns; resolves once they are gone. */
  drop(): Promise<void>;
  /** Idle sandboxes of this function kept now. */
  idle(): number;
}

/** A function made ready for a runtime: everything that can be done once is done. */
export interface Prepared {
  /** Deploy-time facts about the artifact (what `nebula.functions()` shows once prepared). */
  readonly info: ArtifactInfo;
  /** Runs the function once on a fresh instance/container with `input` (JSON text) on stdin. */
  run(input: string, ctx: RunContext): Promise<RunOutcome>;
  /** Drops what was prepared (warm instances, images built for it stay cached). */
  release(): Promise<void>;
  /** Control of its kept sandboxes, where the runtime offers it. */
  readonly keeper?: SandboxKeeper;
}

/** Something a runtime left on the machine (an image, a volume, a container, a cache) that a clean-up removed, or could not. */
export interface Removal {
  kind: 'image' | 'volume' | 'container' | 'cache';
  /** Its name (image tag or id, volume name, container id, folder). */
  name: string;
  sizeBytes?: number;
  /** False with `reason` when it could not be removed (in use), or in a dry run (no reason). */
  removed: boolean;
  reason?: string;
}

/** Options of `close()`. */
export interface CloseOptions {
  /**
   * Also remove the images this runtime built or loaded for its functions (and what it made for
   * its warm mode), which are otherwise kept so the next deploy of the same artifact reuses them.
   * Only for a runtime that builds images (Docker). Default false.
   */
  removeImages?: boolean;
}

/** A place where functions run. */
export interface Runtime {
  /** The registered kind (`wasm`, `docker`, ...). */
  readonly kind: string;
  /**
   * Does the deploy-time work (validate, adapt, compile / check and build the image).
   * @throws NebulaError `INVALID_FUNCTION` for an artifact that cannot run, `RUNTIME_UNAVAILABLE`
   * when the runtime cannot be reached.
   */
  prepare(fn: FunctionSpec): Promise<Prepared>;
  /**
   * Takes the runtime's one-time set-up now (its threads started, its own run path taken once), so
   * no invocation waits for it or pays for its first compilation by V8. Optional; idempotent.
   * `nebula.ready()` calls it on the runtimes whose descriptor says `startsAhead`.
   * @throws NebulaError `RUNTIME_UNAVAILABLE` when the runtime cannot start.
   */
  ready?(): Promise<void>;
  /**
   * Releases everything (workers, pooled containers, connections); with `removeImages`, also
   * removes the images it made and lists them.
   */
  close(options?: CloseOptions): Promise<Removal[] | void>;
}

/** How a function spec's source for one runtime is given, checked, shown and made. */
interface SourceDescriptor<S> {
  /** The JSON Schema of the source, as a config file's `functions[].<kind>` takes it (relative paths allowed). */
  readonly schema: Schema;
  /**
   * Checks a source's shape and returns it typed.
   * @throws UsageError `INVALID_ARGUMENT` saying what the source must be.
   */
  validate(source: unknown, functionName: string): S;
  /** What `nebula.functions()` shows of the source before it is prepared (path, size, image). */
  describe(source: S): ArtifactInfo;
  /**
   * The same source with each file path it names passed through `file` (the CLI resolves them
   * against the config file's folder and checks they exist). Default: it names no file.
   */
  files?(source: S, file: (path: string) => string): S;
  /** The command line's `--<kind> NAME=VALUE`: what VALUE is, one line of help, and the source it gives. */
  readonly flag?: { readonly value: string; readonly help: string; source(value: string): S };
  /** The source that runs a static Linux binary (`--binary`, a config file's `binary`), where this runtime runs one. */
  binary?(path: string): S;
  /**
   * The REST API's `POST /functions` with the artifact as the body: the content types it takes and
   * the source made of the bytes (the function's name comes as `?name=`).
   */
  readonly upload?: { readonly contentTypes: readonly string[]; source(bytes: Uint8Array): S };
  /**
   * The REST API's `POST /functions` as JSON (`{ name, [kind]: ... }`): the schema of what a remote
   * client may send, never a path on the server's disk. Without it, JSON deploys cannot use this runtime.
   */
  readonly remote?: Schema;
}

/** What `mode: 'warm'` keeps alive on a runtime, and the option capping how many. */
interface KeepsWarm<O> {
  /** The runtime option capping the sandboxes kept (per function, or per function and thread). */
  readonly option: keyof O & string;
  /** Its default. */
  readonly default: number;
  /**
   * True when its prepared functions offer a {@link SandboxKeeper} (`Prepared.keeper`): keep-alive
   * policies can hold, pre-warm and remove their kept sandboxes.
   */
  readonly keeper?: boolean;
}

/** A way to run the built-in `fib` with input 1 directly on this thread, with no engine around it. */
export interface MicroFloor {
  /** How reports name it. */
  readonly task: string;
  /** What one sample of it covers, from its start to its end (reports print it beside the figure). */
  readonly covers: string;
  /**
   * What a whole `invoke()` back to back does on this runtime that the floor does not, or does
   * otherwise (reports print it beside the invocation's figure, so the two can be reconciled).
   */
  readonly invoke?: string;
  run(): void;
}

/**
 * Everything the rest of the package knows about a kind of runtime: how a function spec names its
 * artifact (`spec[kind]`) and how that source is given on the command line, in a config file and
 * over REST, which artifact each built-in function has, what its modes do, the steps its runs
 * report, how it is created, and how reports show it. The CLI, the config schema, the server, the
 * experiment runner and the built-ins read these; none of them names a runtime. `S` is the source
 * type (e.g. a wasm path or bytes), `O` the runtime's options.
 */
export interface RuntimeDescriptor<K extends string = string, S = unknown, O = unknown> {
  /** The kind: the key of its source in a function spec, of its options in `new Nebula({ ... })`, its CLI flag. */
  readonly kind: K;
  /** How reports and the CLI name it, e.g. `Wasm`. */
  readonly label: string;
  /** Its colour in charts (CSS colour, `#rrggbb`). */
  readonly color: string;
  /** One line saying what it runs (help, the config schema, docs). */
  readonly summary: string;
  /** Its source: schema, check, files, CLI flag, REST forms. */
  readonly source: SourceDescriptor<S>;
  /**
   * The artifact of a built-in function on this runtime, on a machine of architecture `arch`
   * (Node's, the kernel's or Docker's name), or undefined where it has none.
   */
  builtin?(name: BuiltinName, arch: string): S | undefined;
  /** What each mode means on this runtime (one line each; every runtime takes all three). */
  readonly modes: Readonly<Record<InvocationMode, string>>;
  /**
   * What `mode: 'warm'` keeps alive. Absent: nothing (every run is fresh and its record says so),
   * and the keep-warm step of an experiment has nothing to measure.
   */
  readonly keepsWarm?: KeepsWarm<O>;
  /** The phases its runs report, in order (names from {@link PHASES}). */
  readonly phases: readonly Phase[];
  /** True for the runtime experiments divide the others by when it runs (the native process: ratios other / it). */
  readonly baseline?: boolean;
  /**
   * True when its set-up is in-process and cheap enough to take ahead (worker threads, not an
   * engine's images): `nebula.ready()` starts it, and a server prepares its functions once listening.
   */
  readonly startsAhead?: boolean;
  /**
   * How this runtime's `execMs` differs from the function's own run time, when it does (reports
   * print it beside every exec figure of this runtime).
   */
  readonly execNote?: string;
  /**
   * Where its records' CPU time and peak memory (`resources`) come from and what they include (the
   * report's resources section prints it for each runtime of a run).
   */
  readonly resourcesNote?: string;
  /**
   * How running this runtime disturbs the others in the same host process, when it does (an
   * experiment that runs it beside other runtimes notes it).
   */
  readonly sideEffect?: string;
  /**
   * How this runtime pre-initialises a function (`FunctionSpec.preinit`: its start-up work done at
   * deploy), when it can; runtimes without it run that work at each start and ignore `preinit`.
   */
  readonly preinit?: string;
  /** The floor an experiment's micro-benchmarks set this runtime's invocations of `fib(1)` against. */
  microFloor?(): Promise<MicroFloor>;
  /** Creates the runtime with its options. */
  create(options?: O): Runtime;
  /** What this kind of runtime leaves on the machine between runs, in a few words (`nebula clean --help`). */
  readonly leaves?: string;
  /**
   * Finds what this kind of runtime leaves on the machine between runs (images, volumes,
   * caches) and removes it, or with `dryRun` only lists it: `nebula clean`.
   */
  readonly clean?: (options: { dryRun: boolean }) => Promise<Removal[]>;
}

/** Declares a runtime descriptor with its types inferred. */
export function defineRuntime<K extends string, S, O>(
  descriptor: RuntimeDescriptor<K, S, O>,
): RuntimeDescriptor<K, S, O> {
  return descriptor;
}
