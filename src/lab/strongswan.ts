/**
 * strongSwan as both gateways of a lab topology built with `gateways: 'kernel'`: the throughput
 * baseline and an interop reference. charon runs in rb-a and rb-b through the shared
 * `strongswan-netns.sh` (kernel-libipsec: userspace ESP over a TUN device, tunnel mode only,
 * ESP-in-UDP on 4500) with `bench/lab/strongswan-{a,b}.conf`: IKEv2 PSK, one tunnel-mode
 * CHILD_SA "net6" carrying 2001:db8:a::/64 <-> 2001:db8:b::/64 between 192.0.2.1 and 192.0.2.2.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCommand, LabCommandError } from './command.js';
import { benchLabDir, peersDir } from './paths.js';
import type { LabTopology } from './topology.js';

export const STRONGSWAN_CHILD = 'net6';

export class StrongSwanLabError extends Error {
  override readonly name = 'StrongSwanLabError';
}

export interface StrongSwanGateways {
  /** charon's PID in rb-a and in rb-b. */
  readonly pids: { readonly a: number; readonly b: number };
  /** `swanctl --list-sas` in rb-a (IKE and CHILD SAs, no key material). */
  listSas(): Promise<string>;
  /** Stops both charons by their recorded PIDs (via the script); safe to call twice. */
  stop(): Promise<void>;
}

const script = path.join(peersDir, 'strongswan-netns.sh');
const charonLog = (instance: string): string => path.join(process.env.SWNS_STATE_ROOT ?? '/tmp/strongswan-netns', instance, 'charon.log');

async function start(instance: string, swanctlConf: string): Promise<number> {
  const { stdout } = await runCommand([script, 'start', instance, '--swanctl', swanctlConf], { timeoutMs: 20_000 });
  const match = /charon pid (\d+)/.exec(stdout);
  if (match === null) throw new StrongSwanLabError(`strongSwan in ${instance}: the launcher did not report charon's PID (output: ${stdout.trim()})`);
  return Number(match[1]);
}

async function stop(instance: string): Promise<void> {
  await runCommand([script, 'stop', instance], { timeoutMs: 15_000, allowFailure: true });
}

/**
 * Starts charon in rb-b (responder) and rb-a, initiates the CHILD_SA from rb-a and waits (bounded
 * by `timeoutSeconds`) until it is installed. On failure both charons are stopped and the error
 * names the logs to read.
 */
export async function startStrongSwanGateways(topology: LabTopology, timeoutSeconds = 15): Promise<StrongSwanGateways> {
  if (topology.gateways !== 'kernel') {
    throw new StrongSwanLabError(`strongSwan lab: topology "${topology.prefix}" was built with gateways '${topology.gateways}'; build it with { gateways: 'kernel' } so rb-a and rb-b have kernel addresses`);
  }
  if (!existsSync(script)) {
    throw new StrongSwanLabError(`strongSwan lab: ${script} is missing; the shared peers directory must sit next to the project (../shared/peers)`);
  }
  if (!existsSync('/usr/lib/ipsec/charon')) {
    throw new StrongSwanLabError('strongSwan lab: /usr/lib/ipsec/charon is missing; install strongswan-charon strongswan-swanctl libcharon-extra-plugins libstrongswan-standard-plugins libstrongswan-extra-plugins');
  }
  const { rbA, rbB } = topology.namespaces;
  const swanctl = (...args: string[]): string[] => [script, 'swanctl', rbA, ...args];
  try {
    const b = await start(rbB, path.join(benchLabDir, 'strongswan-b.conf'));
    const a = await start(rbA, path.join(benchLabDir, 'strongswan-a.conf'));
    await runCommand(swanctl('--initiate', '--child', STRONGSWAN_CHILD, '--timeout', String(timeoutSeconds)), { timeoutMs: (timeoutSeconds + 5) * 1000 });
    const { stdout } = await runCommand(swanctl('--list-sas'));
    if (!new RegExp(`^\\s+${STRONGSWAN_CHILD}: #\\d+, reqid \\d+, INSTALLED, TUNNEL`, 'm').test(stdout)) {
      throw new StrongSwanLabError(`strongSwan lab: CHILD_SA ${STRONGSWAN_CHILD} is not installed after initiating; see ${charonLog(rbA)} and ${charonLog(rbB)}`);
    }
    return {
      pids: { a, b },
      listSas: async () => (await runCommand(swanctl('--list-sas'))).stdout,
      stop: async () => {
        await stop(rbA);
        await stop(rbB);
      },
    };
  } catch (error) {
    await stop(rbA);
    await stop(rbB);
    if (error instanceof LabCommandError) {
      throw new StrongSwanLabError(`strongSwan lab: ${error.message}; see ${charonLog(rbA)} and ${charonLog(rbB)}`);
    }
    throw error;
  }
}
