/** ping / ping -6 from inside a lab namespace, bounded by a deadline, with the outcome parsed. */
import { runCommand, inNamespace } from './command.js';

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
