#!/usr/bin/env node
/** The `nebula` command. PLACEHOLDER: the Experiments issue builds the commands. */
console.error('nebula: the CLI is not implemented yet');
process.exitCode = 1;
