/** Argument parsing for the `nebula` command (node's util.parseArgs), with errors as one clear line. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UsageError } from '../errors.js';

/** A mistake on the command line: printed as one line, exit code 2. */
export class CliError extends UsageError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'CliError';
  }
}

/** Parsed flags and positionals. */
export interface Parsed {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  values: Record<string, any>;
  positionals: string[];
}

/** Parses `argv`; a mistake is one line naming the command's --help. */
export function parse(argv: string[], options: NonNullable<ParseArgsConfig['options']>, usage: string): Parsed {
  try {
    return parseArgs({ args: argv, options: { ...options, help: { type: 'boolean', short: 'h' } }, allowPositionals: true, strict: true });
  } catch (e) {
    const first = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '.');
    const cmd = /^Usage: (nebula [\w-]+)/.exec(usage)?.[1] ?? 'nebula';
    throw new CliError(`${first} (${cmd} --help lists the options)`);
  }
}

/** The longest duration a flag takes (a Node.js timer's limit, about 24.8 days), ms. */
const MAX_DURATION_MS = 2_147_483_647;

/** "30s", "500ms", "2m", "1h", "1500" (ms) to milliseconds, from 0 to about 24.8 days. */
export function parseDuration(text: string, flag: string): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CliError(`${flag} takes a duration such as 30s, 500ms or 2m, got "${text}".`);
  const v = Number(m[1]);
  const ms = m[2] === 's' ? v * 1000 : m[2] === 'm' ? v * 60_000 : m[2] === 'h' ? v * 3_600_000 : v;
  if (!(ms <= MAX_DURATION_MS)) throw new CliError(`${flag} is at most 596h (about 24.8 days), got "${text}".`);
  return ms;
}

export function parsePositiveInt(text: string, flag: string): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 1) throw new CliError(`${flag} takes a whole number >= 1, got "${text}".`);
  return v;
}

/** `a,b,c` to a list, each checked against `allowed` when given. */
export function parseList<T extends string>(text: string, flag: string, allowed?: readonly T[]): T[] {
  const items = text.split(',').map((s) => s.trim()).filter(Boolean) as T[];
  if (!items.length) throw new CliError(`${flag} needs at least one value.`);
  if (allowed) for (const i of items) if (!allowed.includes(i)) throw new CliError(`${flag}: "${i}" is not one of ${allowed.join(', ')}.`);
  return items;
}

/** An input as typed: JSON when it parses, else the text itself. */
export function parseInput(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** A TCP port, 0 (any free one) to 65535. */
export function parsePort(text: string, flag = '--port'): number {
  const v = Number(text);
  if (!Number.isInteger(v) || v < 0 || v > 65535) throw new CliError(`${flag} takes a port from 0 to 65535, got "${text}".`);
  return v;
}
