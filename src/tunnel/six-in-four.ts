/**
 * 6in4: IPv6 carried in IPv4 protocol 41 (RFC 4213 §3.5), encapsulated and decapsulated in place
 * in a frame slot. The outer header is written into the headroom in front of the IPv6 packet.
 */
import { readU16 } from '../wire/bytes.js';
import { IPV4_CHECKSUM, IPV4_MIN_HEADER_BYTES, Ipv4Header, isIpv4Fragment, readIpv4Ecn, writeIpv4Header } from '../wire/ipv4.js';
import { IPV6_HEADER_BYTES, Ipv6Header, parseIpv6, readIpv6Ecn, writeIpv6Ecn } from '../wire/ipv6.js';
import { IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { DropReason } from '../dataplane/drop-reason.js';
import { ECN_DROP, innerEcnOnDecapsulation, outerEcnOnEncapsulation } from './ecn-tunneling.js';

/** Outer header bytes 6in4 adds. */
export const SIX_IN_FOUR_OVERHEAD = IPV4_MIN_HEADER_BYTES;

export interface SixInFourEndpoints {
  /** Local and remote tunnel endpoint (TEP) addresses as u32. */
  local: number;
  remote: number;
  ttl: number;
}

/** Writes outer IPv4 headers; holds the reusable header template and the datagram id counter. */
export class SixInFourEncapsulator {
  /** The outer header last written, complete as parseIpv4 would describe it (no need to parse it back). */
  readonly header = new Ipv4Header();
  private id = 0;

  /**
   * Prepends the outer header to the IPv6 packet at [start, start+length). The caller guarantees
   * IPV4_MIN_HEADER_BYTES of headroom. Returns the new start (start - 20).
   */
  encapsulate(bytes: Uint8Array, start: number, length: number, tep: SixInFourEndpoints): number {
    const h = this.header;
    const outerStart = start - SIX_IN_FOUR_OVERHEAD;
    // RFC 6040 §4.1: copy ECN; the DSCP is not copied (pipe model, RFC 2983 §3.1).
    h.tos = outerEcnOnEncapsulation(readIpv6Ecn(bytes, start));
    h.totalLength = length + SIX_IN_FOUR_OVERHEAD;
    h.id = this.id = (this.id + 1) & 0xffff;
    // DF on the outer header: the tunnel does its own PMTU discovery (RFC 4213 §3.2).
    h.dontFragment = true;
    h.moreFragments = false;
    h.fragmentOffset = 0;
    h.ttl = tep.ttl;
    h.protocol = IpProtocol.Ipv6;
    h.src = tep.local;
    h.dst = tep.remote;
    writeIpv4Header(bytes, outerStart, h);
    h.headerLength = IPV4_MIN_HEADER_BYTES;
    h.checksum = readU16(bytes, outerStart + IPV4_CHECKSUM);
    h.payloadOffset = start;
    h.payloadLength = length;
    return outerStart;
  }
}

/** decapsulateSixInFour's result when the inner packet may be forwarded. */
export const TUNNEL_PASS = -1;

/** The inner packet found by decapsulate. */
export class SixInFourInner {
  start = 0;
  length = 0;
  readonly ipv6 = new Ipv6Header();
}

/**
 * Checks a parsed outer IPv4 protocol-41 packet and locates the inner IPv6 packet (RFC 4213
 * §3.6): the outer source must be the remote TEP; fragments are not reassembled here; the inner
 * payload length must fit the outer payload; ECN is combined per RFC 6040 §4.2. Returns
 * TUNNEL_PASS when the packet may be forwarded (inner start/length in `out`), otherwise the DropReason.
 * `remoteTep` may be a u32 or its int32 bit pattern (unboxed in V8: the call allocates nothing).
 * Ingress filtering of the inner source against the peer's prefixes is the caller's (policy).
 */
export function decapsulateSixInFour(bytes: Uint8Array, outerStart: number, outer: Ipv4Header, remoteTep: number, out: SixInFourInner): number {
  if (outer.protocol !== IpProtocol.Ipv6) return DropReason.Unsupported;
  if ((outer.src | 0) !== (remoteTep | 0)) return DropReason.SpoofedTunnelSource;
  if (isIpv4Fragment(outer)) return DropReason.Fragment;
  const start = outer.payloadOffset;
  if (parseIpv6(bytes, start, outer.payloadLength, out.ipv6) !== WireStatus.Ok) return DropReason.Malformed;
  const ecn = innerEcnOnDecapsulation(readIpv4Ecn(bytes, outerStart), readIpv6Ecn(bytes, start));
  if (ecn === ECN_DROP) return DropReason.EcnIncompatible;
  writeIpv6Ecn(bytes, start, ecn);
  out.start = start;
  out.length = IPV6_HEADER_BYTES + out.ipv6.payloadLength;
  return TUNNEL_PASS;
}
