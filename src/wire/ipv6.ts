/**
 * IPv6 codec (RFC 8200): fixed header parse/write, traffic class and ECN, hop limit, and the
 * bounded extension-header walk that finds the upper layer, the Mobile IPv6 addresses
 * (RFC 6275) and the ESP insertion point for transport mode (RFC 4303 §3.1.1).
 */

import { copyBytes, inRange, readU16, readU32, writeU16 } from './bytes.js';
import { IpProtocol } from './protocol.js';
import { WireStatus } from './status.js';

export const IPV6_VERSION = 6;
export const IPV6_HEADER_BYTES = 40;
export const IPV6_ADDRESS_BYTES = 16;
/** Every link carries at least this much (RFC 8200 §5). */
export const IPV6_MIN_MTU = 1280;

/** Field offsets from the start of the fixed header (RFC 8200 §3). */
export const IPV6_VERSION_CLASS_FLOW = 0;
export const IPV6_PAYLOAD_LENGTH = 4;
export const IPV6_NEXT_HEADER = 6;
export const IPV6_HOP_LIMIT = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;

/** The walk gives up past this many extension headers (RFC 8200 §4.1 lists at most 8 kinds in one chain). */
export const IPV6_MAX_EXTENSION_HEADERS = 8;
/** `upperProtocol`/`upperOffset` when no upper-layer header follows (Next Header 59, or a non-first fragment). */
export const IPV6_NO_UPPER_LAYER = -1;

/** Option types inside Hop-by-Hop and Destination Options headers (RFC 8200 §4.2, RFC 6275 §6.3). */
const OPTION_PAD1 = 0;
const OPTION_HOME_ADDRESS = 201;
/** Routing type carrying the mobile node's home address (RFC 6275 §6.4). */
export const ROUTING_TYPE_2 = 2;
const FRAGMENT_HEADER_BYTES = 8;
const ROUTING_TYPE_2_BYTES = 24;

/** A parsed fixed IPv6 header; also the template `writeIpv6Header` writes from. */
export class Ipv6Header {
  trafficClass = 0;
  flowLabel = 0;
  payloadLength = 0;
  nextHeader = 0;
  hopLimit = 0;
  /** Absolute offsets in `bytes` of the 16-byte source and destination addresses. */
  srcOffset = 0;
  dstOffset = 0;
  /** Absolute offset of the first byte after the fixed header. */
  payloadOffset = 0;
}

/**
 * Parses the fixed header at `off` with `len` bytes available: version 6 and payload length
 * within the buffer (bytes past 40 + payload length are link padding).
 */
export function parseIpv6(bytes: Uint8Array, off: number, len: number, out: Ipv6Header): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < IPV6_HEADER_BYTES) return WireStatus.Truncated;
  const first = readU32(bytes, off + IPV6_VERSION_CLASS_FLOW);
  if (first >>> 28 !== IPV6_VERSION) return WireStatus.BadVersion;
  const payloadLength = readU16(bytes, off + IPV6_PAYLOAD_LENGTH);
  if (IPV6_HEADER_BYTES + payloadLength > len) return WireStatus.Truncated;
  out.trafficClass = (first >>> 20) & 0xff;
  out.flowLabel = first & 0xfffff;
  out.payloadLength = payloadLength;
  out.nextHeader = bytes[off + IPV6_NEXT_HEADER];
  out.hopLimit = bytes[off + IPV6_HOP_LIMIT];
  out.srcOffset = off + IPV6_SRC;
  out.dstOffset = off + IPV6_DST;
  out.payloadOffset = off + IPV6_HEADER_BYTES;
  return WireStatus.Ok;
}

/**
 * Writes a fixed header from `h` (its offset fields are ignored) with the source address read
 * at src[srcOff] and the destination at dst[dstOff]. Returns 40, or 0 when it does not fit.
 */
export function writeIpv6Header(
  bytes: Uint8Array,
  off: number,
  h: Ipv6Header,
  src: Uint8Array,
  srcOff: number,
  dst: Uint8Array,
  dstOff: number,
): number {
  if (!inRange(bytes, off, IPV6_HEADER_BYTES)) return 0;
  const trafficClass = h.trafficClass & 0xff;
  bytes[off] = (IPV6_VERSION << 4) | (trafficClass >>> 4);
  bytes[off + 1] = ((trafficClass & 0x0f) << 4) | ((h.flowLabel >>> 16) & 0x0f);
  writeU16(bytes, off + 2, h.flowLabel & 0xffff);
  writeU16(bytes, off + IPV6_PAYLOAD_LENGTH, h.payloadLength);
  bytes[off + IPV6_NEXT_HEADER] = h.nextHeader;
  bytes[off + IPV6_HOP_LIMIT] = h.hopLimit;
  copyBytes(bytes, off + IPV6_SRC, src, srcOff, IPV6_ADDRESS_BYTES);
  copyBytes(bytes, off + IPV6_DST, dst, dstOff, IPV6_ADDRESS_BYTES);
  return IPV6_HEADER_BYTES;
}

/** The ECN codepoint (RFC 3168 §5): the two low bits of the Traffic Class. */
export function readIpv6Ecn(bytes: Uint8Array, off: number): number {
  return (bytes[off + 1] >>> 4) & 0x03;
}

/** Sets the ECN codepoint in place (IPv6 has no header checksum). */
export function writeIpv6Ecn(bytes: Uint8Array, off: number, ecn: number): void {
  if (!inRange(bytes, off, IPV6_HEADER_BYTES)) return;
  bytes[off + 1] = (bytes[off + 1] & 0xcf) | ((ecn & 0x03) << 4);
}

/** Decrements the hop limit in place; 0 or 1 cannot be forwarded (RFC 8200 §3, RFC 4443 §3.3): TtlExceeded, unchanged. */
export function decrementHopLimit(bytes: Uint8Array, off: number): WireStatus {
  if (!inRange(bytes, off, IPV6_HEADER_BYTES)) return WireStatus.BadRange;
  const hopLimit = bytes[off + IPV6_HOP_LIMIT];
  if (hopLimit <= 1) return WireStatus.TtlExceeded;
  bytes[off + IPV6_HOP_LIMIT] = hopLimit - 1;
  return WireStatus.Ok;
}

/** True for the unspecified address :: (RFC 4291 §2.5.2) at bytes[off]. */
export function isIpv6Unspecified(bytes: Uint8Array, off: number): boolean {
  for (let i = 0; i < IPV6_ADDRESS_BYTES; i++) if (bytes[off + i] !== 0) return false;
  return true;
}

/** True for a link-local unicast address (fe80::/10, RFC 4291 §2.5.6) at bytes[off]. */
export function isIpv6LinkLocal(bytes: Uint8Array, off: number): boolean {
  return bytes[off] === 0xfe && (bytes[off + 1] & 0xc0) === 0x80;
}

/** True for a multicast address (ff00::/8, RFC 4291 §2.7) at bytes[off]. */
export function isIpv6Multicast(bytes: Uint8Array, off: number): boolean {
  return bytes[off] === 0xff;
}

/** What the extension-header walk found. Offsets are absolute in `bytes`; -1 means absent. */
export class Ipv6ExtensionWalk {
  /** Upper-layer protocol (TCP, UDP, ICMPv6, ESP, Mobility Header, ...) or IPV6_NO_UPPER_LAYER. */
  upperProtocol = IPV6_NO_UPPER_LAYER;
  upperOffset = IPV6_NO_UPPER_LAYER;
  /** Number of extension headers walked. */
  headerCount = 0;
  /** The 16-byte address in a Home Address destination option (RFC 6275 §6.3). */
  homeAddressOffset = -1;
  /** Type and Segments Left of the Routing header, -1/0 without one. */
  routingType = -1;
  segmentsLeft = 0;
  /** The 16-byte address of a type 2 Routing header (RFC 6275 §6.4). */
  routingAddressOffset = -1;
  fragmentHeaderOffset = -1;
  /** Fragment offset in bytes, M flag and identification (RFC 8200 §4.5). */
  fragmentOffset = 0;
  moreFragments = false;
  fragmentId = 0;
  /**
   * Transport-mode ESP goes here: after Hop-by-Hop, Routing, Fragment, a Destination Options
   * header that precedes a Routing header, and one carrying a Home Address option
   * (RFC 4303 §3.1.1; RFC 3776 §3.1). Headers from this offset on are encrypted.
   */
  espInsertOffset = 0;
  /** The Next Header byte that names what follows the insertion point and must become 50. */
  espNextHeaderOffset = 0;
}

function resetWalk(out: Ipv6ExtensionWalk, off: number): void {
  out.upperProtocol = IPV6_NO_UPPER_LAYER;
  out.upperOffset = IPV6_NO_UPPER_LAYER;
  out.headerCount = 0;
  out.homeAddressOffset = -1;
  out.routingType = -1;
  out.segmentsLeft = 0;
  out.routingAddressOffset = -1;
  out.fragmentHeaderOffset = -1;
  out.fragmentOffset = 0;
  out.moreFragments = false;
  out.fragmentId = 0;
  out.espInsertOffset = off + IPV6_HEADER_BYTES;
  out.espNextHeaderOffset = off + IPV6_NEXT_HEADER;
}

/**
 * Walks the TLV options of a Hop-by-Hop or Destination Options header in [start, end)
 * (RFC 8200 §4.2). In a Destination Options header (`destination`) it records a Home Address
 * option, which must carry exactly one address and appear once per packet (RFC 6275 §6.3).
 */
function walkOptions(bytes: Uint8Array, start: number, end: number, destination: boolean, out: Ipv6ExtensionWalk): WireStatus {
  let i = start;
  while (i < end) {
    const type = bytes[i];
    if (type === OPTION_PAD1) {
      i += 1;
      continue;
    }
    if (i + 2 > end) return WireStatus.BadOption;
    const dataLength = bytes[i + 1];
    if (i + 2 + dataLength > end) return WireStatus.BadOption;
    if (destination && type === OPTION_HOME_ADDRESS) {
      if (dataLength !== IPV6_ADDRESS_BYTES || out.homeAddressOffset !== -1) return WireStatus.BadOption;
      out.homeAddressOffset = i + 2;
    }
    i += 2 + dataLength;
  }
  return WireStatus.Ok;
}

/**
 * Walks the extension headers of the IPv6 packet at `off`; `len` should be 40 + payload length
 * from parseIpv6. Stops at the first upper-layer header (anything that is not Hop-by-Hop,
 * Routing, Fragment or Destination Options), at No Next Header, at a non-first fragment, or
 * after IPV6_MAX_EXTENSION_HEADERS headers.
 */
export function walkIpv6Extensions(bytes: Uint8Array, off: number, len: number, out: Ipv6ExtensionWalk): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < IPV6_HEADER_BYTES) return WireStatus.Truncated;
  resetWalk(out, off);
  const end = off + len;
  let nextHeader = bytes[off + IPV6_NEXT_HEADER];
  let cur = off + IPV6_HEADER_BYTES;

  for (;;) {
    const isOptions = nextHeader === IpProtocol.HopByHop || nextHeader === IpProtocol.DestinationOptions;
    if (!isOptions && nextHeader !== IpProtocol.Routing && nextHeader !== IpProtocol.Fragment) {
      if (nextHeader !== IpProtocol.NoNextHeader) {
        out.upperProtocol = nextHeader;
        out.upperOffset = cur;
      }
      return WireStatus.Ok;
    }
    if (out.headerCount === IPV6_MAX_EXTENSION_HEADERS) return WireStatus.ExtensionChainTooLong;
    out.headerCount++;
    if (cur + 2 > end) return WireStatus.Truncated;
    const headerLength = nextHeader === IpProtocol.Fragment ? FRAGMENT_HEADER_BYTES : (bytes[cur + 1] + 1) * 8;
    if (cur + headerLength > end) return WireStatus.Truncated;
    // Whether ESP must come after this header in transport mode (RFC 4303 §3.1.1).
    let precedesEsp = true;

    if (nextHeader === IpProtocol.HopByHop) {
      // Hop-by-Hop may only follow the IPv6 header itself (RFC 8200 §4.1, §4.3).
      if (cur !== off + IPV6_HEADER_BYTES) return WireStatus.BadExtensionOrder;
      const status = walkOptions(bytes, cur + 2, cur + headerLength, false, out);
      if (status !== WireStatus.Ok) return status;
    } else if (nextHeader === IpProtocol.DestinationOptions) {
      const hadHomeAddress = out.homeAddressOffset !== -1;
      const status = walkOptions(bytes, cur + 2, cur + headerLength, true, out);
      if (status !== WireStatus.Ok) return status;
      // Outside ESP only when it is for the Routing header's hops (RFC 8200 §4.1) or carries the
      // Home Address option (RFC 6275 §6.3, RFC 3776 §3.1); otherwise it is end-to-end payload.
      precedesEsp = bytes[cur] === IpProtocol.Routing || (!hadHomeAddress && out.homeAddressOffset !== -1);
    } else if (nextHeader === IpProtocol.Routing) {
      // One Routing header per packet (RFC 8200 §4.1).
      if (out.routingType !== -1) return WireStatus.BadExtensionOrder;
      const routingType = bytes[cur + 2];
      const segmentsLeft = bytes[cur + 3];
      out.routingType = routingType;
      out.segmentsLeft = segmentsLeft;
      if (routingType === ROUTING_TYPE_2) {
        // Exactly one address, at most one segment left (RFC 6275 §6.4).
        if (headerLength !== ROUTING_TYPE_2_BYTES || segmentsLeft > 1) return WireStatus.BadRoutingHeader;
        out.routingAddressOffset = cur + 8;
      } else if (segmentsLeft !== 0) {
        // An unknown type with hops left hides the final destination (RFC 8200 §4.4): fail closed.
        return WireStatus.UnknownRoutingType;
      }
    } else {
      // Fragment header (RFC 8200 §4.5); one per packet.
      if (out.fragmentHeaderOffset !== -1) return WireStatus.BadExtensionOrder;
      const offsetFlags = readU16(bytes, cur + 2);
      out.fragmentHeaderOffset = cur;
      out.fragmentOffset = offsetFlags & 0xfff8;
      out.moreFragments = (offsetFlags & 1) !== 0;
      out.fragmentId = readU32(bytes, cur + 4);
    }

    if (precedesEsp) {
      out.espInsertOffset = cur + headerLength;
      out.espNextHeaderOffset = cur;
    }
    // A non-first fragment carries no upper-layer header (RFC 8200 §4.5).
    if (nextHeader === IpProtocol.Fragment && out.fragmentOffset !== 0) return WireStatus.Ok;
    nextHeader = bytes[cur];
    cur += headerLength;
  }
}
