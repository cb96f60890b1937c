/**
 * Neighbor Discovery (RFC 4861) for the router on the red LAN:
 *  - answers Neighbor Solicitations for the router and link-local addresses (§7.2.4) and defends
 *    them against Duplicate Address Detection probes (RFC 4862 §5.4.3);
 *  - resolves next hops with multicast NS to the solicited-node group (§7.2.2) and unicast probes;
 *  - learns link-layer addresses from NS, NA and RS (§7.2.3, §7.2.5, §6.2.6);
 *  - sends Router Advertisements (§6.2) with the prefix and the tunnel's inner MTU, in answer to
 *    Router Solicitations (delayed, rate limited, §6.2.6) and, when configured, periodically (§6.2.4).
 * Messages are validated by wire/ndp (§6.1, §7.1); invalid ones are counted and dropped.
 */
import { DropReason, type DropCounters } from '../dataplane/drop-reason.js';
import { readU48 } from '../wire/bytes.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { IPV6_ADDRESS_BYTES, isIpv6LinkLocal, isIpv6Multicast, isIpv6Unspecified } from '../wire/ipv6.js';
import {
  NA_FLAG_OVERRIDE, NA_FLAG_ROUTER, NA_FLAG_SOLICITED, NdpMessage, NdpOption, NDP_HOP_LIMIT, PREFIX_FLAG_AUTONOMOUS,
  PREFIX_FLAG_ON_LINK, parseNdp, writeLinkLayerOption, writeMtuOption, writeNeighborAdvertisement,
  writeNeighborSolicitation, writePrefixOption, writeRouterAdvertisement,
} from '../wire/ndp.js';
import { WireStatus } from '../wire/status.js';
import { Icmpv6FrameBuilder } from './icmpv6-frame-builder.js';
import {
  ALL_NODES, multicastMac, ownedIpv6, writeSolicitedNodeAddress,
} from './link-addresses.js';
import type { LinkSettings } from './link-config.js';
import { Ipv6NeighborTable, neighborTableOptions, type NeighborSend, type NeighborSolicitor } from './neighbor-table.js';
import type { ReceivedIcmpv6 } from './received-icmpv6.js';
import type { LinkTransmitQueue } from './transmit-queue.js';

/** RFC 4861 §10 router constants. */
const MAX_RA_DELAY_TIME_MS = 500;
const MIN_DELAY_BETWEEN_RAS_MS = 3000;
const MAX_INITIAL_RTR_ADVERT_INTERVAL_MS = 16_000;
const MAX_INITIAL_RTR_ADVERTISEMENTS = 3;
/** SLAAC forms addresses only from /64 prefixes on Ethernet (RFC 4862 §5.5.3 (d), RFC 2464 §4). */
const SLAAC_PREFIX_LENGTH = 64;

export class NeighborDiscoveryCounters {
  solicitationsAnswered = 0;
  /** DAD probes for an owned address, answered to all-nodes (RFC 4862 §5.4.3). */
  duplicateAddressProbes = 0;
  /** NAs from another node for an owned address: a duplicate address on the LAN. */
  duplicateAddresses = 0;
  advertisementsReceived = 0;
  routerSolicitations = 0;
  routerAdvertisementsSent = 0;
  /** RAs from another router on the red LAN (rogue or misconfigured). */
  foreignRouterAdvertisements = 0;
  solicitationsSent = 0;
  /** NDP messages not received with hop limit 255 (§6.1, §7.1). */
  badHopLimit = 0;
  /** Other NDP validation failures (§6.1, §7.1). */
  invalid = 0;
  /** NS for a target the router does not own. */
  notForUs = 0;
}

export interface NeighborDiscoveryOptions {
  /** Uniform [0, 1) source for the RA delays. Default Math.random. */
  random?: () => number;
}

export class NeighborDiscovery implements NeighborSolicitor {
  readonly counters = new NeighborDiscoveryCounters();
  readonly neighbors: Ipv6NeighborTable;
  private readonly ndp = new NdpMessage();
  private readonly builder: Icmpv6FrameBuilder;
  private readonly random: () => number;
  private readonly target = new Uint8Array(IPV6_ADDRESS_BYTES);
  private readonly solicitedNode = new Uint8Array(IPV6_ADDRESS_BYTES);
  /** When the next multicast RA goes out (answer or periodic); Infinity for none. */
  private nextRa = Number.POSITIVE_INFINITY;
  private lastRa = Number.NEGATIVE_INFINITY;
  private initialRasLeft = 0;

  constructor(private readonly settings: LinkSettings, transmit: LinkTransmitQueue, drops: DropCounters, options: NeighborDiscoveryOptions = {}) {
    this.neighbors = new Ipv6NeighborTable(
      neighborTableOptions(settings, transmit),
      transmit,
      drops,
    );
    this.neighbors.attach(this);
    this.builder = new Icmpv6FrameBuilder(transmit, settings.redMac);
    this.random = options.random ?? Math.random;
  }

  /** Starts periodic RAs when configured, the first right away (RFC 4861 §6.2.4). */
  start(now: number): void {
    if (this.settings.routerAdvertisements.intervalSeconds === 0) return;
    this.initialRasLeft = MAX_INITIAL_RTR_ADVERTISEMENTS;
    this.nextRa = now;
  }

  /** Sends a due RA and runs the neighbor timers. */
  poll(now: number): void {
    if (now >= this.nextRa) {
      this.lastRa = now;
      this.nextRa = this.nextPeriodicRa(now);
      this.advertiseRouter();
    }
    this.neighbors.poll(now);
  }

  /**
   * Handles an RS, RA, NS or NA addressed to the router (`m` from parseReceivedIcmpv6). Returns
   * -1 when consumed, else the DropReason to count.
   */
  receive(bytes: Uint8Array, m: ReceivedIcmpv6, now: number): number {
    const ndp = this.ndp;
    const status = parseNdp(bytes, m.offset, m.length, m.ipv6, ndp);
    if (status !== WireStatus.Ok) {
      if (status === WireStatus.BadHopLimit) this.counters.badHopLimit++;
      else this.counters.invalid++;
      return status === WireStatus.UnsupportedType ? DropReason.Unsupported : DropReason.Malformed;
    }
    const src = m.ipv6.srcOffset;
    // A multicast source names no node to answer or cache (RFC 4291 §2.7).
    if (isIpv6Multicast(bytes, src)) {
      this.counters.invalid++;
      return DropReason.Malformed;
    }
    const sourceMac = ndp.sourceMacOffset < 0 ? -1 : readU48(bytes, ndp.sourceMacOffset);
    switch (ndp.type) {
      case Icmpv6Type.NeighborSolicitation: {
        const owned = ownedIpv6(this.settings, bytes, ndp.targetOffset);
        if (owned === null) {
          this.counters.notForUs++;
          return -1;
        }
        if (isIpv6Unspecified(bytes, src)) {
          // §7.2.4: a DAD probe is answered to all-nodes with S clear.
          this.counters.duplicateAddressProbes++;
          this.advertiseNeighbor(multicastMac(ALL_NODES, 0), owned, ALL_NODES, 0, NA_FLAG_ROUTER | NA_FLAG_OVERRIDE);
          return -1;
        }
        if (sourceMac >= 0) this.neighbors.learn(bytes, src, sourceMac, now);
        // §7.2.4: unicast to the solicitor, at its source link-layer address (else the frame's sender).
        const dstMac = sourceMac >= 0 ? sourceMac : readU48(bytes, m.ethernet.srcOffset);
        if (this.advertiseNeighbor(dstMac, owned, bytes, src, NA_FLAG_ROUTER | NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE)) {
          this.counters.solicitationsAnswered++;
        }
        return -1;
      }
      case Icmpv6Type.NeighborAdvertisement: {
        this.counters.advertisementsReceived++;
        if (ownedIpv6(this.settings, bytes, ndp.targetOffset) !== null) {
          this.counters.duplicateAddresses++;
          return -1;
        }
        const targetMac = ndp.targetMacOffset < 0 ? -1 : readU48(bytes, ndp.targetMacOffset);
        const flags = ndp.flags;
        this.neighbors.confirm(bytes, ndp.targetOffset, targetMac, (flags & NA_FLAG_SOLICITED) !== 0, (flags & NA_FLAG_OVERRIDE) !== 0, now);
        return -1;
      }
      case Icmpv6Type.RouterSolicitation:
        this.counters.routerSolicitations++;
        if (sourceMac >= 0) this.neighbors.learn(bytes, src, sourceMac, now);
        if (this.settings.routerAdvertisements.answerSolicitations) this.scheduleSolicitedRa(now);
        return -1;
      default:
        // Another router's RA: routers do not configure from RAs (§6.2.7 only suggests logging).
        this.counters.foreignRouterAdvertisements++;
        return -1;
    }
  }

  /**
   * Addresses the frame at [start, start + length) to the on-link IPv6 next hop at
   * address[addressOff] (the destination, or a router on red), or queues it while resolving.
   */
  resolve(bytes: Uint8Array, start: number, length: number, address: Uint8Array, addressOff: number, now: number): NeighborSend {
    return this.neighbors.send(bytes, start, length, address, addressOff, now);
  }

  /**
   * NeighborSolicitor: NS with our link-layer address for an entry, multicast to its solicited-node
   * group (§7.2.2) or unicast to the cached MAC (§7.3.3). The source is the owned address of the
   * target's scope: link-local for link-local targets, else the router address.
   */
  solicit(entry: number, unicastMac: number): void {
    const target = this.target;
    this.neighbors.writeAddress(entry, target, 0);
    const source = isIpv6LinkLocal(target, 0) ? this.settings.linkLocalAddress : this.settings.routerAddress;
    let dst = target;
    let dstMac = unicastMac;
    if (unicastMac < 0) {
      writeSolicitedNodeAddress(this.solicitedNode, 0, target, 0);
      dst = this.solicitedNode;
      dstMac = multicastMac(dst, 0);
    }
    const bytes = this.builder.bytes;
    const off = this.builder.begin(dstMac, source, 0, dst, 0, NDP_HOP_LIMIT);
    if (off < 0) return;
    let length = writeNeighborSolicitation(bytes, off, target, 0);
    length += writeLinkLayerOption(bytes, off + length, NdpOption.SourceLinkLayerAddress, this.settings.redMac);
    this.builder.finish(length);
    this.counters.solicitationsSent++;
  }

  /** §6.2.6: a multicast answer after a random delay up to MAX_RA_DELAY_TIME, at most one per MIN_DELAY_BETWEEN_RAS. */
  private scheduleSolicitedRa(now: number): void {
    const at = Math.max(now + this.random() * MAX_RA_DELAY_TIME_MS, this.lastRa + MIN_DELAY_BETWEEN_RAS_MS);
    if (at < this.nextRa) this.nextRa = at;
  }

  /** §6.2.4: uniform in [MinRtrAdvInterval, MaxRtrAdvInterval], the first few at most 16 s apart. */
  private nextPeriodicRa(now: number): number {
    const maxMs = this.settings.routerAdvertisements.intervalSeconds * 1000;
    if (maxMs === 0) return Number.POSITIVE_INFINITY;
    // §6.2.1: MinRtrAdvInterval defaults to 0.33 * MaxRtrAdvInterval (Max itself below 9 s).
    const minMs = maxMs >= 9000 ? 0.33 * maxMs : maxMs;
    let delay = minMs + this.random() * (maxMs - minMs);
    if (this.initialRasLeft > 0) {
      this.initialRasLeft--;
      delay = Math.min(delay, MAX_INITIAL_RTR_ADVERT_INTERVAL_MS);
    }
    return now + delay;
  }

  /** Queues an NA for an owned `target` with its link-layer address (§7.2.4); false when the queue is full. */
  private advertiseNeighbor(dstMac: number, target: Uint8Array, dst: Uint8Array, dstOff: number, flags: number): boolean {
    const bytes = this.builder.bytes;
    const off = this.builder.begin(dstMac, target, 0, dst, dstOff, NDP_HOP_LIMIT);
    if (off < 0) return false;
    let length = writeNeighborAdvertisement(bytes, off, flags, target, 0);
    length += writeLinkLayerOption(bytes, off + length, NdpOption.TargetLinkLayerAddress, this.settings.redMac);
    this.builder.finish(length);
    return true;
  }

  /**
   * A Router Advertisement to all-nodes from the link-local address (§6.1.2, §4.2): source
   * link-layer address, MTU = the tunnel's inner MTU (§4.6.4), and the prefix, on-link and (for
   * a /64) autonomous (§4.6.2, RFC 4862 §5.5.3).
   */
  private advertiseRouter(): void {
    const s = this.settings;
    const ra = s.routerAdvertisements;
    const bytes = this.builder.bytes;
    const off = this.builder.begin(multicastMac(ALL_NODES, 0), s.linkLocalAddress, 0, ALL_NODES, 0, NDP_HOP_LIMIT);
    if (off < 0) return;
    // Reachable Time and Retrans Timer 0: unspecified by this router (§4.2).
    let length = writeRouterAdvertisement(bytes, off, ra.curHopLimit, 0, ra.routerLifetimeSeconds, 0, 0);
    length += writeLinkLayerOption(bytes, off + length, NdpOption.SourceLinkLayerAddress, s.redMac);
    length += writeMtuOption(bytes, off + length, s.tunnelInnerMtu);
    const flags = PREFIX_FLAG_ON_LINK | (s.routerPrefixLength === SLAAC_PREFIX_LENGTH ? PREFIX_FLAG_AUTONOMOUS : 0);
    length += writePrefixOption(bytes, off + length, s.routerPrefix, 0, s.routerPrefixLength, flags,
      ra.prefixValidLifetimeSeconds, ra.prefixPreferredLifetimeSeconds);
    this.builder.finish(length);
    this.counters.routerAdvertisementsSent++;
  }
}
