/** `nebula serve`: the REST API and web page. */
import { CliError, parse } from '../args.js';

export const usage = `Usage: nebula serve [--port 3090] [--host 127.0.0.1] [--token T]`;

export async function serve(argv: string[]): Promise<number> {
  const { values } = parse(argv, { port: { type: 'string' }, host: { type: 'string' }, token: { type: 'string' } }, usage);
  if (values.help) return void console.log(usage), 0;
  throw new CliError('nebula serve is not available in this build yet.');
}
