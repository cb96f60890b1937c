/**
 * Takes NICs away from the host's own network stack, so that only the appliance receives and sends
 * on them. One nftables table, `netdev redblack`, holds per NIC:
 *  - an ingress chain that drops every frame. The netdev ingress hook runs after the AF_PACKET taps,
 *    so the appliance's FramePorts still receive everything; the host stack sees nothing (no ESP
 *    routed and dropped, no ARP or ND answered by the kernel);
 *  - an egress chain that passes only frames marked APPLIANCE_FRAME_MARK (the FramePorts' SO_MARK)
 *    and drops the rest: IPv6 ND/MLD, ARP or any packet the host stack would send there.
 * Both count what they drop (`redblack status` shows it, see reportHostStack). The table stays when the appliance
 * stops or dies, so the host cannot send on black in clear then either (fail closed), until a
 * reboot or `nft delete table netdev redblack` (which a start with --host-stack shared runs).
 * One appliance per network namespace: a start replaces the whole table.
 * Needs nft (nftables) and nf_tables with the netdev egress hook (Linux 5.16+).
 */
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';

/** The packet mark of every frame the appliance sends (ASCII "rblk"). */
export const APPLIANCE_FRAME_MARK = 0x72626c6b;

export const HOST_STACK_TABLE = 'redblack';

/** 'isolated': the NICs are the appliance's alone (this module); 'shared': the host stack keeps using them too. */
export const HOST_STACK_MODES = ['isolated', 'shared'] as const;
export type HostStackMode = (typeof HOST_STACK_MODES)[number];

export class HostStackIsolationError extends Error {
  override readonly name = 'HostStackIsolationError';
}

/** Characters nft reads inside a quoted device name; Linux allows more (quotes), which could not be written safely. */
const NFT_DEVICE_NAME = /^[A-Za-z0-9_.@+-]{1,15}$/;

/** The chain of the k-th NIC of the table at `hook` (nft 1.0's JSON does not say which device a chain hooks). */
function chainName(k: number, hook: 'ingress' | 'egress'): string {
  return `nic${k}_${hook}`;
}

/** The nft script that replaces the table atomically (declare, delete, define: one transaction). */
export function hostStackRuleset(ifnames: readonly string[]): string {
  const lines = [`table netdev ${HOST_STACK_TABLE}`, `delete table netdev ${HOST_STACK_TABLE}`, `table netdev ${HOST_STACK_TABLE} {`];
  ifnames.forEach((ifname, k) => {
    if (!NFT_DEVICE_NAME.test(ifname)) {
      throw new HostStackIsolationError(
        `interface "${ifname}" cannot be named in an nftables rule (use letters, digits and _ . @ + -): rename it, or run the appliance with --host-stack shared`);
    }
    lines.push(
      `  chain ${chainName(k, 'ingress')} { type filter hook ingress device "${ifname}" priority -500; policy drop; counter; }`,
      `  chain ${chainName(k, 'egress')} { type filter hook egress device "${ifname}" priority -500; policy drop; meta mark ${APPLIANCE_FRAME_MARK} accept; counter; }`,
    );
  });
  lines.push('}', '');
  return lines.join('\n');
}

export interface IsolationOptions {
  /** The nft command line. Default ['nft'] (from PATH); a test runs it in a namespace: ['ip', 'netns', 'exec', NS, 'nft']. */
  readonly nft?: readonly string[];
}

/**
 * 'isolated': installs (or replaces) the table for `ifnames` in the current network namespace.
 * 'shared': removes the table an earlier isolated run left, if any (without it nothing would
 * leave: the rules would drop the frames). Throws HostStackIsolationError saying what to install
 * or fix when nft is missing (isolated only: without nft there is no table to remove) or fails.
 */
export function applyHostStackMode(mode: HostStackMode, ifnames: readonly string[], options: IsolationOptions = {}): void {
  const script = mode === 'isolated'
    ? hostStackRuleset(ifnames)
    : `table netdev ${HOST_STACK_TABLE}\ndelete table netdev ${HOST_STACK_TABLE}\n`;
  const [program, ...args] = options.nft ?? ['nft'];
  try {
    execFileSync(program, [...args, '-f', '-'], { input: script, stdio: ['pipe', 'ignore', 'pipe'], timeout: 10_000 });
  } catch (error) {
    const e = error as NodeJS.ErrnoException & { stderr?: Buffer };
    const what = mode === 'isolated'
      ? `cannot take ${ifnames.join(' and ')} from the host stack`
      : `cannot give ${ifnames.join(' and ')} back to the host stack (nft delete table netdev ${HOST_STACK_TABLE})`;
    if (e.code === 'ENOENT') {
      if (mode === 'shared') return;
      throw new HostStackIsolationError(`${what}: ${program} (nftables) is not installed; install it, or start with --host-stack shared`);
    }
    const said = nftSaid(error);
    const fix = /not permitted|permission denied/i.test(said)
      ? 'nft needs CAP_NET_ADMIN: run the appliance as root'
      : 'the kernel needs nf_tables with the netdev egress hook (Linux 5.16+)';
    throw new HostStackIsolationError(`${what}: nft failed (${said}); ${fix}, or start with --host-stack shared`);
  }
}

/** The line of a failed nft run that says why: its "Error:" line, else its first line of stderr, else the failure itself. */
function nftSaid(error: unknown): string {
  const stderr = (error as { stderr?: Buffer | string }).stderr?.toString() ?? '';
  const lines = stderr.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  return lines.find((line) => line.startsWith('Error:')) ?? lines[0] ?? (error instanceof Error ? error.message.split('\n')[0] : String(error));
}

/** What the table's rules did on one NIC, in frames: kept from the host stack (ingress), and sent by it but dropped (egress). */
export interface HostStackCounters {
  readonly kept: number;
  readonly blocked: number;
}

/** Per NIC (keyed as the caller keyed their names) its counters, or null with `error` saying why. */
export type HostStackReport<K extends string> = Record<K, HostStackCounters | null> & { readonly error?: string };

interface NftListing {
  nftables: { rule?: { chain: string; expr: { counter?: { packets: number } }[] } }[];
}

const runFile = promisify(execFile);

/**
 * What the rules did on each NIC of `nics` (a name per key, in the order the table was made
 * with), from `nft -j list table`. Never rejects: a table that cannot be read, or a NIC without its
 * chains, comes back as null with an error naming the risk.
 */
export async function reportHostStack<K extends string>(nics: Readonly<Record<K, string>>, options: IsolationOptions & { timeoutMs?: number } = {}): Promise<HostStackReport<K>> {
  const keys = Object.keys(nics) as K[];
  const none = (error: string) => Object.assign(Object.fromEntries(keys.map((key) => [key, null])), { error }) as HostStackReport<K>;
  const [program, ...args] = options.nft ?? ['nft'];
  let listing: NftListing;
  try {
    const { stdout } = await runFile(program, [...args, '-j', 'list', 'table', 'netdev', HOST_STACK_TABLE], { timeout: options.timeoutMs ?? 1000 });
    listing = JSON.parse(stdout) as NftListing;
  } catch (e) {
    return none(`cannot read nft table netdev ${HOST_STACK_TABLE} (${nftSaid(e)}): the NICs may no longer be kept from the host stack`);
  }
  const packets = new Map<string, number>();
  for (const item of listing.nftables) {
    const counter = item.rule?.expr.find((e) => e.counter !== undefined)?.counter;
    if (item.rule !== undefined && counter !== undefined) packets.set(item.rule.chain, counter.packets);
  }
  const counters = keys.map((_, k): HostStackCounters | null => {
    const kept = packets.get(chainName(k, 'ingress'));
    const blocked = packets.get(chainName(k, 'egress'));
    return kept === undefined || blocked === undefined ? null : { kept, blocked };
  });
  const missing = keys.filter((_, k) => counters[k] === null).map((key) => nics[key]);
  const report = Object.fromEntries(keys.map((key, k) => [key, counters[k]]));
  if (missing.length === 0) return report as HostStackReport<K>;
  return Object.assign(report, { error: `nft table netdev ${HOST_STACK_TABLE} has no rules for ${missing.join(' and ')}: the host stack may use it; restart the appliance` }) as HostStackReport<K>;
}
