/**
 * Text from outside (function outputs, inputs, names, error messages and stderr, notes, file
 * names) made safe to show: in Markdown, as report.html escapes it for HTML; in a terminal, with
 * no character that acts instead of showing.
 */

/**
 * Characters that act rather than show: C0 controls, DEL, C1 controls (U+009B starts a terminal
 * escape sequence as ESC [ does), line and paragraph separators, bidirectional marks, embeddings,
 * overrides and isolates (which reorder what is shown).
 */
const ACTING = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;
const ACTING_BUT_LINES = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g;

const visible = (c: string) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;

/**
 * For a terminal: every control character shown as `\uXXXX`, so an escape sequence can no longer
 * move the cursor, recolour, retitle or hide text. `lines` keeps line breaks and tabs (a message
 * with a function's stderr); otherwise the text stays on one line.
 */
export function termText(text: string, lines = false): string {
  return text.replace(lines ? ACTING_BUT_LINES : ACTING, visible);
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
