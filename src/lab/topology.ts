/**
 * The five-namespace lab: red-a | rb-a | wan | rb-b | red-b, joined by veths.
 *
 *   red-a:eth0 ── rb-a:red   rb-a:black ── wan:a ─┐
 *                                                  br0 (wan, capture point)
 *   red-b:eth0 ── rb-b:red   rb-b:black ── wan:b ─┘
 *
 * Gateways of kind 'appliance' (redblack) own their addresses themselves over AF_PACKET: their
 * namespaces hold no kernel addresses and IPv6 is disabled there (and in wan) before any link comes
 * up, so the kernel never puts RS, MLD or DAD on the wire. Gateways of kind 'kernel' (the
 * strongSwan baseline) get the same addresses as kernel addresses and forward IPv6.
 * Every name carries a prefix so tests and benchmarks do not collide with a running lab.
 * buildVethNamespace is the same recipe at its smallest: one namespace holding one veth pair,
 * for the raw frame I/O test and benchmark.
 */
import { endProcesses, inNamespace, LabCommandError, runCommand } from './command.js';

export interface LabSitePlan {
  /** The red LAN prefix and its length. */
  readonly lan6: string;
  readonly lan6Length: number;
  /** The gateway's red address: the red hosts' default router. */
  readonly router6: string;
  /** The red host's IPv6 address. */
  readonly host6: string;
  /** The red host's IPv4 address on the bypass path (policy BYPASS, bridged untouched). */
  readonly host4: string;
  /** The gateway's black IPv4 address: the tunnel endpoint (TEP). */
  readonly tep4: string;
}

export interface LabAddressPlan {
  readonly mtu: number;
  /** Length of the black segment's IPv4 prefix (192.0.2.0/24). */
  readonly blackPrefixLength: number;
  /** The IPv4 prefix the red hosts share across the bypass path. */
  readonly bypass4: string;
  readonly bypass4Length: number;
  readonly a: LabSitePlan;
  readonly b: LabSitePlan;
}

/** The lab's addressing plan (documentation prefixes only: RFC 5737, RFC 3849). */
export const LAB_ADDRESSES: LabAddressPlan = Object.freeze({
  mtu: 1500,
  blackPrefixLength: 24,
  bypass4: '198.51.100.0',
  bypass4Length: 24,
  a: Object.freeze({
    lan6: '2001:db8:a::',
    lan6Length: 64,
    router6: '2001:db8:a::1',
    host6: '2001:db8:a::10',
    host4: '198.51.100.10',
    tep4: '192.0.2.1',
  }),
  b: Object.freeze({
    lan6: '2001:db8:b::',
    lan6Length: 64,
    router6: '2001:db8:b::1',
    host6: '2001:db8:b::10',
    host4: '198.51.100.20',
    tep4: '192.0.2.2',
  }),
});

/** Interface names inside the namespaces (the same in every lab, whatever the prefix). */
export const LAB_INTERFACES = Object.freeze({
  /** The red host's only interface. */
  host: 'eth0',
  /** The gateway's interface towards its red host. */
  red: 'red',
  /** The gateway's interface towards wan. */
  black: 'black',
  /** wan's ports towards rb-a and rb-b, and the bridge joining them. */
  wanA: 'a',
  wanB: 'b',
  bridge: 'br0',
});

export type GatewayKind = 'appliance' | 'kernel';

export interface LabNamespaces {
  readonly redA: string;
  readonly rbA: string;
  readonly wan: string;
  readonly rbB: string;
  readonly redB: string;
}

export interface LabTopology {
  readonly prefix: string;
  readonly gateways: GatewayKind;
  readonly namespaces: LabNamespaces;
  readonly addresses: LabAddressPlan;
  /** False when ethtool is missing: offloads stay on and frames may exceed the MTU. */
  readonly offloadsDisabled: boolean;
}

export interface LabTopologyOptions {
  /** Prefix of every namespace name. Default DEFAULT_LAB_PREFIX. */
  prefix?: string;
  /** Default 'appliance'. */
  gateways?: GatewayKind;
}

/** The lab's own namespaces are plain red-a, rb-a, wan, rb-b, red-b; tests use a prefix. */
export const DEFAULT_LAB_PREFIX = '';

export class LabTopologyError extends Error {
  override readonly name = 'LabTopologyError';
}

const PREFIX_PATTERN = /^([a-z0-9][a-z0-9-]{0,15})?$/;

/** The namespace names for `prefix`. */
export function labNamespaces(prefix: string = DEFAULT_LAB_PREFIX): LabNamespaces {
  if (!PREFIX_PATTERN.test(prefix)) {
    throw new LabTopologyError(`lab topology: prefix "${prefix}" is invalid; use nothing, or 1 to 16 lower-case letters, digits or '-', starting with a letter or digit (e.g. "rbt-")`);
  }
  return Object.freeze({
    redA: `${prefix}red-a`,
    rbA: `${prefix}rb-a`,
    wan: `${prefix}wan`,
    rbB: `${prefix}rb-b`,
    redB: `${prefix}red-b`,
  });
}

function namespaceList(ns: LabNamespaces): string[] {
  return [ns.redA, ns.rbA, ns.wan, ns.rbB, ns.redB];
}

async function existingNamespaces(): Promise<Set<string>> {
  const { stdout } = await runCommand(['ip', 'netns', 'list']);
  return new Set(stdout.split('\n').map((line) => line.split(' ')[0]).filter((name) => name !== ''));
}

/** How long processes left in a namespace get between SIGTERM and SIGKILL. */
const LEFTOVER_PROCESS_GRACE_MS = 3000;

/**
 * Removes each of `namespaces` whatever state a previous (possibly crashed) run left: ends the
 * processes still inside it (an appliance, charon, tcpdump), each by its PID, then deletes it
 * (its veths and bridges go with it). Names that do not exist are skipped.
 */
export async function removeNamespaces(namespaces: readonly string[]): Promise<void> {
  const existing = await existingNamespaces();
  for (const namespace of namespaces) {
    if (!existing.has(namespace)) continue;
    const { stdout } = await runCommand(['ip', 'netns', 'pids', namespace], { allowFailure: true });
    const pids = stdout.split('\n').map((line) => Number.parseInt(line, 10)).filter((pid) => Number.isInteger(pid) && pid > 1 && pid !== process.pid);
    await endProcesses(pids, LEFTOVER_PROCESS_GRACE_MS);
    await runCommand(['ip', 'netns', 'del', namespace]);
  }
}

/** Removes the lab with this prefix (see removeNamespaces). Safe to call when nothing exists. */
export async function destroyLabTopology(prefix: string = DEFAULT_LAB_PREFIX): Promise<void> {
  await removeNamespaces(namespaceList(labNamespaces(prefix)));
}

async function sysctl(namespace: string, settings: readonly string[]): Promise<void> {
  await runCommand(inNamespace(namespace, ['sysctl', '-q', '-w', ...settings]));
}

/**
 * Disables IPv6 on every interface of `namespace`, so the kernel puts no RS, MLD or DAD on its
 * links. Interfaces inherit "default" when they are created: call it before any link exists.
 */
async function silenceIpv6(namespace: string): Promise<void> {
  await sysctl(namespace, ['net.ipv6.conf.all.disable_ipv6=1', 'net.ipv6.conf.default.disable_ipv6=1']);
}

async function ethtoolAvailable(): Promise<boolean> {
  const probe = await runCommand(['ethtool', '--version'], { allowFailure: true }).catch(() => null);
  return probe !== null && probe.code === 0;
}

/**
 * Frames must stay within the MTU and carry finished checksums, because the appliance reads
 * them raw: no TSO/GSO (no super-frames), no GRO (no merged frames on receive), no transmit
 * checksum offload (no frames whose checksum the "hardware" would fill in later).
 */
async function disableOffloads(namespace: string, ifname: string): Promise<void> {
  await runCommand(inNamespace(namespace, ['ethtool', '-K', ifname, 'tx', 'off', 'tso', 'off', 'gso', 'off', 'gro', 'off']));
}

async function ip(namespace: string, args: readonly string[]): Promise<void> {
  await runCommand(['ip', '-n', namespace, ...args]);
}

/**
 * Creates `namespace` (after removing one a crashed run left) holding the veth pair `ends`, both
 * up, with IPv6 off before the pair exists so the kernel sends no ND or MLD frames of its own on
 * it. On failure the namespace is removed before the error propagates.
 */
export async function buildVethNamespace(namespace: string, ends: readonly [string, string]): Promise<void> {
  await removeNamespaces([namespace]);
  try {
    await runCommand(['ip', 'netns', 'add', namespace]);
    await silenceIpv6(namespace);
    await ip(namespace, ['link', 'add', ends[0], 'type', 'veth', 'peer', 'name', ends[1]]);
    for (const end of ends) await ip(namespace, ['link', 'set', 'dev', end, 'up']);
  } catch (error) {
    await removeNamespaces([namespace]).catch(() => undefined);
    throw error;
  }
}

/**
 * Builds the lab (after removing any lab left with the same prefix). On failure the partial
 * lab is removed before the error propagates.
 */
export async function buildLabTopology(options: LabTopologyOptions = {}): Promise<LabTopology> {
  const prefix = options.prefix ?? DEFAULT_LAB_PREFIX;
  const gateways = options.gateways ?? 'appliance';
  const ns = labNamespaces(prefix);
  const plan = LAB_ADDRESSES;
  const mtu = String(plan.mtu);
  const { host, red, black, wanA, wanB, bridge } = LAB_INTERFACES;

  await destroyLabTopology(prefix);
  const offloads = await ethtoolAvailable();
  try {
    for (const name of namespaceList(ns)) await runCommand(['ip', 'netns', 'add', name]);

    // Interfaces inherit "default" when they are created, so these come before any veth exists.
    await silenceIpv6(ns.wan);
    // Red hosts: no DAD (RFC 4862 §5.4 allows DupAddrDetectTransmits = 0), so addresses work at once.
    const noDad = ['net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0'];
    await sysctl(ns.redA, noDad);
    await sysctl(ns.redB, noDad);
    // Kernel gateways keep IPv6 (red and charon's TUN need it) but black is silenced below.
    for (const gw of [ns.rbA, ns.rbB]) await (gateways === 'appliance' ? silenceIpv6(gw) : sysctl(gw, noDad));

    await ip(ns.redA, ['link', 'add', host, 'mtu', mtu, 'type', 'veth', 'peer', 'name', red, 'mtu', mtu, 'netns', ns.rbA]);
    await ip(ns.rbA, ['link', 'add', black, 'mtu', mtu, 'type', 'veth', 'peer', 'name', wanA, 'mtu', mtu, 'netns', ns.wan]);
    await ip(ns.rbB, ['link', 'add', black, 'mtu', mtu, 'type', 'veth', 'peer', 'name', wanB, 'mtu', mtu, 'netns', ns.wan]);
    await ip(ns.rbB, ['link', 'add', red, 'mtu', mtu, 'type', 'veth', 'peer', 'name', host, 'mtu', mtu, 'netns', ns.redB]);
    // A plain learning bridge: no STP, no multicast snooping (so no IGMP/MLD queries of its own).
    await ip(ns.wan, ['link', 'add', bridge, 'mtu', mtu, 'type', 'bridge', 'stp_state', '0', 'mcast_snooping', '0']);
    await ip(ns.wan, ['link', 'set', 'dev', wanA, 'master', bridge]);
    await ip(ns.wan, ['link', 'set', 'dev', wanB, 'master', bridge]);
    // Nor netfilter on bridged frames: with br_netfilter loaded, every frame crossing wan would
    // also be route-checked. The switches are per namespace and exist only with the module.
    const bridgeNetfilter = await runCommand(inNamespace(ns.wan, ['sysctl', '-n', 'net.bridge.bridge-nf-call-iptables']), { allowFailure: true });
    if (bridgeNetfilter.code === 0) {
      await sysctl(ns.wan, ['net.bridge.bridge-nf-call-iptables=0', 'net.bridge.bridge-nf-call-ip6tables=0', 'net.bridge.bridge-nf-call-arptables=0']);
    }

    if (offloads) {
      for (const [name, ifname] of [
        [ns.redA, host], [ns.rbA, red], [ns.rbA, black], [ns.wan, wanA],
        [ns.wan, wanB], [ns.rbB, black], [ns.rbB, red], [ns.redB, host],
      ] as const) {
        await disableOffloads(name, ifname);
      }
    }

    for (const [name, site] of [[ns.redA, plan.a], [ns.redB, plan.b]] as const) {
      await ip(name, ['addr', 'add', `${site.host6}/${site.lan6Length}`, 'dev', host]);
      await ip(name, ['addr', 'add', `${site.host4}/${plan.bypass4Length}`, 'dev', host]);
    }
    if (gateways === 'kernel') {
      for (const [name, site] of [[ns.rbA, plan.a], [ns.rbB, plan.b]] as const) {
        await sysctl(name, [`net.ipv6.conf.${black}.disable_ipv6=1`, 'net.ipv6.conf.all.forwarding=1']);
        await ip(name, ['addr', 'add', `${site.router6}/${site.lan6Length}`, 'dev', red]);
        await ip(name, ['addr', 'add', `${site.tep4}/${plan.blackPrefixLength}`, 'dev', black]);
      }
    }

    for (const name of namespaceList(ns)) await ip(name, ['link', 'set', 'dev', 'lo', 'up']);
    for (const [name, ifname] of [
      [ns.wan, bridge], [ns.wan, wanA], [ns.wan, wanB], [ns.rbA, red], [ns.rbA, black],
      [ns.rbB, red], [ns.rbB, black], [ns.redA, host], [ns.redB, host],
    ] as const) {
      await ip(name, ['link', 'set', 'dev', ifname, 'up']);
    }
    for (const [name, site] of [[ns.redA, plan.a], [ns.redB, plan.b]] as const) {
      await ip(name, ['-6', 'route', 'add', 'default', 'via', site.router6, 'dev', host]);
    }
  } catch (error) {
    await destroyLabTopology(prefix).catch(() => undefined);
    if (error instanceof LabCommandError) {
      throw new LabTopologyError(`lab topology "${prefix}": building failed (needs root, iproute2 and veth/bridge support): ${error.message}`);
    }
    throw error;
  }
  return Object.freeze({ prefix, gateways, namespaces: ns, addresses: plan, offloadsDisabled: offloads });
}
