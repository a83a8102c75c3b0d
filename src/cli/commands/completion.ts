/** `nebula completion bash|zsh`: a shell completion script made from the commands' own flag and argument lists. */
import { BUILTIN_NAMES } from '../../builtins.js';
import { meterDescriptors } from '../../meters/registry.js';
import { runtimeKinds } from '../../runtimes/registry.js';
import { INVOCATION_MODES } from '../../types.js';
import { CliError, parse, type Command } from '../args.js';

/** Flags whose value is a file or folder, and flags with a fixed set of values. */
const FILE_FLAGS = ['config', 'out', 'export-csv', 'markdown', 'html'];
const values = (): Record<string, readonly string[]> => ({
  runtimes: runtimeKinds(),
  runtime: runtimeKinds(),
  'baseline-runtime': runtimeKinds(),
  modes: INVOCATION_MODES,
  mode: INVOCATION_MODES,
  functions: BUILTIN_NAMES,
  order: ['interleaved', 'shuffled'],
  meter: [...meterDescriptors().map((d) => d.usage.replace(/:\/\/.*$/, '://')), 'none'],
  'keep-warm': ['off', 'on'],
});
const SHELLS = ['bash', 'zsh'] as const;

const flagsOf = (c: Command) => [...Object.keys(c.options), 'help'].map((f) => `--${f}`);
const valuedFlagsOf = (c: Command) =>
  Object.entries(c.options)
    .filter(([, o]) => o.type === 'string')
    .map(([f]) => `--${f}`);
/** A command's positionals as words for the bash script: function, folder, text or `words:a,b`. */
const kindsOf = (c: Command) =>
  (c.positionals ?? []).map((p) => (typeof p === 'string' ? p : `words:${p.join(',')}`)).join(' ');

function bash(commands: Command[]): string {
  const names = commands.map((c) => c.name);
  const cases = commands
    .map(
      (c) =>
        `    ${c.name}) opts="${flagsOf(c).join(' ')}"; valued="${valuedFlagsOf(c).join(' ')}"; kinds="${kindsOf(c)}" ;;`,
    )
    .join('\n');
  const prevCases = Object.entries(values())
    .map(([flag, vs]) => `    --${flag}) COMPREPLY=( $(compgen -W "${vs.join(' ')}" -- "$cur") ); return ;;`)
    .join('\n');
  return `# bash completion for nebula. Load it with: eval "$(nebula completion bash)"
_nebula() {
  local cur prev opts valued kinds pos i w kind
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${names.join(' ')} help --help --version" -- "$cur") )
    return
  fi
  case "$prev" in
${prevCases}
    ${FILE_FLAGS.map((f) => `--${f}`).join('|')}) compopt -o filenames 2>/dev/null; COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
    help) opts=""; valued=""; kinds="words:${names.join(',')}" ;;
    *) return ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); return; fi
  # Which positional is being typed: words after the command that are neither flags nor flag values.
  pos=0
  for ((i=2; i<COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    [[ " $valued " == *" \${COMP_WORDS[i-1]} "* ]] && continue
    pos=$((pos+1))
  done
  # Each positional's kind: function, folder, text, or words:a,b (one of those words).
  set -- $kinds
  kind=""
  [ "$pos" -lt "$#" ] && shift "$pos" && kind="$1"
  case "$kind" in
    function) COMPREPLY=( $(compgen -W "${BUILTIN_NAMES.join(' ')}" -- "$cur") ) ;;
    folder) compopt -o filenames 2>/dev/null; COMPREPLY=( $(compgen -d -- "$cur") ) ;;
    words:*) kind="\${kind#words:}"; COMPREPLY=( $(compgen -W "\${kind//,/ }" -- "$cur") ) ;;
    *) COMPREPLY=() ;;
  esac
}
complete -F _nebula nebula
`;
}

function zsh(commands: Command[]): string {
  const known = values();
  const q = (t: string) => t.replace(/'/g, `'\\''`).replace(/[[\]:]/g, '\\$&');
  const positional = (p: NonNullable<Command['positionals']>[number], i: number) =>
    p === 'function'
      ? `'${i + 1}:function:(${BUILTIN_NAMES.join(' ')})'`
      : p === 'folder'
        ? `'${i + 1}:folder:_files -/'`
        : p === 'text'
          ? `'${i + 1}:input: '`
          : `'${i + 1}:value:(${p.join(' ')})'`;
  const spec = (c: Command) =>
    Object.entries(c.options)
      .map(([flag, o]) => {
        const many = o.multiple ? '*' : '';
        if (o.type === 'boolean') return `'${many}--${flag}'`;
        const action = known[flag] ? `(${known[flag].join(' ')})` : FILE_FLAGS.includes(flag) ? '_files' : ' ';
        return `'${many}--${flag}=:${flag}:${action}'`;
      })
      .concat(["'(-h --help)'{-h,--help}", ...(c.positionals ?? []).map(positional)])
      .join(' ');
  return `#compdef nebula
# zsh completion for nebula. Load it with: eval "$(nebula completion zsh)" (after compinit)
_nebula() {
  local -a commands
  commands=(${commands.map((c) => `'${c.name}:${q(c.summary)}'`).join(' ')} 'help:show the options of a command')
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${commands.map((c) => `    ${c.name}) _arguments -s ${spec(c)} ;;`).join('\n')}
    help) _describe 'command' commands ;;
  esac
}
compdef _nebula nebula
`;
}

const usage = `Usage: nebula completion bash|zsh

Prints a completion script for your shell. Load it for this session:
  eval "$(nebula completion bash)"      # or zsh (after compinit)
or save it where your shell loads completions from.`;

/** The completion command; `all` gives it the commands to complete (itself included). */
export function completionCommand(all: () => Command[]): Command {
  const command: Command = {
    name: 'completion',
    summary: 'print a shell completion script (bash or zsh)',
    usage,
    options: {},
    positionals: [SHELLS],
    async run(argv) {
      const { values, positionals } = parse(argv, 'completion', {});
      if (values.help) {
        console.log(usage);
        return 0;
      }
      const shell = positionals[0];
      if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh'))
        throw new CliError(`nebula completion takes bash or zsh, got ${shell ? `"${shell}"` : 'nothing'}.`);
      process.stdout.write(shell === 'bash' ? bash(all()) : zsh(all()));
      return 0;
    },
  };
  return command;
}
