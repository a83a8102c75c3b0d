/**
 * The JSON Schema of `nebula.config.json`, made from the runtime and meter registries and the mode
 * list, so a new runtime or meter appears in it by itself. `docs/nebula.config.schema.json` is this schema
 * written out for editors (a test keeps the two equal); the CLI checks files against it too.
 */
import { BUILTIN_NAMES } from '../builtins.js';
import { MAX_TIMEOUT_MS } from '../clock.js';
import type { Schema } from '../json-schema.js';
import { meterPattern, meterUsage } from '../meters/registry.js';
import { runtimeDescriptors, runtimeKinds } from '../runtimes/registry.js';
import { INVOCATION_MODES } from '../types.js';

const str = (description: string): Schema => ({ type: 'string', minLength: 1, description });

/** The schema of one function entry in `functions`. */
function functionSchema(): Schema {
  const properties: Record<string, Schema> = {
    name: {
      type: 'string',
      pattern: '^[a-z][a-z0-9_-]{0,62}$',
      description: '1-63 lower-case letters, digits, - and _, starting with a letter',
    },
    description: { type: 'string' },
    inputs: {
      type: 'array',
      minItems: 1,
      description: 'Inputs to run it with (each passed as JSON on stdin); default: the built-in defaults, else [null].',
    },
    binary: str('A static Linux binary (relative to this file), deployed to every runtime that takes one.'),
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        memoryMiB: { type: 'integer', minimum: 1, description: 'Memory cap per invocation, MiB (default 256).' },
        cpus: {
          type: 'number',
          exclusiveMinimum: 0,
          description: 'CPU cap in cores, where the runtime enforces one (default 1).',
        },
        pids: { type: 'integer', minimum: 1, description: 'Process cap, where the runtime enforces one.' },
      },
    },
    grants: {
      type: 'object',
      additionalProperties: false,
      properties: {
        env: {
          type: 'object',
          additionalProperties: { type: 'string' },
          description: 'Environment variables the function sees.',
        },
        args: { type: 'array', items: { type: 'string' }, description: 'Arguments after argv[0].' },
        initWasi: {
          type: 'boolean',
          description:
            'Let the initialiser that pre-initialisation runs at deploy call WASI (clocks, random numbers; their values are frozen into the snapshot). Default false.',
        },
      },
    },
    preinit: {
      enum: ['auto', true, false],
      default: 'auto',
      description:
        "Run the function's start-up work at deploy and start every invocation from a snapshot, where its runtime can (Wasm, with Wizer): auto (when it exports its initialiser), true (always; refused when it cannot be), false (never).",
    },
    initFunc: {
      type: 'string',
      minLength: 1,
      default: 'wizer.initialize',
      description: 'The exported function that does the start-up work, for preinit.',
    },
    checkInput: {
      description:
        'An input deploy runs a pre-initialised function on from its original and from its snapshot: both must give the same output, or the deploy is refused.',
    },
  };
  for (const d of runtimeDescriptors()) properties[d.kind] = { description: d.summary, ...d.source.schema };
  return { type: 'object', required: ['name'], additionalProperties: false, properties };
}

/** The fields every command's config file shares: functions (with their inputs and artifacts), runtimes, meter, out. */
function sharedProperties(what: string): Record<string, Schema> {
  const kinds = runtimeKinds();
  return {
    $schema: { type: 'string', description: 'Where editors find this schema.' },
    functions: {
      type: 'array',
      minItems: 1,
      description: `Functions to run: a built-in's name (${BUILTIN_NAMES.join(', ')}) or an object with a name and its artifacts. Default: ${what}.`,
      items: {
        anyOf: [{ type: 'string', enum: [...BUILTIN_NAMES], description: 'A built-in function.' }, functionSchema()],
      },
    },
    runtimes: {
      type: 'array',
      minItems: 1,
      items: { enum: kinds },
      description: 'Default: every runtime a function has; one without an engine is skipped with a note.',
    },
  };
}

const meterProperty = (): Schema => ({
  type: 'string',
  pattern: meterPattern(),
  default: 'estimate',
  description: meterUsage(', '),
});

const outProperty: Schema = {
  type: 'string',
  minLength: 1,
  description: 'Folder for the records and reports (relative to this file; must be new or empty).',
};

const modesProperty = (byDefault: string): Schema => ({
  type: 'array',
  minItems: 1,
  items: { enum: [...INVOCATION_MODES] },
  description: `Default ["${byDefault}"].`,
});

/** The JSON Schema of `nebula.config.json`. */
export function configSchema(): Schema {
  const kinds = runtimeKinds();
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'nebula bench configuration (nebula.config.json)',
    description:
      'Functions, inputs, runtimes, modes, repetitions and meter of `nebula bench --config FILE`. Command-line flags override these values.',
    type: 'object',
    additionalProperties: false,
    properties: {
      ...sharedProperties('every built-in'),
      baselineRuntime: {
        enum: kinds,
        description: `The runtime the others are divided by in ratios (default: ${
          runtimeDescriptors().find((d) => d.baseline)?.kind ?? 'the first'
        } when it runs, else the first).`,
      },
      modes: modesProperty('cold'),
      repetitions: { type: 'integer', minimum: 1, default: 20, description: 'Measured invocations per cell.' },
      warmup: { type: 'integer', minimum: 0, default: 2, description: 'Unrecorded invocations per cell first.' },
      concurrency: {
        type: 'integer',
        minimum: 1,
        maximum: 1024,
        default: 1,
        description:
          "Invocations of a cell made at once, each recorded; above 1, energy figures are the records' shares.",
      },
      order: { enum: ['interleaved', 'shuffled'], default: 'interleaved' },
      seed: { type: 'integer', minimum: 0, default: 1, description: 'Seed of the shuffle and the bootstrap.' },
      meter: meterProperty(),
      baselineMs: {
        type: 'integer',
        minimum: 0,
        default: 10000,
        description: 'Idle power measured first, ms (0: none).',
      },
      batchWindowMs: {
        anyOf: [{ type: 'number', exclusiveMinimum: 0 }, { const: false }],
        default: 2000,
        description: 'Batch energy window for short functions, ms; false to skip.',
      },
      timeoutMs: {
        type: 'number',
        exclusiveMinimum: 0,
        maximum: MAX_TIMEOUT_MS,
        default: 60000,
        description: 'Per invocation, ms.',
      },
      micro: {
        type: 'boolean',
        default: true,
        description: 'Run the tinybench micro-benchmarks of an invocation back to back.',
      },
      keepWarm: {
        description:
          'The keep-warm step (with a meter): power and memory with K kept sandboxes per runtime. Default: on when modes include warm. false skips it; true or settings turn it on.',
        anyOf: [
          { type: 'boolean' },
          {
            type: 'object',
            additionalProperties: false,
            properties: {
              counts: {
                type: 'array',
                minItems: 2,
                items: { type: 'integer', minimum: 0, maximum: 1000 },
                description:
                  'Kept sandboxes measured, ascending (default [0, 1, 10, 50]); K stops growing when memory runs short.',
              },
              windowMs: {
                type: 'number',
                minimum: 100,
                maximum: 600000,
                description: 'One power measurement, ms (default 5000).',
              },
              repeats: {
                type: 'integer',
                minimum: 1,
                maximum: 100,
                description: 'Measurements per count (default 2).',
              },
              function: {
                enum: [...BUILTIN_NAMES],
                description: 'The built-in whose sandboxes are kept (default fib).',
              },
              input: { description: 'Its input (default 1).' },
            },
          },
        ],
      },
      preinit: {
        enum: ['deployed', 'auto', true, false, 'both'],
        default: 'deployed',
        description:
          'Pre-initialisation of the functions run: deployed (as each function says), auto, true or false for all, or both: each function a runtime can pre-initialise runs without and with (as <name>-preinit), side by side in the reports.',
      },
      out: outProperty,
    },
  };
}

const ms = (description: string, minimum = 0): Schema => ({
  type: 'number',
  ...(minimum > 0 ? { exclusiveMinimum: 0 } : { minimum }),
  maximum: MAX_TIMEOUT_MS,
  description,
});

/** The JSON Schema of `nebula load --config FILE`: the shared fields and the load's own (the SDK's `LoadSpec` names). */
export function loadConfigSchema(): Schema {
  const rate: Schema = { type: 'number', exclusiveMinimum: 0, maximum: 100000 };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'nebula load configuration',
    description:
      'Functions (one input each), runtimes, modes, rates, arrivals, step duration and bounds of `nebula load --config FILE`. Command-line flags override these values.',
    type: 'object',
    additionalProperties: false,
    properties: {
      ...sharedProperties('fib, or your own functions'),
      modes: modesProperty('warm'),
      rate: { ...rate, description: 'Arrivals per second of the one step (default 100).' },
      rates: {
        type: 'array',
        minItems: 1,
        items: rate,
        description: 'A sweep: arrivals per second of each step, run in ascending order. Not with rate.',
      },
      arrivals: { enum: ['constant', 'poisson'], default: 'constant' },
      durationMs: ms('Length of each step, ms (default 30000).', 1),
      stopP99Ms: ms("A series' sweep stops after a step whose p99 is over this, ms (default 1000).", 1),
      stopErrorRate: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: '... or whose failed share is over this (default 0.05).',
      },
      kneeP99Ms: ms('The knee is the highest rate with p99 at most this, ms (default 10).', 1),
      maxInFlight: { type: 'integer', minimum: 1, maximum: 100000, description: 'Invocations at once (default 64).' },
      warmup: { type: 'integer', minimum: 0, description: 'Unrecorded invocations of each series first (default 2).' },
      timeoutMs: ms('Per invocation, and the longest wait in the queue, ms (default 10000).', 1),
      seed: { type: 'integer', minimum: 0, description: 'Seed of Poisson arrivals (default 1).' },
      meter: meterProperty(),
      baselineMs: {
        type: 'integer',
        minimum: 0,
        description: 'Idle power measured first, ms (default 10000; 0: none).',
      },
      out: outProperty,
    },
  };
}

/** The JSON Schema of `nebula replay --config FILE`: the shared fields and the replay's own. */
export function replayConfigSchema(): Schema {
  const watts: Record<string, Schema> = {};
  for (const k of runtimeKinds()) watts[k] = { type: 'number', minimum: 0 };
  return {
    $schema: 'http://json-schema.org/draft-07/schema#',
    title: 'nebula replay configuration',
    description:
      'Trace, window, speed, mapping, policies, functions, runtimes and meter of `nebula replay --config FILE`. Command-line flags (and a trace given on the command line) override these values.',
    type: 'object',
    additionalProperties: false,
    properties: {
      ...sharedProperties('fib, or your own functions; the trace functions run them in turn'),
      trace: str('The trace file (relative to this file): Azure Functions 2019 invocations, or time,function.'),
      window: {
        type: 'string',
        pattern: '^[^-]+-[^-]+$',
        description: 'A window of the trace, FROM-TO: 09:00-10:30 (time of day) or 0m-90m.',
      },
      speed: { type: 'number', exclusiveMinimum: 0, description: 'Trace time / real time (default 60).' },
      mapping: {
        type: 'object',
        additionalProperties: { type: 'string', minLength: 1 },
        description:
          'Trace function (f1, f2, ... in the order of the trace, or its id) to the function it runs, e.g. {"f1": "fib"}.',
      },
      policies: {
        type: 'array',
        minItems: 1,
        items: { type: 'string', minLength: 1 },
        description:
          'Keep-alive policies: none, fixed:DURATION, histogram[:per=app|function,range=4h,...] (default none, fixed:10m, histogram).',
      },
      keepWarmWattsPerSandbox: {
        type: 'object',
        additionalProperties: false,
        properties: watts,
        description: 'Power per kept sandbox, W, by runtime (default: measured first with a meter).',
      },
      maxInFlight: { type: 'integer', minimum: 1, maximum: 100000, description: 'Invocations at once (default 256).' },
      timeoutMs: ms('Per invocation, ms (default 30000).', 1),
      meter: meterProperty(),
      baselineMs: {
        type: 'integer',
        minimum: 0,
        description: 'Idle power measured first, ms (default 5000; 0: none).',
      },
      out: outProperty,
    },
  };
}
