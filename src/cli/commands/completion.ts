/** `nebula completion bash|zsh`: a shell completion script made from the commands' own flag lists. */
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
});

const flagsOf = (c: Command) => [...Object.keys(c.options), 'help'].map((f) => `--${f}`);

function bash(commands: Command[]): string {
  const cases = commands.map((c) => `    ${c.name}) opts="${flagsOf(c).join(' ')}" ;;`).join('\n');
  const prevCases = Object.entries(values())
    .map(([flag, vs]) => `    --${flag}) COMPREPLY=( $(compgen -W "${vs.join(' ')}" -- "$cur") ); return ;;`)
    .join('\n');
  return `# bash completion for nebula. Load it with: eval "$(nebula completion bash)"
_nebula() {
  local cur prev opts
  cur="\${COMP_WORDS[COMP_CWORD]}"
  prev="\${COMP_WORDS[COMP_CWORD-1]}"
  if [ "$COMP_CWORD" -eq 1 ]; then
    COMPREPLY=( $(compgen -W "${commands.map((c) => c.name).join(' ')} --help --version" -- "$cur") )
    return
  fi
  case "$prev" in
${prevCases}
    ${FILE_FLAGS.map((f) => `--${f}`).join('|')}) COMPREPLY=( $(compgen -f -- "$cur") ); return ;;
  esac
  case "\${COMP_WORDS[1]}" in
${cases}
    completion) COMPREPLY=( $(compgen -W "bash zsh" -- "$cur") ); return ;;
    *) opts="" ;;
  esac
  if [[ "$cur" == -* ]]; then COMPREPLY=( $(compgen -W "$opts" -- "$cur") ); else COMPREPLY=( $(compgen -f -- "$cur") ); fi
}
complete -o default -F _nebula nebula
`;
}

function zsh(commands: Command[]): string {
  const known = values();
  const q = (t: string) => t.replace(/'/g, `'\\''`).replace(/[[\]:]/g, '\\$&');
  const spec = (c: Command) =>
    Object.entries(c.options)
      .map(([flag, o]) => {
        const many = o.multiple ? '*' : '';
        if (o.type === 'boolean') return `'${many}--${flag}'`;
        const action = known[flag] ? `(${known[flag].join(' ')})` : FILE_FLAGS.includes(flag) ? '_files' : ' ';
        return `'${many}--${flag}=:${flag}:${action}'`;
      })
      .concat(["'(-h --help)'{-h,--help}", "'*:file:_files'"])
      .join(' ');
  return `#compdef nebula
# zsh completion for nebula. Load it with: eval "$(nebula completion zsh)" (after compinit)
_nebula() {
  local -a commands
  commands=(${commands.map((c) => `'${c.name}:${q(c.summary)}'`).join(' ')})
  if (( CURRENT == 2 )); then
    _describe 'command' commands
    return
  fi
  local cmd=$words[2]
  shift words
  (( CURRENT-- ))
  case $cmd in
${commands.map((c) => `    ${c.name}) _arguments -s ${spec(c)} ;;`).join('\n')}
    completion) _values 'shell' bash zsh ;;
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
    async run(argv) {
      const { values, positionals } = parse(argv, 'completion', {});
      if (values.help) {
        console.log(usage);
        return 0;
      }
      const shell = positionals[0];
      if (positionals.length !== 1 || (shell !== 'bash' && shell !== 'zsh'))
        throw new CliError(`nebula completion takes bash or zsh, got ${shell ? `"${shell}"` : 'nothing'}.`);
      const commands = all().filter((c) => c.name !== 'completion');
      process.stdout.write(shell === 'bash' ? bash(commands) : zsh(commands));
      return 0;
    },
  };
  return command;
}
