/**
 * Neighbor Discovery messages (RFC 4861): Router Solicitation/Advertisement, Neighbor
 * Solicitation/Advertisement and their options. Parse after parseIcmpv6 has verified the
 * checksum; writers leave the checksum for fillIcmpv6Checksum.
 */

import { copyBytes, inRange, writeU16, writeU32, writeU48 } from './bytes.js';
import { Icmpv6Type } from './icmpv6.js';
import { IPV6_ADDRESS_BYTES, Ipv6Header, isIpv6LinkLocal, isIpv6Multicast, isIpv6Unspecified } from './ipv6.js';
import { WireStatus } from './status.js';

/** Minimum message lengths (RFC 4861 §4.1-§4.4). */
const ROUTER_SOLICITATION_BYTES = 8;
const ROUTER_ADVERTISEMENT_BYTES = 16;
const NEIGHBOR_MESSAGE_BYTES = 24;
/** Target address offset of NS and NA (RFC 4861 §4.3, §4.4). */
const NDP_TARGET = 8;
/** NDP packets must arrive with this hop limit, proving they were not forwarded (RFC 4861 §6.1, §7.1). */
export const NDP_HOP_LIMIT = 255;

export const NdpOption = Object.freeze({
  SourceLinkLayerAddress: 1,
  TargetLinkLayerAddress: 2,
  PrefixInformation: 3,
  Mtu: 5,
});
/** Option lengths in 8-byte units (RFC 4861 §4.6.1 for IEEE 802 addresses, §4.6.2, §4.6.4). */
const LINK_LAYER_OPTION_UNITS = 1;
const PREFIX_OPTION_UNITS = 4;
const MTU_OPTION_UNITS = 1;
const LINK_LAYER_OPTION_BYTES = 8;
const PREFIX_OPTION_BYTES = 32;
const MTU_OPTION_BYTES = 8;

/** Flag bits of Neighbor Advertisement byte 4: R, S, O (RFC 4861 §4.4). */
export const NA_FLAG_ROUTER = 0x80;
export const NA_FLAG_SOLICITED = 0x40;
export const NA_FLAG_OVERRIDE = 0x20;
/** Prefix Information flags (RFC 4861 §4.6.2). */
export const PREFIX_FLAG_ON_LINK = 0x80;
export const PREFIX_FLAG_AUTONOMOUS = 0x40;

export class NdpMessage {
  type = 0;
  /** NA flags R/S/O of byte 4 (RFC 4861 §4.4); 0 for RS, RA and NS. */
  flags = 0;
  /** NS/NA target address offset, -1 for RS/RA. */
  targetOffset = -1;
  /** 6-byte MAC of the source/target link-layer address options, -1 when absent. */
  sourceMacOffset = -1;
  targetMacOffset = -1;
}

function minimumLength(type: number): number {
  switch (type) {
    case Icmpv6Type.RouterSolicitation:
      return ROUTER_SOLICITATION_BYTES;
    case Icmpv6Type.RouterAdvertisement:
      return ROUTER_ADVERTISEMENT_BYTES;
    case Icmpv6Type.NeighborSolicitation:
    case Icmpv6Type.NeighborAdvertisement:
      return NEIGHBOR_MESSAGE_BYTES;
    default:
      return 0;
  }
}

/** ff02::1:ff00:0/104 (RFC 4291 §2.7.1). */
export function isSolicitedNodeMulticast(bytes: Uint8Array, off: number): boolean {
  if (bytes[off] !== 0xff || bytes[off + 1] !== 0x02) return false;
  for (let i = 2; i < 11; i++) if (bytes[off + i] !== 0) return false;
  return bytes[off + 11] === 0x01 && bytes[off + 12] === 0xff;
}

/**
 * Walks the options in [start, end): every length is non-zero and fits (RFC 4861 §4.6), the
 * options whose size is fixed have it, and a prefix length is at most 128 (§4.6.2).
 */
function walkOptions(bytes: Uint8Array, start: number, end: number, out: NdpMessage): WireStatus {
  let i = start;
  while (i < end) {
    if (i + 2 > end) return WireStatus.BadOption;
    const type = bytes[i];
    const units = bytes[i + 1];
    // A zero length would loop forever: such packets are discarded (RFC 4861 §4.6).
    if (units === 0 || i + units * 8 > end) return WireStatus.BadOption;
    switch (type) {
      case NdpOption.SourceLinkLayerAddress:
      case NdpOption.TargetLinkLayerAddress:
        if (units !== LINK_LAYER_OPTION_UNITS) return WireStatus.BadOption;
        if (type === NdpOption.SourceLinkLayerAddress) out.sourceMacOffset = i + 2;
        else out.targetMacOffset = i + 2;
        break;
      case NdpOption.PrefixInformation:
        if (units !== PREFIX_OPTION_UNITS || bytes[i + 2] > 128) return WireStatus.BadOption;
        break;
      case NdpOption.Mtu:
        if (units !== MTU_OPTION_UNITS) return WireStatus.BadOption;
        break;
      default:
        // Unknown options are ignored (RFC 4861 §4.6).
        break;
    }
    i += units * 8;
  }
  return WireStatus.Ok;
}

/**
 * Parses and validates an RS, RA, NS or NA message of `len` bytes carried by the IPv6 header `ip`
 * (RFC 4861 §6.1.1, §6.1.2, §7.1.1, §7.1.2): hop limit 255, code 0, minimum length, option
 * lengths, non-multicast target, and the rules tying addresses to options and flags.
 */
export function parseNdp(bytes: Uint8Array, off: number, len: number, ip: Ipv6Header, out: NdpMessage): WireStatus {
  if (!inRange(bytes, off, len) || !inRange(bytes, ip.srcOffset, 16) || !inRange(bytes, ip.dstOffset, 16)) return WireStatus.BadRange;
  if (len < 2) return WireStatus.Truncated;
  const type = bytes[off];
  const minimum = minimumLength(type);
  if (minimum === 0) return WireStatus.UnsupportedType;
  if (ip.hopLimit !== NDP_HOP_LIMIT) return WireStatus.BadHopLimit;
  if (bytes[off + 1] !== 0) return WireStatus.BadCode;
  if (len < minimum) return WireStatus.Truncated;

  out.type = type;
  out.flags = 0;
  out.targetOffset = -1;
  out.sourceMacOffset = -1;
  out.targetMacOffset = -1;
  if (type === Icmpv6Type.RouterAdvertisement) {
    // Routers advertise from their link-local address (RFC 4861 §6.1.2).
    if (!isIpv6LinkLocal(bytes, ip.srcOffset)) return WireStatus.BadAddress;
  } else if (type === Icmpv6Type.NeighborSolicitation || type === Icmpv6Type.NeighborAdvertisement) {
    if (isIpv6Multicast(bytes, off + NDP_TARGET)) return WireStatus.BadTarget;
    out.targetOffset = off + NDP_TARGET;
    if (type === Icmpv6Type.NeighborAdvertisement) out.flags = bytes[off + 4];
  }
  const status = walkOptions(bytes, off + minimum, off + len, out);
  if (status !== WireStatus.Ok) return status;

  const unspecifiedSource = isIpv6Unspecified(bytes, ip.srcOffset);
  // Duplicate Address Detection probes and unspecified-source RS carry no source link-layer option;
  // a DAD NS goes to a solicited-node group (RFC 4861 §6.1.1, §7.1.1).
  if (unspecifiedSource && out.sourceMacOffset !== -1 && (type === Icmpv6Type.RouterSolicitation || type === Icmpv6Type.NeighborSolicitation)) {
    return WireStatus.BadOption;
  }
  if (unspecifiedSource && type === Icmpv6Type.NeighborSolicitation && !isSolicitedNodeMulticast(bytes, ip.dstOffset)) {
    return WireStatus.BadAddress;
  }
  // A multicast advertisement cannot be solicited (RFC 4861 §7.1.2).
  if (type === Icmpv6Type.NeighborAdvertisement && isIpv6Multicast(bytes, ip.dstOffset) && (out.flags & NA_FLAG_SOLICITED) !== 0) {
    return WireStatus.BadFlags;
  }
  return WireStatus.Ok;
}

function writeFixedHeader(bytes: Uint8Array, off: number, type: number, length: number): boolean {
  if (!inRange(bytes, off, length)) return false;
  bytes.fill(0, off, off + length);
  bytes[off] = type;
  return true;
}

/** Writes an NS for `target` (RFC 4861 §4.3) without options. Returns 24, or 0 when it does not fit. */
export function writeNeighborSolicitation(bytes: Uint8Array, off: number, target: Uint8Array, targetOff: number): number {
  if (!inRange(target, targetOff, IPV6_ADDRESS_BYTES)) return 0;
  if (!writeFixedHeader(bytes, off, Icmpv6Type.NeighborSolicitation, NEIGHBOR_MESSAGE_BYTES)) return 0;
  copyBytes(bytes, off + NDP_TARGET, target, targetOff, IPV6_ADDRESS_BYTES);
  return NEIGHBOR_MESSAGE_BYTES;
}

/** Writes an NA for `target` with NA_FLAG_* `flags` (RFC 4861 §4.4) without options. Returns 24, or 0. */
export function writeNeighborAdvertisement(bytes: Uint8Array, off: number, flags: number, target: Uint8Array, targetOff: number): number {
  if (!inRange(target, targetOff, IPV6_ADDRESS_BYTES)) return 0;
  if (!writeFixedHeader(bytes, off, Icmpv6Type.NeighborAdvertisement, NEIGHBOR_MESSAGE_BYTES)) return 0;
  bytes[off + 4] = flags;
  copyBytes(bytes, off + NDP_TARGET, target, targetOff, IPV6_ADDRESS_BYTES);
  return NEIGHBOR_MESSAGE_BYTES;
}

/** Writes an RA (RFC 4861 §4.2) without options; `flags` is byte 5 (M, O). Returns 16, or 0. */
export function writeRouterAdvertisement(
  bytes: Uint8Array,
  off: number,
  curHopLimit: number,
  flags: number,
  routerLifetime: number,
  reachableTime: number,
  retransTimer: number,
): number {
  if (!writeFixedHeader(bytes, off, Icmpv6Type.RouterAdvertisement, ROUTER_ADVERTISEMENT_BYTES)) return 0;
  bytes[off + 4] = curHopLimit;
  bytes[off + 5] = flags;
  writeU16(bytes, off + 6, routerLifetime);
  writeU32(bytes, off + 8, reachableTime);
  writeU32(bytes, off + 12, retransTimer);
  return ROUTER_ADVERTISEMENT_BYTES;
}

/** Appends a source or target link-layer address option for an Ethernet MAC (RFC 4861 §4.6.1). Returns 8, or 0. */
export function writeLinkLayerOption(bytes: Uint8Array, off: number, type: number, mac: number): number {
  if (!inRange(bytes, off, LINK_LAYER_OPTION_BYTES)) return 0;
  bytes[off] = type;
  bytes[off + 1] = LINK_LAYER_OPTION_UNITS;
  writeU48(bytes, off + 2, mac);
  return LINK_LAYER_OPTION_BYTES;
}

/** Appends an MTU option (RFC 4861 §4.6.4). Returns 8, or 0. */
export function writeMtuOption(bytes: Uint8Array, off: number, mtu: number): number {
  if (!inRange(bytes, off, MTU_OPTION_BYTES)) return 0;
  bytes[off] = NdpOption.Mtu;
  bytes[off + 1] = MTU_OPTION_UNITS;
  writeU16(bytes, off + 2, 0);
  writeU32(bytes, off + 4, mtu);
  return MTU_OPTION_BYTES;
}

/** Appends a Prefix Information option (RFC 4861 §4.6.2); `flags` are PREFIX_FLAG_*. Returns 32, or 0. */
export function writePrefixOption(
  bytes: Uint8Array,
  off: number,
  prefix: Uint8Array,
  prefixOff: number,
  prefixLength: number,
  flags: number,
  validLifetime: number,
  preferredLifetime: number,
): number {
  if (!inRange(prefix, prefixOff, IPV6_ADDRESS_BYTES) || !inRange(bytes, off, PREFIX_OPTION_BYTES)) return 0;
  bytes[off] = NdpOption.PrefixInformation;
  bytes[off + 1] = PREFIX_OPTION_UNITS;
  bytes[off + 2] = prefixLength;
  bytes[off + 3] = flags;
  writeU32(bytes, off + 4, validLifetime);
  writeU32(bytes, off + 8, preferredLifetime);
  writeU32(bytes, off + 12, 0);
  copyBytes(bytes, off + 16, prefix, prefixOff, IPV6_ADDRESS_BYTES);
  return PREFIX_OPTION_BYTES;
}
