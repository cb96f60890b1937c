/** The `redblack` command line. */
import { runConfigCheck } from './config-check.js';
import { runHostStackRules } from './host-stack-rules.js';
import { collectInfo, formatInfo } from './info.js';
import { CliUsageError } from './options.js';
import { runDaemon } from './run.js';
import { printStatus } from './status.js';

const USAGE = `usage: redblack <command> [options]
commands:
  info [--json]                                 version, AEAD backend, CPU crypto features, preferred ESP proposals
  config check FILE                             validate a configuration file
  config host-stack-rules FILE                  print the nft rules that keep the host stack off its NICs
                                                (for the boot: ... | nft -f -)
  run --config FILE [--status-socket PATH] [--busy-poll] [--crypto-thread on|off] [--rx-ring v2|v3]
      [--host-stack isolated|shared]
                                                run the appliance (--busy-poll: poll the NICs, burning a core;
                                                --crypto-thread: AEAD on a second core, default on with 4+ CPUs;
                                                --rx-ring: v2 (default) per-frame receive ring, v3 block ring,
                                                cheaper per frame but up to 1 ms late per hop;
                                                --host-stack: isolated (default) keeps the host's own network
                                                stack off red and black with nft netdev rules, also after the
                                                appliance stops; shared leaves them to it as well)
  status [--socket PATH | --name NAME]          SAs, counters and drops of a running appliance`;

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'info': {
      const report = collectInfo();
      console.log(rest.includes('--json') ? JSON.stringify(report) : formatInfo(report));
      return 0;
    }
    case 'config':
      if (rest[0] === 'check') return runConfigCheck(rest.slice(1));
      if (rest[0] === 'host-stack-rules') return runHostStackRules(rest.slice(1));
      throw new CliUsageError(`unknown config subcommand "${rest[0] ?? ''}": use "config check FILE" or "config host-stack-rules FILE"`);
    case 'run':
      return runDaemon(rest);
    case 'status':
      return printStatus(rest);
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      throw new CliUsageError(`unknown command "${command}"`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code !== 0) process.exitCode = code;
  },
  (e: unknown) => {
    if (e instanceof CliUsageError) {
      console.error(`redblack: ${e.message}\n${USAGE}`);
      process.exitCode = 2;
    } else {
      console.error(`redblack: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
      process.exitCode = 1;
    }
  },
);
