/**
 * Text from outside (function outputs, inputs, names, error messages and stderr, notes, file
 * names) made safe to show: in Markdown, as report.html escapes it for HTML; in a terminal, with
 * no character that acts instead of showing.
 */

/**
 * Characters that act rather than show: C0 controls, DEL, C1 controls (U+009B starts a terminal
 * escape sequence as ESC [ does), line and paragraph separators, bidirectional marks, embeddings,
 * overrides and isolates (which reorder what is shown). `lines`: line feed and tab show.
 */
function acts(code: number, lines: boolean): boolean {
  if (lines && (code === 0x0a || code === 0x09)) return false;
  return (
    code < 0x20 ||
    (code >= 0x7f && code <= 0x9f) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x200e ||
    code === 0x200f ||
    (code >= 0x202a && code <= 0x202e) ||
    (code >= 0x2066 && code <= 0x2069)
  );
}

/**
 * For a terminal: every control character shown as `\uXXXX`, so an escape sequence can no longer
 * move the cursor, recolour, retitle or hide text. `lines` keeps line breaks and tabs (a message
 * with a function's stderr); otherwise the text stays on one line.
 */
export function termText(text: string, lines = false): string {
  // Printable ASCII and line breaks (nearly every text) pass as they are.
  if (!/[^ -~\n\t]/.test(text)) return lines || !/[\n\t]/.test(text) ? text : escapeActing(text, lines);
  return escapeActing(text, lines);
}

function escapeActing(text: string, lines: boolean): string {
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0)!;
    out += acts(code, lines) ? `\\u${code.toString(16).padStart(4, '0')}` : ch;
  }
  return out;
}

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/**
 * For Markdown, on one line: `&`, `<`, `>` as entities (no HTML or autolink gets through, as
 * report.html escapes them), Markdown's own punctuation escaped with a backslash (no emphasis,
 * code, strike-through or table cell made from outside; a `_` inside a word, as in
 * `FUNCTION_FAILED`, makes no emphasis and stays as it is; a `]` that would close a link, image or
 * reference, so none is made, while an interval such as `[1 ms, 2 ms]` reads as it is), line
 * breaks as spaces, and the characters that act shown as `\uXXXX`. `startsLine`: the text begins
 * a line (after `> `), so a leading `#`, `-`, `+`, `=`, `[` or `1.` is escaped too and cannot
 * make a heading, a list or a link definition.
 */
export function mdText(text: string, startsLine = false): string {
  let escaped = text
    .replace(/\r\n|[\r\n\t]/g, ' ')
    .replace(/[\\`*|~]|\](?=[([:])|(?<![\p{L}\p{N}])_|_(?![\p{L}\p{N}])/gu, '\\$&')
    .replace(/[&<>]/g, (c) => ENTITIES[c]!);
  if (startsLine) escaped = escaped.replace(/^(\s*)([#+=[-])/, '$1\\$2').replace(/^(\s*\d+)([.)])/, '$1\\$2');
  return termText(escaped);
}
