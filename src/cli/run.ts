/**
 * `redblack run --config FILE [--status-socket PATH] [--busy-poll] [--crypto-thread on|off] [--rx-ring v2|v3]
 * [--host-stack isolated|shared]`: the appliance daemon.
 */
import { ConfigError, formatConfigIssue } from '../config/config-error.js';
import { loadConfigFile } from '../config/load-config.js';
import { Appliance } from '../daemon/appliance.js';
import { RX_RINGS } from '../io/frame-port.js';
import { HOST_STACK_MODES } from '../io/host-stack-isolation.js';
import { defaultStatusSocket, StatusServer } from '../daemon/status-server.js';
import { choiceOption, CliUsageError, optionValue } from './options.js';

/** --crypto-thread on|off, or undefined (the appliance decides by the CPU count). */
function cryptoThreadOption(args: readonly string[]): boolean | undefined {
  const value = choiceOption(args, '--crypto-thread', ['on', 'off']);
  return value === undefined ? undefined : value === 'on';
}

export async function runDaemon(args: string[]): Promise<number> {
  const configPath = optionValue(args, '--config');
  if (configPath === undefined) throw new CliUsageError('run needs --config FILE');
  let loaded;
  try {
    loaded = loadConfigFile(configPath);
  } catch (e) {
    if (!(e instanceof ConfigError)) throw e;
    for (const issue of e.issues) console.error(formatConfigIssue(configPath, issue));
    return 1;
  }
  const { config, warnings } = loaded;
  for (const w of warnings) console.error(formatConfigIssue(configPath, w, 'warning: '));
  const appliance = Appliance.start(config, {
    busyPoll: args.includes('--busy-poll'),
    cryptoThread: cryptoThreadOption(args),
    rxRing: choiceOption(args, '--rx-ring', RX_RINGS),
    hostStack: choiceOption(args, '--host-stack', HOST_STACK_MODES),
  });
  const socketPath = optionValue(args, '--status-socket') ?? defaultStatusSocket(config.name);
  const status = await StatusServer.listen(socketPath, () => appliance.status());
  const stop = async (signal: string) => {
    console.error(`${config.name}: ${signal}: stopping`);
    appliance.stop();
    config.dispose();
    await status.close();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop('SIGTERM'));
  process.once('SIGINT', () => void stop('SIGINT'));
  return 0;
}
