/**
 * `redblack config check FILE`: validates a configuration file without starting anything.
 * Prints a one-line summary and the warnings (exit 0), or every issue as `FILE:LINE: path: message`
 * (exit 1). Exit 2 for a usage error.
 */

import { ConfigError, formatConfigIssue } from '../config/config-error.js';
import { loadConfigFile } from '../config/load-config.js';

export const CONFIG_CHECK_USAGE = 'usage: redblack config check FILE';

export interface CheckOutput {
  log(line: string): void;
  error(line: string): void;
}

function count(n: number, singular: string, plural: string): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** `args` are the arguments after `config check`: the file name. Returns the exit code. */
export function runConfigCheck(args: string[], out: CheckOutput = console): number {
  if (args.length !== 1 || args[0].startsWith('-')) {
    out.error(CONFIG_CHECK_USAGE);
    return 2;
  }
  const file = args[0];
  try {
    const { config, warnings } = loadConfigFile(file);
    const manual = config.manualKeys.length;
    out.log(`ok: ${config.name}, ${count(config.spd.size, 'SPD entry', 'SPD entries')}, ${count(config.peers.length, 'peer', 'peers')}, `
      + `${count(manual, 'manual SA', 'manual SAs')}${manual > 0 ? ' (lab only)' : ''}`);
    for (const warning of warnings) out.log(formatConfigIssue(file, warning, 'warning: '));
    config.dispose();
    return 0;
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) out.error(formatConfigIssue(file, issue));
    return 1;
  }
}
