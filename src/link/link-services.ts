/**
 * The link services of the 6in4 gateway role in one object for the data plane: it hands frames
 * addressed to the appliance to ARP (black) or to Neighbor Discovery and the echo responder (red),
 * resolves next hops on both links, runs their timers, and owns the transmit queue all of them
 * write into. Everything runs on the data-plane thread without allocating per packet.
 *
 * Per batch the data plane:
 *  1. calls `receiveRed` / `receiveBlack` for frames to the appliance (`isRouterDestination`,
 *     EtherType ARP), `resolveRed` / `resolveBlack` before sending a forwarded frame, and the
 *     `icmpErrors` methods where forwarding fails;
 *  2. calls `poll(now)` (also when idle, every 100 ms or so);
 *  3. sends `transmit.red` / `transmit.black` with FramePort.send and calls `transmit.clear()`.
 */
import { DropReason, type DropCounters } from '../dataplane/drop-reason.js';
import { inRange, readU48 } from '../wire/bytes.js';
import { ETHERNET_DST, ETHERNET_HEADER_BYTES } from '../wire/ethernet.js';
import { Icmpv6Type } from '../wire/icmpv6.js';
import { ArpResponder } from './arp-responder.js';
import { EchoResponder } from './echo-responder.js';
import { IcmpErrorSender } from './icmp-errors.js';
import { ipv4NextHop, isGroupMacAt, isRouterDestination } from './link-addresses.js';
import { NO_IPV4_NEXT_HOP, type LinkSettings } from './link-config.js';
import { NeighborDiscovery } from './neighbor-discovery.js';
import { NeighborSend, type NeighborEntryView } from './neighbor-table.js';
import { parseReceivedIcmpv6, ReceivedIcmpv6 } from './received-icmpv6.js';
import { LinkTransmitQueue } from './transmit-queue.js';

export interface LinkServicesOptions {
  /** Frames the transmit queue holds between flushes. Default 256. */
  transmitFrames?: number;
  /** Largest frame, in bytes, that can be queued for resolution or generated. Default DEFAULT_SLOT_SIZE (the data-plane slot size). */
  frameCapacity?: number;
  /** Uniform [0, 1) source for Router Advertisement timing. Default Math.random. */
  random?: () => number;
}

export class LinkServiceCounters {
  /** Frames handed in whose destination MAC or IPv6 address is not the appliance's. */
  notForUs = 0;
  /** ICMPv6 to the router other than echo and NDP (errors about packets it sent, unknown types), and anything but echo from a tunnel. */
  otherIcmpv6 = 0;
}

export class LinkServices {
  readonly counters = new LinkServiceCounters();
  readonly transmit: LinkTransmitQueue;
  readonly arp: ArpResponder;
  readonly neighborDiscovery: NeighborDiscovery;
  readonly echo: EchoResponder;
  readonly icmpErrors: IcmpErrorSender;
  private readonly received = new ReceivedIcmpv6();

  constructor(readonly settings: LinkSettings, private readonly drops: DropCounters, options: LinkServicesOptions = {}) {
    this.transmit = new LinkTransmitQueue({ count: options.transmitFrames, slotSize: options.frameCapacity });
    this.arp = new ArpResponder(settings, this.transmit, drops);
    this.neighborDiscovery = new NeighborDiscovery(settings, this.transmit, drops, { random: options.random });
    this.echo = new EchoResponder(settings, this.transmit);
    this.icmpErrors = new IcmpErrorSender(settings, this.transmit);
  }

  /** Announces the TEP by ARP and starts periodic Router Advertisements when configured. */
  start(now: number): void {
    this.arp.start(now);
    this.neighborDiscovery.start(now);
  }

  /** Runs retransmissions, neighbor aging and scheduled Router Advertisements. */
  poll(now: number): void {
    this.arp.poll(now);
    this.neighborDiscovery.poll(now);
  }

  /** Whether a red IPv6 packet with its destination at bytes[dstOff] is for the router (pass its frame to receiveRed). */
  isRouterDestination(bytes: Uint8Array, dstOff: number): boolean {
    return isRouterDestination(this.settings, bytes, dstOff);
  }

  /** An IPv6 frame from red for the router. Returns -1 when consumed, else the DropReason to count. */
  receiveRed(bytes: Uint8Array, start: number, length: number, now: number): number {
    if (!this.addressedTo(bytes, start, length, this.settings.redMac)) return DropReason.Unsupported;
    const m = this.received;
    const status = parseReceivedIcmpv6(bytes, start, length, m);
    if (status !== -1) return status;
    if (!isRouterDestination(this.settings, bytes, m.ipv6.dstOffset)) {
      this.counters.notForUs++;
      return DropReason.Unsupported;
    }
    switch (m.icmp.type) {
      case Icmpv6Type.EchoRequest:
        return this.echo.receive(bytes, m);
      case Icmpv6Type.RouterSolicitation:
      case Icmpv6Type.RouterAdvertisement:
      case Icmpv6Type.NeighborSolicitation:
      case Icmpv6Type.NeighborAdvertisement:
        return this.neighborDiscovery.receive(bytes, m, now);
      default:
        this.counters.otherIcmpv6++;
        return DropReason.Unsupported;
    }
  }

  /**
   * An IPv6 frame that came out of a tunnel to the router's own (not link-local) address. Only
   * Echo Requests are answered (RFC 4443 §4.2), so operators can ping the far gateway; Neighbor
   * Discovery is link-scope (RFC 4861 §7.1) and is never taken from a tunnel. The reply is queued
   * for the data plane to route back (LinkTransmitQueue.takeLocal). Returns -1 when answered,
   * else the DropReason to count.
   */
  receiveFromTunnel(bytes: Uint8Array, start: number, length: number): number {
    const m = this.received;
    const status = parseReceivedIcmpv6(bytes, start, length, m);
    if (status !== -1) return status;
    if (m.icmp.type !== Icmpv6Type.EchoRequest) {
      this.counters.otherIcmpv6++;
      return DropReason.Unsupported;
    }
    const mark = this.transmit.redCount;
    const reason = this.echo.receive(bytes, m);
    this.transmit.routeLocally(mark);
    return reason;
  }

  /**
   * Time Exceeded (RFC 4443 §3.3) about a packet that came out of a tunnel (frame as for
   * receiveFromTunnel), queued for the data plane to route back to its sender.
   */
  timeExceededFromTunnel(bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, now: number): void {
    const mark = this.transmit.redCount;
    this.icmpErrors.timeExceeded(bytes, frameStart, ipStart, ipLength, now);
    this.transmit.routeLocally(mark);
  }

  /** Packet Too Big (RFC 4443 §3.2) about a packet out of a tunnel that red's MTU cannot take, routed back like timeExceededFromTunnel. */
  packetTooBigFromTunnel(bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, mtu: number, now: number): void {
    const mark = this.transmit.redCount;
    this.icmpErrors.packetTooBig(bytes, frameStart, ipStart, ipLength, mtu, now);
    this.transmit.routeLocally(mark);
  }

  /** An ARP frame from black. Returns -1 when consumed, else the DropReason to count. */
  receiveBlack(bytes: Uint8Array, start: number, length: number, now: number): number {
    if (!this.addressedTo(bytes, start, length, this.settings.blackMac)) return DropReason.Unsupported;
    return this.arp.receive(bytes, start, length, now);
  }

  /**
   * Sets the destination MAC of a frame leaving on red for the on-link IPv6 next hop at
   * nextHop[nextHopOff], or queues it while the neighbor is resolved. Dropped frames are counted.
   */
  resolveRed(bytes: Uint8Array, start: number, length: number, nextHop: Uint8Array, nextHopOff: number, now: number): NeighborSend {
    return this.neighborDiscovery.resolve(bytes, start, length, nextHop, nextHopOff, now);
  }

  /**
   * Sets the destination MAC of a frame leaving on black for the IPv4 `destination` (the next hop
   * off the TEP subnet), or queues it while resolving. Without a route it is counted as NoRoute.
   * `destination` is an int32 bit pattern (`address | 0`), so the call allocates nothing.
   */
  resolveBlack(bytes: Uint8Array, start: number, length: number, destination: number, now: number): NeighborSend {
    const nextHop = ipv4NextHop(this.settings, destination);
    if (nextHop === NO_IPV4_NEXT_HOP) {
      this.drops.add(DropReason.NoRoute);
      return NeighborSend.Dropped;
    }
    return this.arp.resolve(bytes, start, length, nextHop, now);
  }

  /** Every counter by name ("arp.requestsAnswered", "ipv6Neighbors.resolutionFailures", ...), for status output. */
  counterSnapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    const groups: [string, object][] = [
      ['link', this.counters],
      ['arp', this.arp.counters],
      ['ipv4Neighbors', this.arp.neighbors.counters],
      ['nd', this.neighborDiscovery.counters],
      ['ipv6Neighbors', this.neighborDiscovery.neighbors.counters],
      ['echo', this.echo.counters],
      ['icmpErrors', this.icmpErrors.counters],
    ];
    for (const [prefix, counters] of groups) {
      for (const [name, value] of Object.entries(counters)) out[`${prefix}.${name}`] = value as number;
    }
    out['transmit.overflows'] = this.transmit.overflows;
    return out;
  }

  /** Both neighbor caches, for status output. */
  neighborSnapshot(): { ipv4: NeighborEntryView[]; ipv6: NeighborEntryView[] } {
    return { ipv4: this.arp.neighbors.snapshot(), ipv6: this.neighborDiscovery.neighbors.snapshot() };
  }

  /** Frames to another unicast MAC reach us only because the NIC is promiscuous. */
  private addressedTo(bytes: Uint8Array, start: number, length: number, mac: number): boolean {
    // A runt is left to the parsers, which count it as Malformed.
    if (length < ETHERNET_HEADER_BYTES || !inRange(bytes, start, length)) return true;
    if (isGroupMacAt(bytes, start + ETHERNET_DST) || readU48(bytes, start + ETHERNET_DST) === mac) return true;
    this.counters.notForUs++;
    return false;
  }
}
