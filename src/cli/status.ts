/** `redblack status [--socket PATH | --name NAME]`: a running appliance's SAs and counters as JSON. */
import { join } from 'node:path';
import { DEFAULT_STATUS_DIR, readStatus } from '../daemon/status-server.js';
import { optionValue } from './options.js';

export async function printStatus(args: string[]): Promise<number> {
  const path = optionValue(args, '--socket') ?? join(DEFAULT_STATUS_DIR, `${optionValue(args, '--name') ?? 'redblack'}.sock`);
  console.log(JSON.stringify(await readStatus(path), null, 2));
  return 0;
}
