/**
 * Configuration of the link services of the 6in4 gateway role (RFC 4891/4213): the appliance is
 * the IPv6 router of the red LAN and an IPv4 tunnel endpoint (TEP) on black. `LinkConfig` holds
 * the NICs' MACs as the NICs report them, the gateway's addresses as the configuration loader
 * validated them (src/config/gateway-section.ts: the address rules live there only) and the link
 * layer's own tunables; `compileLinkSettings` checks the MACs and tunables all at once and returns
 * the binary `LinkSettings` the data plane uses. `compileTransparentIcmpSettings` gives the
 * transparent role, which has no link services and no address, the settings of its ICMP errors.
 */
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import { isUnicastMac, linkLocalFromMac, parseMacAddress } from './link-addresses.js';
import { MAX_MULTICAST_SOLICIT, REACHABLE_TIME_MS, RETRANS_TIMER_MS } from './neighbor-table.js';
import { DEFAULT_TTL } from '../wire/protocol.js';

export interface RouterAdvertisementConfig {
  /** Answer Router Solicitations (RFC 4861 §6.2.6). Default true. */
  answerSolicitations?: boolean;
  /** MaxRtrAdvInterval for unsolicited RAs, 4 to 1800 s (RFC 4861 §6.2.1); 0 sends none. Default 0. */
  intervalSeconds?: number;
  /** AdvDefaultLifetime: 0 (not a default router) or up to 9000 s, at least intervalSeconds. Default 1800. */
  routerLifetimeSeconds?: number;
  /** AdvValidLifetime of the prefix (RFC 4861 §6.2.1). Default 2592000 (30 days). */
  prefixValidLifetimeSeconds?: number;
  /** AdvPreferredLifetime of the prefix, at most the valid lifetime. Default 604800 (7 days). */
  prefixPreferredLifetimeSeconds?: number;
  /** AdvCurHopLimit, 0 to 255 (0: unspecified). Default DEFAULT_TTL, 64 (RFC 4861 §6.2.1: the Assigned Numbers value). */
  curHopLimit?: number;
}

export interface NeighborCacheConfig {
  /** Entries per table (IPv4 and IPv6 each), 1 to 65536. Default 256. */
  capacity?: number;
  /** Frames queued per unresolved neighbor, 1 to 64 (RFC 4861 §7.2.2). Default 3. */
  pendingFramesPerNeighbor?: number;
  /** Frames queued for all unresolved neighbors of one table, 1 to 4096. Default 64. */
  pendingFrames?: number;
  /** Time between solicitations, 100 to 60000 ms (RetransTimer). Default 1000. */
  retransmitMs?: number;
  /** Solicitations before a neighbor is given up, 1 to 10 (MAX_MULTICAST_SOLICIT). Default 3. */
  solicitations?: number;
  /** How long a confirmation counts, 1000 to 3600000 ms (ReachableTime). Default 30000. */
  reachableMs?: number;
}

/** Source address of ICMPv4 errors. */
export type Icmpv4ErrorSourceName = 'tep' | 'invoking-destination';

export interface IcmpErrorConfig {
  /** Token refill rate, 0 (no ICMP errors) to 10000 per second (RFC 4443 §2.4(f)). Default 100. */
  perSecond?: number;
  /** Bucket size, 1 to 10000. Default 10. */
  burst?: number;
  /**
   * "tep" (default): ICMPv4 errors come from the TEP address, the appliance's own address
   * (RFC 1812 §4.3.2.4). "invoking-destination": for the transparent role, where the appliance
   * owns no IPv4 address, errors carry the destination of the packet that caused them, the only
   * address the sender can route back to.
   */
  ipv4Source?: Icmpv4ErrorSourceName;
}

export interface LinkConfig {
  /** MAC of the red NIC, "02:00:5e:10:00:01". */
  redMac: string;
  /** MAC of the black NIC. */
  blackMac: string;
  /** The router's global or unique-local IPv6 address on the red LAN: 16 bytes, as validated by the config loader. */
  routerAddress: Uint8Array;
  /** Length of the red LAN prefix the router advertises (1 to 128); 64 for SLAAC (RFC 4862 §5.5.3). */
  routerPrefixLength: number;
  /** The IPv4 tunnel endpoint address on black as a u32: a host address of its subnet. */
  tepAddress: number;
  /** Length of the black subnet (1 to 32). */
  tepPrefixLength: number;
  /** IPv4 next hop (u32, on the TEP subnet) for destinations off it; without it they are unreachable. */
  ipv4NextHop?: number;
  /** IPv6 MTU inside the tunnel: RA MTU option (RFC 4861 §4.6.4) and Packet Too Big. 1280 to 9000. */
  tunnelInnerMtu: number;
  routerAdvertisements?: RouterAdvertisementConfig;
  neighborCache?: NeighborCacheConfig;
  icmpErrors?: IcmpErrorConfig;
}

export const Icmpv4ErrorSource = Object.freeze({ Tep: 0, InvokingDestination: 1 });
export type Icmpv4ErrorSource = (typeof Icmpv4ErrorSource)[keyof typeof Icmpv4ErrorSource];

/** ICMP error rate limit defaults (RFC 4443 §2.4(f)): tokens per second and bucket size. */
export const DEFAULT_ICMP_ERRORS_PER_SECOND = 100;
export const DEFAULT_ICMP_ERROR_BURST = 10;

/** `LinkSettings.ipv4NextHop` when none is configured: 0.0.0.0, which is never a next hop. */
export const NO_IPV4_NEXT_HOP = 0;

export interface LinkSettings {
  readonly redMac: number;
  readonly blackMac: number;
  readonly routerAddress: Uint8Array;
  /** fe80::/64 + modified EUI-64 of redMac (RFC 4291 App. A); the source of RAs (RFC 4861 §6.1.2). */
  readonly linkLocalAddress: Uint8Array;
  /** routerAddress with the host bits cleared. */
  readonly routerPrefix: Uint8Array;
  readonly routerPrefixLength: number;
  readonly tepAddress: number;
  readonly tepPrefixLength: number;
  /** u32, or NO_IPV4_NEXT_HOP. */
  readonly ipv4NextHop: number;
  readonly tunnelInnerMtu: number;
  readonly routerAdvertisements: Readonly<Required<RouterAdvertisementConfig>>;
  readonly neighborCache: Readonly<Required<NeighborCacheConfig>>;
  readonly icmpErrors: Readonly<{ perSecond: number; burst: number; ipv4Source: Icmpv4ErrorSource }>;
}

/**
 * What the ICMP error sender reads. The transparent role (RFC 3884 IIPtran) owns no address:
 * no router address (so no ICMPv6 errors) and ICMPv4 errors from the invoking destination.
 */
export type IcmpErrorSettings = Pick<LinkSettings, 'redMac' | 'blackMac' | 'tepAddress' | 'tepPrefixLength' | 'icmpErrors'> & {
  readonly routerAddress: Uint8Array | null;
};

export class LinkConfigError extends Error {
  override readonly name = 'LinkConfigError';
  /** One line per problem: "link.tunnelInnerMtu: must be ...". */
  readonly issues: readonly string[];

  constructor(issues: readonly string[]) {
    super(issues.join('\n'));
    this.issues = Object.freeze(issues.slice());
  }
}

const MAX_JUMBO_MTU = 9000;
const U32_MAX = 0xffff_ffff;

class Checker {
  readonly issues: string[] = [];

  constructor(private readonly path: string) {}

  add(field: string, message: string): void {
    this.issues.push(`${this.path}.${field}: ${message}`);
  }

  integer(field: string, value: unknown, min: number, max: number, fallback: number): number {
    if (value === undefined) return fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      this.add(field, `must be an integer from ${min} to ${max}, got ${JSON.stringify(value)}`);
      return fallback;
    }
    return value;
  }

  mac(field: string, value: unknown): number {
    const mac = typeof value === 'string' ? parseMacAddress(value) : null;
    if (mac === null) {
      this.add(field, `must be a MAC address like "02:00:5e:10:00:01", got ${JSON.stringify(value)}`);
      return 0;
    }
    if (!isUnicastMac(mac)) this.add(field, 'must be a unicast MAC (low bit of the first octet clear, not all zero): use the NIC\'s own address');
    return mac;
  }
}

/**
 * Checks the MACs and tunables of `config` (throws one LinkConfigError listing all problems) and
 * compiles it; the addresses are taken as the config loader validated them.
 */
export function compileLinkSettings(config: LinkConfig, path = 'link'): LinkSettings {
  const c = new Checker(path);
  const redMac = c.mac('redMac', config.redMac);
  const blackMac = c.mac('blackMac', config.blackMac);
  const routerAddress = Uint8Array.from(config.routerAddress);
  const routerPrefix = routerAddress.slice();
  for (let bit = config.routerPrefixLength; bit < 128; bit++) routerPrefix[bit >>> 3] &= ~(0x80 >>> (bit & 7));

  const tunnelInnerMtu = c.integer('tunnelInnerMtu', config.tunnelInnerMtu, IPV6_MIN_MTU, MAX_JUMBO_MTU, IPV6_MIN_MTU);

  const ra = config.routerAdvertisements ?? {};
  if (ra.answerSolicitations !== undefined && typeof ra.answerSolicitations !== 'boolean') {
    c.add('routerAdvertisements.answerSolicitations', `must be true or false, got ${JSON.stringify(ra.answerSolicitations)}`);
  }
  let intervalSeconds = c.integer('routerAdvertisements.intervalSeconds', ra.intervalSeconds, 0, 1800, 0);
  if (intervalSeconds > 0 && intervalSeconds < 4) {
    c.add('routerAdvertisements.intervalSeconds', 'must be 0 (no unsolicited RAs) or from 4 to 1800 (RFC 4861 §6.2.1)');
    intervalSeconds = 0;
  }
  const routerLifetimeSeconds = c.integer('routerAdvertisements.routerLifetimeSeconds', ra.routerLifetimeSeconds, 0, 9000, 1800);
  if (routerLifetimeSeconds !== 0 && routerLifetimeSeconds < intervalSeconds) {
    c.add('routerAdvertisements.routerLifetimeSeconds', `must be 0 or at least intervalSeconds (${intervalSeconds}) (RFC 4861 §6.2.1)`);
  }
  const prefixValidLifetimeSeconds = c.integer('routerAdvertisements.prefixValidLifetimeSeconds', ra.prefixValidLifetimeSeconds, 0, U32_MAX, 2_592_000);
  const prefixPreferredLifetimeSeconds = c.integer('routerAdvertisements.prefixPreferredLifetimeSeconds', ra.prefixPreferredLifetimeSeconds, 0, U32_MAX, 604_800);
  if (prefixPreferredLifetimeSeconds > prefixValidLifetimeSeconds) {
    c.add('routerAdvertisements.prefixPreferredLifetimeSeconds', 'must not exceed prefixValidLifetimeSeconds (hosts ignore such a prefix, RFC 4862 §5.5.3)');
  }
  const curHopLimit = c.integer('routerAdvertisements.curHopLimit', ra.curHopLimit, 0, 255, DEFAULT_TTL);

  const nc = config.neighborCache ?? {};
  const neighborCache = {
    capacity: c.integer('neighborCache.capacity', nc.capacity, 1, 65536, 256),
    pendingFramesPerNeighbor: c.integer('neighborCache.pendingFramesPerNeighbor', nc.pendingFramesPerNeighbor, 1, 64, 3),
    pendingFrames: c.integer('neighborCache.pendingFrames', nc.pendingFrames, 1, 4096, 64),
    retransmitMs: c.integer('neighborCache.retransmitMs', nc.retransmitMs, 100, 60_000, RETRANS_TIMER_MS),
    solicitations: c.integer('neighborCache.solicitations', nc.solicitations, 1, 10, MAX_MULTICAST_SOLICIT),
    reachableMs: c.integer('neighborCache.reachableMs', nc.reachableMs, 1000, 3_600_000, REACHABLE_TIME_MS),
  };

  const ie = config.icmpErrors ?? {};
  const perSecond = c.integer('icmpErrors.perSecond', ie.perSecond, 0, 10_000, DEFAULT_ICMP_ERRORS_PER_SECOND);
  const burst = c.integer('icmpErrors.burst', ie.burst, 1, 10_000, DEFAULT_ICMP_ERROR_BURST);
  let ipv4Source: Icmpv4ErrorSource = Icmpv4ErrorSource.Tep;
  if (ie.ipv4Source === 'invoking-destination') ipv4Source = Icmpv4ErrorSource.InvokingDestination;
  else if (ie.ipv4Source !== undefined && ie.ipv4Source !== 'tep') {
    c.add('icmpErrors.ipv4Source', `must be "tep" or "invoking-destination", got ${JSON.stringify(ie.ipv4Source)}`);
  }

  if (c.issues.length > 0) throw new LinkConfigError(c.issues);
  return Object.freeze({
    redMac,
    blackMac,
    routerAddress,
    linkLocalAddress: linkLocalFromMac(redMac),
    routerPrefix,
    routerPrefixLength: config.routerPrefixLength,
    tepAddress: config.tepAddress,
    tepPrefixLength: config.tepPrefixLength,
    ipv4NextHop: config.ipv4NextHop ?? NO_IPV4_NEXT_HOP,
    tunnelInnerMtu,
    routerAdvertisements: Object.freeze({
      answerSolicitations: ra.answerSolicitations ?? true,
      intervalSeconds,
      routerLifetimeSeconds,
      prefixValidLifetimeSeconds,
      prefixPreferredLifetimeSeconds,
      curHopLimit,
    }),
    neighborCache: Object.freeze(neighborCache),
    icmpErrors: Object.freeze({ perSecond, burst, ipv4Source }),
  });
}

/**
 * The ICMP error settings of the transparent role, for NICs with these MACs: errors come from
 * the NICs' MACs, ICMPv4 from the invoking destination, and no subnet broadcast is known (a
 * /32 "TEP link"), so only 224/3 and 127/8 count as not naming one node.
 */
export function compileTransparentIcmpSettings(redMac: string, blackMac: string, path = 'link'): IcmpErrorSettings {
  const c = new Checker(path);
  const settings: IcmpErrorSettings = Object.freeze({
    redMac: c.mac('redMac', redMac),
    blackMac: c.mac('blackMac', blackMac),
    routerAddress: null,
    tepAddress: 0,
    tepPrefixLength: 32,
    icmpErrors: Object.freeze({
      perSecond: DEFAULT_ICMP_ERRORS_PER_SECOND,
      burst: DEFAULT_ICMP_ERROR_BURST,
      ipv4Source: Icmpv4ErrorSource.InvokingDestination,
    }),
  });
  if (c.issues.length > 0) throw new LinkConfigError(c.issues);
  return settings;
}
