/** ping / ping -6 from inside a lab namespace, bounded by a deadline, with the outcome parsed. */
import { runCommand, inNamespace, sleep } from './command.js';

export interface PingOptions {
  /** Replies wanted. Default 4. */
  count?: number;
  /** ping gives up after this many seconds (-w). Default 10. */
  deadlineSeconds?: number;
  /** Seconds between requests (-i). Default 0.2. */
  intervalSeconds?: number;
}

export interface PingResult {
  readonly namespace: string;
  readonly target: string;
  readonly transmitted: number;
  readonly received: number;
  /** Average round-trip time, or null without replies. */
  readonly averageRttMs: number | null;
  /** All `count` replies arrived before the deadline. */
  readonly ok: boolean;
}

/**
 * Pings `target` from `namespace` until `count` replies arrive or the deadline passes (early
 * losses, e.g. while SAs come up, are tolerated as long as `count` replies arrive in time).
 */
export async function pingFrom(namespace: string, target: string, options: PingOptions = {}): Promise<PingResult> {
  const count = options.count ?? 4;
  const deadline = options.deadlineSeconds ?? 10;
  const argv = ['ping', target.includes(':') ? '-6' : '-4', '-n', '-c', String(count), '-i', String(options.intervalSeconds ?? 0.2), '-W', '1', '-w', String(deadline), target];
  const { code, stdout } = await runCommand(inNamespace(namespace, argv), { allowFailure: true, timeoutMs: (deadline + 5) * 1000 });
  const totals = /(\d+) packets transmitted, (\d+) received/.exec(stdout);
  const rtt = /= [\d.]+\/([\d.]+)\//.exec(stdout);
  const received = totals === null ? 0 : Number(totals[2]);
  return {
    namespace,
    target,
    transmitted: totals === null ? 0 : Number(totals[1]),
    received,
    averageRttMs: rtt === null ? null : Number(rtt[1]),
    ok: code === 0 && received >= count,
  };
}

/** Echo Requests the kernel of `namespace` has received (RFC 4293 icmpStatsInEchos of IPv6, from /proc/net/snmp6). */
export async function echoRequestsAt(namespace: string): Promise<number> {
  const { stdout } = await runCommand(inNamespace(namespace, ['cat', '/proc/net/snmp6']));
  const match = /^Icmp6InEchos\s+(\d+)$/m.exec(stdout);
  if (match === null) throw new Error(`no Icmp6InEchos in /proc/net/snmp6 of ${namespace}`);
  return Number(match[1]);
}

/** echoRequestsAt once it reaches `count`, or when `timeoutMs` (default 3000) ran out (polled every 50 ms). */
export async function echoRequestsReaching(namespace: string, count: number, timeoutMs = 3000): Promise<number> {
  let now = await echoRequestsAt(namespace);
  for (let waited = 0; now < count && waited < timeoutMs; waited += 50) {
    await sleep(50);
    now = await echoRequestsAt(namespace);
  }
  return now;
}
