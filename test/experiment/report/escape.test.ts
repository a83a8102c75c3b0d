import { describe, expect, it } from 'vitest';
import { benchSummary } from '../../../src/cli/bench-summary.js';
import { compareMarkdown } from '../../../src/experiment/report/compare.js';
import { mdText, termText } from '../../../src/experiment/report/escape.js';
import { renderHtml } from '../../../src/experiment/report/html.js';
import { renderMarkdown } from '../../../src/experiment/report/markdown.js';
import type { RunComparison } from '../../../src/experiment/analysis/compare.js';
import { fixtureResult } from '../fixtures.js';

/** What a hostile function prints: HTML, a Markdown link and image, a C1 CSI (U+009B) and ESC sequences, a bidi override. */
const HOSTILE =
  '<img src=x onerror=alert(1)>[click](http://evil.example) ![i](x.png) \u009b31m \u001b]0;owned\u0007 \u202eevil';

/** True when `text` holds a character that acts on a terminal or reorders text (line feeds aside): none may reach it or report.md. */
const acting = (text: string) =>
  [...text].some((ch) => {
    const c = ch.codePointAt(0)!;
    return (
      (c < 0x20 && c !== 0x0a) ||
      (c >= 0x7f && c <= 0x9f) ||
      (c >= 0x202a && c <= 0x202e) ||
      (c >= 0x2066 && c <= 0x2069)
    );
  });

function hostileResult() {
  const { result } = fixtureResult({ mismatch: true });
  const m = result.outputCheck.mismatches[0]!;
  m.got = HOSTILE;
  result.notes.push(`a runtime said: ${HOSTILE}`, '# not a heading', '[x]: http://evil.example');
  result.machine.cpu = HOSTILE;
  return result;
}

describe('text from outside in Markdown and on a terminal', () => {
  it('escapes HTML, links, emphasis, table pipes and control characters in Markdown; intervals read as they are', () => {
    expect(mdText('<b>&</b>')).toBe('&lt;b&gt;&amp;&lt;/b&gt;');
    expect(mdText('[a](http://x) ![b](y) [c][d] [e]: z')).toBe('[a\\](http://x) ![b\\](y) [c\\][d] [e\\]: z');
    expect(mdText('*a* _b_ `c` ~~d~~ e|f \\g')).toBe('\\*a\\* \\_b\\_ \\`c\\` \\~\\~d\\~\\~ e\\|f \\\\g');
    expect(mdText('1.2 ms [1.0 ms, 3.4 ms]')).toBe('1.2 ms [1.0 ms, 3.4 ms]');
    expect(mdText('FUNCTION_FAILED 2, my_fn_')).toBe('FUNCTION_FAILED 2, my_fn\\_');
    expect(mdText('a\nb\r\nc\td')).toBe('a b c d');
    expect(mdText('\u009b31m\u001b[0m\u202e')).toBe('\\u009b31m\\u001b[0m\\u202e');
    expect(mdText('# h', true)).toBe('\\# h');
    expect(mdText('- item', true)).toBe('\\- item');
    expect(mdText('1. item', true)).toBe('1\\. item');
    expect(mdText('[ref]: http://x', true)).toBe('\\[ref\\]: http://x');
    expect(mdText('# h')).toBe('# h');
  });

  it('shows control characters as \\uXXXX on a terminal, keeping line breaks only when asked', () => {
    expect(termText('a\u001b[2Jb\u009b1mc\rd\u0007')).toBe('a\\u001b[2Jb\\u009b1mc\\u000dd\\u0007');
    expect(termText('one\ntwo\tthree')).toBe('one\\u000atwo\\u0009three');
    expect(termText('one\ntwo\tthree\u001b', true)).toBe('one\ntwo\tthree\\u001b');
    expect(termText('µs – ✓ 中文')).toBe('µs – ✓ 中文');
  });

  it('keeps a function output, notes and machine facts inert in report.md, as report.html does', () => {
    const result = hostileResult();
    const md = renderMarkdown(result);
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(md).not.toMatch(/<img|(?<!\\)\](?=\()/);
    expect(acting(md)).toBe(false);
    expect(md).toContain('\\u009b31m');
    expect(md).not.toMatch(/^> # not a heading/m);
    expect(md).not.toMatch(/^> \[x\]:/m);
    const html = renderHtml(result);
    expect(html).not.toContain('<img src=x');
    expect(html).toContain('&lt;img src=x onerror=alert(1)&gt;');
  });

  it('keeps them inert in the terminal summary and the comparison', () => {
    const result = hostileResult();
    const text = benchSummary(result, { 'report.md': 'out/report.md' });
    expect(text).toContain('<img src=x'); // a terminal shows HTML as text
    expect(acting(text)).toBe(false);
    expect(text).toContain('\\u001b]0;owned\\u0007');
    const comparison: RunComparison = {
      a: { dir: 'a<b>', startedAt: result.startedAt, interrupted: false, records: 1 },
      b: { dir: 'b', startedAt: result.startedAt, interrupted: false, records: 1 },
      rows: [],
      onlyA: [`fib(${JSON.stringify(HOSTILE)}) wasm cold`],
      onlyB: [],
      notes: [HOSTILE],
      covers: 'what the intervals cover',
    };
    const md = compareMarkdown(comparison);
    expect(md).toContain('a&lt;b&gt;');
    expect(md).not.toMatch(/<img|(?<!\\)\](?=\()/);
    expect(acting(md)).toBe(false);
  });
});
