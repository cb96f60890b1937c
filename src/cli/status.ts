/** `redblack status [--socket PATH | --name NAME]`: a running appliance's SAs and counters as JSON. */
import { defaultStatusSocket, readStatus } from '../daemon/status-server.js';
import { optionValue } from './options.js';

export async function printStatus(args: string[]): Promise<number> {
  const path = optionValue(args, '--socket') ?? defaultStatusSocket(optionValue(args, '--name') ?? 'redblack');
  console.log(JSON.stringify(await readStatus(path), null, 2));
  return 0;
}
