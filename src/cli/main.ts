/** The `redblack` command line. */
import { collectInfo, formatInfo } from './info.js';

const USAGE = `usage: redblack <command> [options]
commands:
  info [--json]     version, AEAD backend, CPU crypto features, preferred ESP proposals`;

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  switch (command) {
    case 'info': {
      const report = collectInfo();
      console.log(rest.includes('--json') ? JSON.stringify(report) : formatInfo(report));
      return 0;
    }
    case undefined:
    case 'help':
    case '--help':
      console.log(USAGE);
      return 0;
    default:
      console.error(`redblack: unknown command "${command}"\n${USAGE}`);
      return 2;
  }
}

process.exitCode = main(process.argv.slice(2));
