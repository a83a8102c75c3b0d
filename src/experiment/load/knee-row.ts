/**
 * The knee row of one series of a load run, built once: the terminal summary, report.md,
 * report.html and `--json`'s `knees` all read it. Per series: the bound, the knee (the highest
 * offered rate meeting it) or "none of the rates" with why, the p99 at the knee and at the next
 * rate the series ran, and how its sweep ended.
 */
import { fmtMs } from '../report/format.js';
import { runtimeLabel } from '../report/kit.js';
import type { LoadResult, SeriesSummary } from './run-load.js';
import { fmtRate, withInterval, type Figure } from './step-row.js';
import { kneeMiss, type StepSummary } from './summary.js';

/** A series with the steps its knee row reads. */
interface Knee {
  series: SeriesSummary;
  spec: LoadResult['spec'];
  /** The step at the knee's rate. */
  atKnee: StepSummary | undefined;
  /** The lowest rate the series ran above its knee (above nothing when there is no knee). */
  next: StepSummary | undefined;
}

/** One column of the knee table: its heading, the names of its figures, its text and figures. */
interface KneeColumn {
  head: string;
  keys: readonly string[];
  cell: (k: Knee) => { text: string; figures: Figure[] };
}

const finite = (v: number | undefined): number | null => (v !== undefined && Number.isFinite(v) ? v : null);
const pct = (share: number) => `${(share * 100).toFixed(1)}%`;

/** Why a series has no knee: the lowest rate it ran missed the bound, and how. */
function noKneeReason(k: Knee): string {
  if (!k.next) return 'no step of it ran';
  return `at ${fmtRate(k.next.ratePerS)}, the lowest rate run, ${kneeMiss(k.next, k.spec) ?? 'the bound was met'}`;
}

const COLUMNS: readonly KneeColumn[] = [
  { head: 'function', keys: ['function'], cell: (k) => ({ text: k.series.function, figures: [k.series.function] }) },
  {
    head: 'runtime',
    keys: ['runtime'],
    cell: (k) => ({ text: runtimeLabel(k.series.runtime), figures: [k.series.runtime] }),
  },
  { head: 'mode', keys: ['mode'], cell: (k) => ({ text: k.series.mode, figures: [k.series.mode] }) },
  {
    head: 'bound',
    keys: ['knee_p99_ms', 'knee_failed_share'],
    cell: ({ spec }) => ({
      text: `p99 <= ${spec.kneeP99Ms} ms, failed <= ${pct(spec.stopErrorRate)}`,
      figures: [spec.kneeP99Ms, spec.stopErrorRate],
    }),
  },
  {
    head: 'knee',
    keys: ['knee_per_s', 'no_knee_reason'],
    cell: (k) =>
      k.series.knee === null
        ? { text: `none of the rates (${noKneeReason(k)})`, figures: [null, noKneeReason(k)] }
        : { text: fmtRate(k.series.knee), figures: [k.series.knee, null] },
  },
  {
    head: 'p99 at the knee [95%]',
    keys: ['p99_at_knee_ms'],
    cell: ({ atKnee }) => ({
      text: atKnee ? withInterval(atKnee.latencyMs.p99, fmtMs) : '–',
      figures: [finite(atKnee?.latencyMs.p99.value)],
    }),
  },
  {
    head: 'next rate',
    keys: ['next_per_s'],
    cell: ({ next, series, spec }) => ({
      text: next
        ? fmtRate(next.ratePerS)
        : series.knee !== null && series.knee >= Math.max(...spec.rates)
          ? 'none above it'
          : 'not run',
      figures: [next?.ratePerS ?? null],
    }),
  },
  {
    head: 'p99 at the next rate [95%]',
    keys: ['p99_at_next_ms'],
    cell: ({ next }) => ({
      text: next ? withInterval(next.latencyMs.p99, fmtMs) : '–',
      figures: [finite(next?.latencyMs.p99.value)],
    }),
  },
  {
    head: 'sweep',
    keys: ['stopped_at_per_s', 'stopped_reason'],
    cell: ({ series: { stopped } }) => ({
      text: stopped ? `stopped at ${fmtRate(stopped.ratePerS)}: ${stopped.reason}` : 'every rate run',
      figures: [stopped?.ratePerS ?? null, stopped?.reason ?? null],
    }),
  },
];

/** The headings of the knee table. */
export const KNEE_HEAD: readonly string[] = COLUMNS.map((c) => c.head);

/** What the knee table's caption says the knee is. */
export function kneeCaption(r: LoadResult): string {
  return `Knee: the highest rate of the sweep with p99 <= ${r.spec.kneeP99Ms} ms and at most ${pct(r.spec.stopErrorRate)} failed`;
}

function kneesOf(r: LoadResult): Knee[] {
  return r.series.map((series) => {
    const mine = r.results
      .filter((x) => x.function === series.function && x.runtime === series.runtime && x.mode === series.mode)
      .sort((a, b) => a.ratePerS - b.ratePerS);
    const knee = series.knee;
    return {
      series,
      spec: r.spec,
      atKnee: knee === null ? undefined : mine.find((x) => x.ratePerS === knee),
      next: mine.find((x) => knee === null || x.ratePerS > knee),
    };
  });
}

/** Each series' knee row: the text of each column, in the order of {@link KNEE_HEAD}. */
export function kneeCells(r: LoadResult): string[][] {
  return kneesOf(r).map((k) => COLUMNS.map((c) => c.cell(k).text));
}

/** Each series' knee figures by name: `--json`'s `knees`. */
export function kneeRecords(r: LoadResult): Array<Record<string, Figure>> {
  return kneesOf(r).map((k) =>
    Object.fromEntries(
      COLUMNS.flatMap((c) => {
        const { figures } = c.cell(k);
        return c.keys.map((key, i) => [key, figures[i] ?? null]);
      }),
    ),
  );
}
