// A user's runtime and meter of their own, from the installed package: the runtime's kind typed by
// declaration merging, each registered with one line, then deployed, invoked and metered.
import { EventEmitter } from 'eventemitter3';
import {
  defineMeter,
  defineRuntime,
  meterFromUrl,
  Nebula,
  nowMs,
  registerMeter,
  registerRuntime,
  type InvokeOptions,
  type Meter,
  type MeterEvents,
} from 'nebula-faas';

declare module 'nebula-faas' {
  interface RuntimeTypes {
    inline: { source: { answer: number }; options: { offset?: number } };
  }
}

const inline = defineRuntime({
  kind: 'inline',
  label: 'Inline',
  color: '#336699',
  summary: 'a function that is a number, answered in this process',
  source: {
    schema: { type: 'object', required: ['answer'], properties: { answer: { type: 'number' } } },
    validate(source, name) {
      const answer = (source as { answer?: unknown } | null)?.answer;
      if (typeof answer !== 'number') throw new Error(`Function "${name}": "inline" must be { answer: number }.`);
      return { answer };
    },
    describe: () => ({}),
  },
  modes: { cold: 'answered at once', prewarmed: 'answered at once', warm: 'answered at once' },
  phases: ['run'],
  create: (options?: { offset?: number }) => ({
    kind: 'inline',
    async prepare(fn) {
      const answer = fn.inline!.answer + (options?.offset ?? 0);
      return {
        info: {},
        async run() {
          const at = nowMs();
          return {
            exitCode: 0,
            stdout: String(answer),
            stderr: '',
            functionStartAt: at,
            functionEndAt: at,
            phases: { run: 0 },
            compiled: false,
            sandbox: 'fresh',
          };
        },
        async release() {},
      };
    },
    async close() {},
  }),
});
registerRuntime(inline);

class ConstantMeter extends EventEmitter<MeterEvents> implements Meter {
  readonly name = 'constant';
  readonly intervalMs = 10;
  readonly estimate = false;
  private timer: NodeJS.Timeout | undefined;
  constructor(private readonly watts: number) {
    super();
  }
  async start(): Promise<void> {
    this.emit('sample', { t: nowMs(), powerW: this.watts });
    this.timer = setInterval(() => this.emit('sample', { t: nowMs(), powerW: this.watts }), this.intervalMs);
  }
  async stop(): Promise<void> {
    clearInterval(this.timer);
  }
}
registerMeter(
  defineMeter({
    scheme: 'constant',
    summary: 'a constant power',
    usage: 'constant?watts=N',
    create: (url) => new ConstantMeter(Number(url.params.get('watts') ?? 10)),
  }),
);

const nebula = new Nebula({ meter: meterFromUrl('constant?watts=12'), inline: { offset: 1 } });
try {
  await nebula.deploy({ name: 'answer', inline: { answer: 41 } });
  const rec = await nebula.invoke('answer', null, { runtime: 'inline', waitForEnergy: true });
  // @ts-expect-error a kind nobody registered is not a runtime
  const unknown: InvokeOptions = { runtime: 'nope' };
  console.log(
    JSON.stringify({
      result: rec.ok ? rec.result : rec.error.code,
      runtime: rec.runtime,
      powerW: rec.energy?.avgPowerW,
      unknown: unknown.runtime,
    }),
  );
} finally {
  await nebula.close();
}
