/** Argument parsing for the `nebula` command (node's util.parseArgs), with errors as one clear line. */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { MAX_TIMEOUT_MS } from '../clock.js';
import { UsageError } from '../errors.js';
import { nearest } from '../known-keys.js';

/** A mistake on the command line (`INVALID_ARGUMENT`): printed as one line, exit code 2. */
export class CliError extends UsageError {
  constructor(message: string) {
    super('INVALID_ARGUMENT', message);
    this.name = 'CliError';
  }
}

/** The options a command takes, as util.parseArgs declares them. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** One `nebula` command. */
export interface Command {
  name: string;
  /** One line for `nebula --help`. */
  summary: string;
  /** Its `--help` text, starting `Usage: nebula <name>`. */
  usage: string;
  /** Its flags (also what shell completion offers). */
  options: Options;
  /**
   * What each positional argument is, for shell completion: a function's name, a folder, free
   * text (nothing offered), or one of some words. None: the command takes no positionals.
   */
  positionals?: ReadonlyArray<'function' | 'folder' | 'text' | readonly string[]>;
  /** Runs it; resolves with the exit code. */
  run(argv: string[]): Promise<number>;
}

/** Every command also takes -h / --help. */
const HELP = { help: { type: 'boolean', short: 'h' } } as const;

/** Parsed flags, typed by the command's options (a string flag is a string, a boolean flag a boolean), and positionals. */
export type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O & typeof HELP; allowPositionals: true; strict: true }>
>;

/** Parses `argv` against `command`'s options; a mistake is one line naming the nearest flag and the command's --help. */
export function parse<O extends Options>(argv: string[], name: string, commandOptions: O): Parsed<O> {
  const options = { ...commandOptions, ...HELP };
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (e) {
    let first = (e as Error).message.split('\n')[0]!.replace(/\. To specify a positional.*$/, '.');
    const unknown = /^Unknown option '--([^'=]+)'/.exec(first)?.[1];
    const near = unknown ? nearest(unknown, Object.keys(options)) : undefined;
    if (near) first = `${first.replace(/\.$/, '')}; did you mean --${near}?`;
    throw new CliError(`${first} (nebula ${name} --help lists the options)`);
  }
}

/**
 * "30s", "500ms", "2m", "1h" to milliseconds, from 0 to about 24.8 days. A number needs its unit
 * (`--timeout 1` is refused: 1 ms or 1 s?); only `0` stands alone. `positive`: 0 is refused too.
 */
export function parseDuration(text: string, flag: string, positive = false): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!m) throw new CliError(`${flag} takes a duration such as 30s, 500ms or 2m, got "${text}".`);
  const v = Number(m[1]);
  if (m[2] === undefined && v !== 0)
    throw new CliError(
      `${flag} takes a duration with its unit (ms, s, m or h), such as ${m[1]}s or ${m[1]}ms; got "${text}".`,
    );
  if (positive && v === 0) throw new CliError(`${flag} must be longer than 0, got "${text}".`);
  const ms = m[2] === 's' ? v * 1000 : m[2] === 'm' ? v * 60_000 : m[2] === 'h' ? v * 3_600_000 : v;
  if (!(ms <= MAX_TIMEOUT_MS)) throw new CliError(`${flag} is at most 596h (about 24.8 days), got "${text}".`);
  return ms;
}

/** A whole number of at least `min` (default 1). */
export function parseWhole(text: string, flag: string, min = 1): number {
  const v = Number(text);
  if (!/^\d+$/.test(text.trim()) || !Number.isSafeInteger(v) || v < min)
    throw new CliError(`${flag} takes a whole number >= ${min}, got "${text}".`);
  return v;
}

/** `a,b,c` to a list, each checked against `allowed` when given (naming the nearest allowed value). */
export function parseList<T extends string>(text: string, flag: string, allowed?: readonly T[]): T[] {
  const items = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean) as T[];
  if (!items.length) throw new CliError(`${flag} needs at least one value.`);
  if (allowed)
    for (const i of items)
      if (!allowed.includes(i)) {
        const near = nearest(i, allowed);
        throw new CliError(
          `${flag}: "${i}" is not one of ${allowed.join(', ')}${near ? ` (did you mean ${near}?)` : ''}.`,
        );
      }
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
  if (!Number.isInteger(v) || v < 0 || v > 65535)
    throw new CliError(`${flag} takes a port from 0 to 65535, got "${text}".`);
  return v;
}
