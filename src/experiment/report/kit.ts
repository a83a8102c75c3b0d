/**
 * The building blocks of report sections: a section is one title with a Markdown and an HTML
 * body, so both reports say the same thing. Other report fragments (energy, keep-warm) build
 * their sections from these.
 */
import { runtimeDescriptor, type RuntimeKind } from '../../runtimes/registry.js';
import type { InvocationMode } from '../../types.js';
import { mdText } from './escape.js';
import { fmtInput } from './format.js';
import type { Cell } from '../cell.js';
import type { ExperimentResult } from '../analysis/summary.js';

/** One section of report.md and report.html. */
export interface ReportSection {
  /** HTML id (anchor). */
  id: string;
  title: string;
  /** What is shown and how to read it (one or two sentences). */
  hint?: string;
  /** A caveat shown as prominently as the figures it qualifies (e.g. estimated energy). */
  warn?: string;
  /** The HTML body; empty to leave the section out of report.html. */
  html: string;
  /** The Markdown body; empty to leave the section out of report.md. */
  markdown: string;
}

/** Builds a section (or several) from a result, or null when it has nothing to show. */
export type SectionBuilder = (r: ExperimentResult) => ReportSection | ReportSection[] | null;

/** Every section of a result, in order. */
export function buildSections(builders: readonly SectionBuilder[], r: ExperimentResult): ReportSection[] {
  return builders.flatMap((build) => {
    const s = build(r);
    return s === null ? [] : Array.isArray(s) ? s : [s];
  });
}

export const esc = (t: string): string =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

/** An HTML table; cells are text (escaped). Columns from `numericFrom` on are right-aligned. */
export function htmlTable(head: string[], body: string[][], numericFrom = head.length): string {
  const cls = (i: number) => (i >= numericFrom ? ' class="num"' : '');
  return `<table><thead><tr>${head.map((h, i) => `<th${cls(i)}>${esc(h)}</th>`).join('')}</tr></thead><tbody>${body
    .map((row) => `<tr>${row.map((c, i) => `<td${cls(i)}>${esc(c)}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

/** A Markdown table; cells are text (escaped as {@link mdText} says, as `htmlTable` escapes for HTML). */
export function mdTable(head: string[], body: string[][]): string {
  const row = (cells: string[]) => `| ${cells.map((c) => mdText(c)).join(' | ')} |`;
  return [row(head), row(head.map(() => '---')), ...body.map(row)].join('\n');
}

/** How reports name a runtime: its descriptor's label. */
export function runtimeLabel(kind: RuntimeKind): string {
  return runtimeDescriptor(kind)?.label ?? kind;
}

/** A cell's colour: its runtime's (from the registry), lighter for prewarmed and warm. */
export function colorOf(runtime: RuntimeKind, mode: InvocationMode): string {
  const base = runtimeDescriptor(runtime)?.color ?? '#555555';
  const mix = mode === 'cold' ? 0 : mode === 'prewarmed' ? 0.35 : 0.6;
  const ch = (i: number) =>
    Math.round(parseInt(base.slice(i, i + 2), 16) * (1 - mix) + 255 * mix)
      .toString(16)
      .padStart(2, '0');
  return `#${ch(1)}${ch(3)}${ch(5)}`;
}

/** `fib(30) Wasm cold`. */
export function cellLabel(c: Cell): string {
  return `${c.function}(${fmtInput(c.input)}) ${runtimeLabel(c.runtime)} ${c.mode}`;
}

/** The registry's note on how a runtime's `execMs` is measured, when it has one. */
export function execNote(kind: RuntimeKind): string | undefined {
  return runtimeDescriptor(kind)?.execNote;
}
