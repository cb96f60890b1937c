/**
 * A packet's selectors (RFC 4301 §4.4.1.1) in a caller-owned, reusable object, and their
 * extraction from an IPv4 or IPv6 packet in a byte buffer without allocating.
 *
 * Direction decides the roles: outbound (red -> black) local = source, inbound (black -> red)
 * local = destination. For Mobile IPv6 (RFC 3776 §4.2, RFC 6275 §6.3/§6.4) the Home Address
 * option's address counts as the source and a type 2 Routing header's address (while a segment
 * is left) counts as the destination, so transport-mode SAs keyed on home addresses match
 * Binding Updates and Acknowledgements in the header orders of RFC 3776 §3.1.
 */

import { inRange, readU16, readU32 } from '../wire/bytes.js';
import { Ipv4Header, parseIpv4 } from '../wire/ipv4.js';
import { IPV6_HEADER_BYTES, IPV6_NO_UPPER_LAYER, Ipv6ExtensionWalk, Ipv6Header, parseIpv6, ROUTING_TYPE_2, walkIpv6Extensions } from '../wire/ipv6.js';
import { MH_TYPE } from '../wire/mobility.js';
import { IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { parseAddress, writeAddressWords } from './address-text.js';
import { PORT_OPAQUE, type ProtocolSpec, parseProtocol, protocolHasPorts } from './selectors.js';
import { IssueList } from './validation.js';

export const Direction = Object.freeze({
  /** Red to black: local = source. */
  Outbound: 0,
  /** Black to red: local = destination. */
  Inbound: 1,
});
export type Direction = (typeof Direction)[keyof typeof Direction];

export class PacketSelectors {
  /** 4 or 6; 0 until filled (matches nothing, so an unfilled object fails closed). */
  family: 0 | 4 | 6 = 0;
  /** Local address: IPv4 in word 0, IPv6 in words 0..3, most significant first. */
  readonly local = new Uint32Array(4);
  readonly remote = new Uint32Array(4);
  /** Next-layer protocol: the header after the IPv6 extension headers. */
  protocol = 0;
  /** Port, ICMP type<<8|code, MH type<<8, or PORT_OPAQUE. */
  localPort = PORT_OPAQUE;
  remotePort = PORT_OPAQUE;
}

/** Bytes of the upper-layer header the selectors need: two ports, or ICMP type and code. */
const PORT_BYTES = 4;
const ICMP_TYPE_CODE_BYTES = 2;

/**
 * Reads selectors from packets. Holds the scratch headers the wire parsers fill, so one
 * extractor per data-plane stage extracts any number of packets without allocating.
 */
export class PacketSelectorExtractor {
  /** The IP header the last `extract` parsed (v4 or v6, by the packet's version): callers read it instead of parsing again. */
  readonly v4 = new Ipv4Header();
  readonly v6 = new Ipv6Header();
  private readonly walk = new Ipv6ExtensionWalk();

  /**
   * Fills `out` from the IP packet at bytes[off, off + len). Returns WireStatus.Ok, or the reason
   * the packet cannot be classified (drop it); `out.family` is 0 after a failure.
   */
  extract(bytes: Uint8Array, off: number, len: number, direction: Direction, out: PacketSelectors): WireStatus {
    out.family = 0;
    if (!inRange(bytes, off, len)) return WireStatus.BadRange;
    if (len < 1) return WireStatus.Truncated;
    const version = bytes[off] >>> 4;
    if (version === 4) {
      const status = parseIpv4(bytes, off, len, this.v4);
      return status === WireStatus.Ok ? this.extractIpv4Header(bytes, this.v4, direction, out) : status;
    }
    if (version === 6) {
      const status = parseIpv6(bytes, off, len, this.v6);
      return status === WireStatus.Ok ? this.extractIpv6Header(bytes, this.v6, direction, out) : status;
    }
    return WireStatus.BadVersion;
  }

  /**
   * As extract, for an IPv4 packet whose header the caller has parsed already (parseIpv4 or
   * reparseIpv4 into `h`, or written it): the data plane parses each header once.
   */
  extractIpv4Header(bytes: Uint8Array, h: Ipv4Header, direction: Direction, out: PacketSelectors): WireStatus {
    out.family = 0;
    const outbound = direction === Direction.Outbound;
    out.local[0] = outbound ? h.src : h.dst;
    out.remote[0] = outbound ? h.dst : h.src;
    out.local[1] = out.local[2] = out.local[3] = 0;
    out.remote[1] = out.remote[2] = out.remote[3] = 0;
    out.protocol = h.protocol;
    // Non-initial fragments carry no upper-layer header: ports are OPAQUE (RFC 4301 §4.4.1.1, §7).
    const upperLength = h.fragmentOffset === 0 ? h.payloadLength : -1;
    const upper = readUpperSelectors(bytes, h.payloadOffset, upperLength, h.protocol, IpProtocol.Icmpv4, outbound, out);
    if (upper !== WireStatus.Ok) return upper;
    out.family = 4;
    return WireStatus.Ok;
  }

  /** As extract, for an IPv6 packet whose fixed header the caller has parsed into `h` (the extension headers are walked here). */
  extractIpv6Header(bytes: Uint8Array, h: Ipv6Header, direction: Direction, out: PacketSelectors): WireStatus {
    out.family = 0;
    const walk = this.walk;
    const off = h.payloadOffset - IPV6_HEADER_BYTES;
    const packetLength = IPV6_HEADER_BYTES + h.payloadLength;
    let status = walkIpv6Extensions(bytes, off, packetLength, walk);
    if (status !== WireStatus.Ok) return status;
    // RFC 3776 §4.2: the home address stands for the source and destination the SAs are keyed on.
    const srcOff = walk.homeAddressOffset !== -1 ? walk.homeAddressOffset : h.srcOffset;
    const dstOff = walk.routingType === ROUTING_TYPE_2 && walk.segmentsLeft === 1 ? walk.routingAddressOffset : h.dstOffset;
    const outbound = direction === Direction.Outbound;
    readAddress(bytes, outbound ? srcOff : dstOff, out.local);
    readAddress(bytes, outbound ? dstOff : srcOff, out.remote);

    let upperLength = -1;
    if (walk.fragmentHeaderOffset !== -1 && walk.fragmentOffset !== 0) {
      // Non-initial fragment: the Fragment header names the next header; ports are OPAQUE (§7).
      out.protocol = bytes[walk.fragmentHeaderOffset];
    } else if (walk.upperProtocol === IPV6_NO_UPPER_LAYER) {
      out.protocol = IpProtocol.NoNextHeader;
    } else {
      out.protocol = walk.upperProtocol;
      upperLength = off + packetLength - walk.upperOffset;
    }
    status = readUpperSelectors(bytes, walk.upperOffset, upperLength, out.protocol, IpProtocol.Icmpv6, outbound, out);
    if (status !== WireStatus.Ok) return status;
    out.family = 6;
    return WireStatus.Ok;
  }
}

function readAddress(bytes: Uint8Array, off: number, words: Uint32Array): void {
  words[0] = readU32(bytes, off);
  words[1] = readU32(bytes, off + 4);
  words[2] = readU32(bytes, off + 8);
  words[3] = readU32(bytes, off + 12);
}

/**
 * Port selectors from the upper-layer header at `off` (`length` bytes; -1 when not present):
 * source/destination ports, ICMP type/code, or MH type (RFC 4301 §4.4.1.1); OPAQUE otherwise.
 */
function readUpperSelectors(
  bytes: Uint8Array,
  off: number,
  length: number,
  protocol: number,
  icmpProtocol: number,
  outbound: boolean,
  out: PacketSelectors,
): WireStatus {
  out.localPort = PORT_OPAQUE;
  out.remotePort = PORT_OPAQUE;
  if (length < 0) return WireStatus.Ok;
  if (protocolHasPorts(protocol)) {
    // An initial fragment or whole packet must show its ports (RFC 4301 §7.3): else drop.
    if (length < PORT_BYTES) return WireStatus.Truncated;
    const src = readU16(bytes, off);
    const dst = readU16(bytes, off + 2);
    out.localPort = outbound ? src : dst;
    out.remotePort = outbound ? dst : src;
  } else if (protocol === icmpProtocol) {
    if (length < ICMP_TYPE_CODE_BYTES) return WireStatus.Truncated;
    out.localPort = readU16(bytes, off);
  } else if (protocol === IpProtocol.Mobility && icmpProtocol === IpProtocol.Icmpv6) {
    if (length <= MH_TYPE) return WireStatus.Truncated;
    out.localPort = bytes[off + MH_TYPE] << 8;
  }
  return WireStatus.Ok;
}

/** A described packet, for console "which policy matches" queries and for tests. */
export interface SelectorTuple {
  local: string;
  remote: string;
  protocol: ProtocolSpec;
  localPort?: number | 'opaque';
  remotePort?: number | 'opaque';
  /** ICMP/ICMPv6 type and code; the port fields are then ignored. */
  icmp?: { type: number; code: number };
  /** Mobility Header type; the port fields are then ignored. */
  mhType?: number;
}

function portValue(v: number | 'opaque' | undefined, path: string, issues: IssueList): number {
  if (v === undefined || v === 'opaque') return PORT_OPAQUE;
  if (Number.isInteger(v) && v >= 0 && v <= 65535) return v;
  issues.add(path, `${String(v)} is not a port: use 0 to 65535 or "opaque"`);
  return PORT_OPAQUE;
}

function isByte(v: number): boolean {
  return Number.isInteger(v) && v >= 0 && v <= 255;
}

/**
 * Fills `out` from a described packet (control plane; allocates). Throws PolicyValidationError
 * naming the field when the description is invalid.
 */
export function fillSelectorsFromTuple(out: PacketSelectors, tuple: SelectorTuple): void {
  const issues = new IssueList();
  const local = parseAddress(tuple.local);
  const remote = parseAddress(tuple.remote);
  if (local === null) issues.add('local', `${JSON.stringify(tuple.local)} is not an IPv4 or IPv6 address`);
  if (remote === null) issues.add('remote', `${JSON.stringify(tuple.remote)} is not an IPv4 or IPv6 address`);
  if (local !== null && remote !== null && local.family !== remote.family) issues.add('remote', 'must be the same family as local');
  const protocol = parseProtocol(tuple.protocol, 'protocol', issues);
  if (protocol !== null && protocol < 0) issues.add('protocol', 'a packet has one protocol: "any" is a selector, not a packet value');
  let localPort = portValue(tuple.localPort, 'localPort', issues);
  let remotePort = portValue(tuple.remotePort, 'remotePort', issues);
  if (tuple.icmp !== undefined) {
    if (protocol !== IpProtocol.Icmpv4 && protocol !== IpProtocol.Icmpv6) issues.add('icmp', 'needs protocol "icmp" or "icmpv6"');
    if (!isByte(tuple.icmp.type) || !isByte(tuple.icmp.code)) issues.add('icmp', 'type and code must be 0 to 255');
    localPort = (tuple.icmp.type << 8) | tuple.icmp.code;
    remotePort = PORT_OPAQUE;
  }
  if (tuple.mhType !== undefined) {
    if (protocol !== IpProtocol.Mobility) issues.add('mhType', 'needs protocol "mh"');
    if (!isByte(tuple.mhType)) issues.add('mhType', 'must be 0 to 255');
    localPort = tuple.mhType << 8;
    remotePort = PORT_OPAQUE;
  }
  issues.throwIfAny();
  if (local === null || remote === null || protocol === null) return;
  out.local.fill(0);
  out.remote.fill(0);
  writeAddressWords(local.family, local.value, out.local, 0);
  writeAddressWords(remote.family, remote.value, out.remote, 0);
  out.family = local.family;
  out.protocol = protocol;
  out.localPort = localPort;
  out.remotePort = remotePort;
}
