/**
 * `redblack config host-stack-rules FILE`: prints the nft script that keeps the host's own network
 * stack off the configuration's red and black NICs, the same rules `redblack run` installs
 * (src/io/host-stack-isolation.ts), so the board's boot can install them before networking comes
 * up: `redblack config host-stack-rules FILE | nft -f -`. Exit 1 for a bad configuration, 2 for a
 * usage error.
 */
import { ConfigError, formatConfigIssue } from '../config/config-error.js';
import { loadConfigFile } from '../config/load-config.js';
import { HostStackIsolationError, hostStackRuleset } from '../io/host-stack-isolation.js';
import type { CheckOutput } from './config-check.js';

export const HOST_STACK_RULES_USAGE = 'usage: redblack config host-stack-rules FILE';

/** `args` are the arguments after `config host-stack-rules`: the file name. Returns the exit code. */
export function runHostStackRules(args: string[], out: CheckOutput = console): number {
  if (args.length !== 1 || args[0].startsWith('-')) {
    out.error(HOST_STACK_RULES_USAGE);
    return 2;
  }
  const file = args[0];
  let names: [string, string];
  try {
    const { config } = loadConfigFile(file);
    names = [config.interfaces.red.name, config.interfaces.black.name];
    config.dispose();
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) out.error(formatConfigIssue(file, issue));
    return 1;
  }
  try {
    out.log(hostStackRuleset(names).trimEnd());
    return 0;
  } catch (e) {
    if (!(e instanceof HostStackIsolationError)) throw e;
    out.error(`${file}: ${e.message}`);
    return 1;
  }
}
