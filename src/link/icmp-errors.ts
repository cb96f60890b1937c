/**
 * ICMP errors the appliance originates: ICMPv6 Destination Unreachable (RFC 4443 §3.1), Packet
 * Too Big (§3.2) and Time Exceeded (§3.3) from the router address, and ICMPv4 Fragmentation Needed with the next-hop MTU
 * (RFC 1191 §4). All of them share one token bucket (RFC 4443 §2.4(f)) and are never sent about
 * an ICMP error, a non-first fragment, a packet whose source does not name one node, or a
 * multicast or broadcast packet (RFC 4443 §2.4(e), RFC 1812 §4.3.2.7) -- except that Packet Too
 * Big may answer a multicast packet, as §2.4(e.3) allows so that path MTU discovery works for it.
 *
 * ICMPv4 source address (RFC 1812 §4.3.2.4 wants an address of the sending router): the TEP in
 * the gateway role. In the transparent role the appliance owns no IPv4 address; with
 * `icmpErrors.ipv4Source: "invoking-destination"` the error comes from the destination of the
 * packet that caused it, the one address the sender is certain to accept and route back to
 * (its PMTU logic reads the quoted header, not the source). Without a router address (the
 * transparent role) no ICMPv6 error is sent: they are counted as suppressed.
 */
import { readU48 } from '../wire/bytes.js';
import { ETHERNET_DST, ETHERNET_HEADER_BYTES, ETHERNET_SRC, NO_VLAN, writeEthernetHeader } from '../wire/ethernet.js';
import { isIcmpv4Error, writeIcmpv4FragmentationNeeded } from '../wire/icmpv4.js';
import { fillIcmpv6Checksum, ICMPV6_HEADER_BYTES, ICMPV6_MAX_QUOTE_BYTES, Icmpv6Type, isIcmpv6Error, writeIcmpv6ErrorMessage } from '../wire/icmpv6.js';
import { IPV4_MIN_HEADER_BYTES, Ipv4Header, parseIpv4, writeIpv4Header } from '../wire/ipv4.js';
import {
  IPV6_DST, IPV6_HEADER_BYTES, IPV6_SRC, Ipv6ExtensionWalk, Ipv6Header, isIpv6Multicast, parseIpv6, walkIpv6Extensions, writeIpv6Header,
  isIpv6Unspecified,
} from '../wire/ipv6.js';
import { DEFAULT_TTL, EtherType, IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { ipv4PrefixMask, isGroupMacAt, isOnTepLink } from './link-addresses.js';
import { Icmpv4ErrorSource, type IcmpErrorSettings } from './link-config.js';
import { TokenBucket } from './token-bucket.js';
import { LinkPort, type LinkTransmitQueue } from './transmit-queue.js';

/** Destination Unreachable code "no route to destination" (RFC 4443 §3.1). */
export const DESTINATION_UNREACHABLE_NO_ROUTE = 0;
/** Time Exceeded code "hop limit exceeded in transit" (RFC 4443 §3.3). */
const TIME_EXCEEDED_HOP_LIMIT = 0;

export class IcmpErrorCounters {
  destinationUnreachableSent = 0;
  packetTooBigSent = 0;
  timeExceededSent = 0;
  fragmentationNeededSent = 0;
  /** Withheld by the token bucket. */
  rateLimited = 0;
  /** Withheld by rule: about an ICMP error, a fragment, a multicast or broadcast, or an unusable source. */
  suppressed = 0;
  /** The invoking packet did not parse. */
  malformed = 0;
  /** No room in the transmit queue. */
  queueFull = 0;
}

export class IcmpErrorSender {
  readonly counters = new IcmpErrorCounters();
  private readonly bucket: TokenBucket;
  private readonly invoking6 = new Ipv6Header();
  private readonly walk = new Ipv6ExtensionWalk();
  private readonly invoking4 = new Ipv4Header();
  private readonly header6 = new Ipv6Header();
  private readonly header4 = new Ipv4Header();

  constructor(private readonly settings: IcmpErrorSettings, private readonly transmit: LinkTransmitQueue) {
    this.bucket = new TokenBucket(settings.icmpErrors.perSecond, settings.icmpErrors.burst);
    this.header6.nextHeader = IpProtocol.Icmpv6;
    this.header6.hopLimit = DEFAULT_TTL;
    this.header4.protocol = IpProtocol.Icmpv4;
    this.header4.ttl = DEFAULT_TTL;
  }

  /**
   * Packet Too Big with `mtu` (RFC 4443 §3.2) about the IPv6 packet at [ipStart, ipStart +
   * ipLength) of the red frame at frameStart, sent on red to the frame's sender. True when queued.
   */
  packetTooBig(bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, mtu: number, now: number): boolean {
    const sent = this.sendIcmpv6(Icmpv6Type.PacketTooBig, 0, mtu, bytes, frameStart, ipStart, ipLength, now);
    if (sent) this.counters.packetTooBigSent++;
    return sent;
  }

  /** Destination Unreachable with `code` (RFC 4443 §3.1), like packetTooBig. */
  destinationUnreachable(code: number, bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, now: number): boolean {
    const sent = this.sendIcmpv6(Icmpv6Type.DestinationUnreachable, code, 0, bytes, frameStart, ipStart, ipLength, now);
    if (sent) this.counters.destinationUnreachableSent++;
    return sent;
  }

  /** Time Exceeded, hop limit exceeded in transit (RFC 4443 §3.3), like packetTooBig. */
  timeExceeded(bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, now: number): boolean {
    const sent = this.sendIcmpv6(Icmpv6Type.TimeExceeded, TIME_EXCEEDED_HOP_LIMIT, 0, bytes, frameStart, ipStart, ipLength, now);
    if (sent) this.counters.timeExceededSent++;
    return sent;
  }

  /**
   * Writes an ICMPv6 error packet (IPv6 header from the router address, then the message quoting
   * as much of the invoking packet as fits in 1280 bytes) at out[outOff], at most `room` bytes,
   * after the rules and the rate limit. `linkMulticast` tells whether the invoking frame had a
   * group destination MAC. `param` is the MTU of Packet Too Big (unused, zero, for the others).
   * Returns the length, or 0 when not sent.
   */
  private writeIcmpv6Error(
    out: Uint8Array,
    outOff: number,
    room: number,
    type: number,
    code: number,
    param: number,
    bytes: Uint8Array,
    linkMulticast: boolean,
    ipStart: number,
    ipLength: number,
    now: number,
  ): number {
    const ip = this.invoking6;
    if (parseIpv6(bytes, ipStart, ipLength, ip) !== WireStatus.Ok) {
      this.counters.malformed++;
      return 0;
    }
    const source = this.settings.routerAddress;
    const packetLength = IPV6_HEADER_BYTES + ip.payloadLength;
    if (source === null || !this.mayAnswerIpv6(type, bytes, ipStart, packetLength, linkMulticast)) {
      this.counters.suppressed++;
      return 0;
    }
    const length = IPV6_HEADER_BYTES + ICMPV6_HEADER_BYTES + Math.min(packetLength, ICMPV6_MAX_QUOTE_BYTES);
    if (length > room) {
      this.counters.queueFull++;
      return 0;
    }
    if (!this.bucket.take(now)) {
      this.counters.rateLimited++;
      return 0;
    }
    const icmp = outOff + IPV6_HEADER_BYTES;
    const icmpLength = writeIcmpv6ErrorMessage(out, icmp, type, code, param, bytes, ipStart, packetLength);
    if (icmpLength === 0) {
      this.counters.queueFull++;
      return 0;
    }
    this.header6.payloadLength = icmpLength;
    // The destination is the invoking source, read from the quote since it may have been overwritten.
    writeIpv6Header(out, outOff, this.header6, source, 0, out, icmp + ICMPV6_HEADER_BYTES + IPV6_SRC);
    fillIcmpv6Checksum(out, icmp, icmpLength, outOff + IPV6_SRC, outOff + IPV6_DST);
    return IPV6_HEADER_BYTES + icmpLength;
  }

  /**
   * Fragmentation Needed and DF set with the next-hop MTU (RFC 1191 §4) about the IPv4 packet at
   * [ipStart, ipStart + ipLength) of the frame at frameStart received on `port`, sent back on it
   * to the frame's sender. True when queued.
   */
  fragmentationNeeded(port: LinkPort, bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, nextHopMtu: number, now: number): boolean {
    const ip = this.invoking4;
    if (parseIpv4(bytes, ipStart, ipLength, ip) !== WireStatus.Ok) {
      this.counters.malformed++;
      return false;
    }
    if (!this.mayAnswerIpv4(bytes, ip, isGroupMacAt(bytes, frameStart + ETHERNET_DST))) {
      this.counters.suppressed++;
      return false;
    }
    const frame = this.transmit.claim();
    if (frame < 0) {
      this.counters.queueFull++;
      return false;
    }
    if (!this.bucket.take(now)) {
      this.counters.rateLimited++;
      return false;
    }
    const out = this.transmit.slots.bytes;
    const ipOut = frame + ETHERNET_HEADER_BYTES;
    const icmpLength = writeIcmpv4FragmentationNeeded(out, ipOut + IPV4_MIN_HEADER_BYTES, nextHopMtu, bytes, ipStart, ip.totalLength);
    if (icmpLength === 0) {
      this.counters.queueFull++;
      return false;
    }
    const h = this.header4;
    h.totalLength = IPV4_MIN_HEADER_BYTES + icmpLength;
    h.id = (h.id + 1) & 0xffff;
    h.src = this.settings.icmpErrors.ipv4Source === Icmpv4ErrorSource.Tep ? this.settings.tepAddress : ip.dst;
    h.dst = ip.src;
    writeIpv4Header(out, ipOut, h);
    const srcMac = port === LinkPort.Red ? this.settings.redMac : this.settings.blackMac;
    writeEthernetHeader(out, frame, readU48(bytes, frameStart + ETHERNET_SRC), srcMac, NO_VLAN, EtherType.Ipv4);
    this.transmit.commit(port, ETHERNET_HEADER_BYTES + h.totalLength);
    this.counters.fragmentationNeededSent++;
    return true;
  }

  /** Queues an ICMPv6 error on red, to the sender of the invoking frame. */
  private sendIcmpv6(type: number, code: number, param: number, bytes: Uint8Array, frameStart: number, ipStart: number, ipLength: number, now: number): boolean {
    const frame = this.transmit.claim();
    if (frame < 0) {
      this.counters.queueFull++;
      return false;
    }
    const out = this.transmit.slots.bytes;
    const length = this.writeIcmpv6Error(out, frame + ETHERNET_HEADER_BYTES, this.transmit.frameCapacity - ETHERNET_HEADER_BYTES,
      type, code, param, bytes, isGroupMacAt(bytes, frameStart + ETHERNET_DST), ipStart, ipLength, now);
    if (length === 0) return false;
    writeEthernetHeader(out, frame, readU48(bytes, frameStart + ETHERNET_SRC), this.settings.redMac, NO_VLAN, EtherType.Ipv6);
    this.transmit.commit(LinkPort.Red, ETHERNET_HEADER_BYTES + length);
    return true;
  }

  /** RFC 4443 §2.4(e) for the parsed invoking packet. */
  private mayAnswerIpv6(type: number, bytes: Uint8Array, ipStart: number, packetLength: number, linkMulticast: boolean): boolean {
    const ip = this.invoking6;
    // (e.6) the source must name a single node.
    if (isIpv6Unspecified(bytes, ip.srcOffset) || isIpv6Multicast(bytes, ip.srcOffset)) return false;
    // (e.3)-(e.5) multicast and link-layer multicast or broadcast: only Packet Too Big.
    if (type !== Icmpv6Type.PacketTooBig && (linkMulticast || isIpv6Multicast(bytes, ip.dstOffset))) return false;
    const walk = this.walk;
    if (walkIpv6Extensions(bytes, ipStart, packetLength, walk) !== WireStatus.Ok) return false;
    // A non-first fragment hides whether it is part of an ICMP error.
    if (walk.fragmentOffset !== 0) return false;
    if (walk.upperProtocol === IpProtocol.Icmpv6) {
      // (e.1), (e.2): never about an error message or a Redirect (informational by number, RFC 4861 §4.5).
      if (walk.upperOffset >= ipStart + packetLength) return false;
      const invokingType = bytes[walk.upperOffset];
      if (isIcmpv6Error(invokingType) || invokingType === Icmpv6Type.Redirect) return false;
    }
    return true;
  }

  /** RFC 1812 §4.3.2.7 for the parsed invoking packet; Fragmentation Needed also requires DF (RFC 1191 §4). */
  private mayAnswerIpv4(bytes: Uint8Array, ip: Ipv4Header, linkMulticast: boolean): boolean {
    if (!ip.dontFragment || ip.fragmentOffset !== 0 || linkMulticast) return false;
    if (!this.namesOneIpv4Node(ip.dst) || !this.namesOneIpv4Node(ip.src) || ip.src >>> 24 === 0) return false;
    if (ip.protocol === IpProtocol.Icmpv4 && ip.payloadLength > 0 && isIcmpv4Error(bytes[ip.payloadOffset])) return false;
    return true;
  }

  /** Not multicast, limited broadcast or class E (224/3), loopback, or the broadcast address of the TEP subnet. */
  private namesOneIpv4Node(address: number): boolean {
    const first = address >>> 24;
    if (first >= 224 || first === 127) return false;
    const s = this.settings;
    const hostMask = ~ipv4PrefixMask(s.tepPrefixLength) >>> 0;
    return !(s.tepPrefixLength <= 30 && isOnTepLink(s, address) && (address & hostMask) >>> 0 === hostMask);
  }
}
