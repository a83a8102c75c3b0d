import { describe, expect, it } from 'vitest';
import { jsonErrorOffset, lineColumn } from '../../src/cli/json-syntax.js';

const valid = (text: string) => {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
};

describe('where JSON text stops being JSON', () => {
  it('agrees with JSON.parse on what is JSON', () => {
    const texts = [
      '{}',
      ' [1, -2.5e3, "a\\u00e9\\n", true, false, null, {"k": [{}]}] ',
      '{"a": 1,}',
      '[01]',
      '"\\x"',
      '"tab\there"',
      '{"a" 1}',
      'nul',
      '-',
      '1.',
      '[1] 2',
      '',
      'root:x:0:0',
      '\ufeff{}',
    ];
    for (const t of texts) expect(jsonErrorOffset(t) < 0, JSON.stringify(t)).toBe(valid(t));
  });

  it('points at the first character that is wrong, or the end when the text stops early', () => {
    expect(jsonErrorOffset('{"a": 1,}')).toBe(8);
    expect(jsonErrorOffset('{\n  "a": x\n}')).toBe(9);
    expect(lineColumn('{\n  "a": x\n}', 9)).toBe('line 2, column 8');
    expect(jsonErrorOffset('{"a": [1, 2')).toBe(11);
    expect(jsonErrorOffset('[1] 2')).toBe(4);
  });
});
