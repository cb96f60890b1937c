/** ICMPv6 (RFC 4443): message parse with pseudo-header checksum, Packet Too Big and Echo writers. */

import { copyBytes, inRange, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { internetChecksum, ipv6PseudoHeaderSum } from './checksum.js';
import { IPV6_HEADER_BYTES, IPV6_MIN_MTU } from './ipv6.js';
import { IpProtocol } from './protocol.js';
import { WireStatus } from './status.js';

export const ICMPV6_HEADER_BYTES = 8;
/** Field offsets (RFC 4443 §2.1). */
export const ICMPV6_TYPE = 0;
export const ICMPV6_CODE = 1;
export const ICMPV6_CHECKSUM = 2;
/** MTU (Packet Too Big) or Pointer (Parameter Problem), RFC 4443 §3.2, §3.4. */
export const ICMPV6_MTU = 4;
export const ICMPV6_IDENTIFIER = 4;
export const ICMPV6_SEQUENCE = 6;
/** An error message must fit the minimum MTU with its IPv6 header (RFC 4443 §2.4 (c), §3.2). */
export const ICMPV6_MAX_QUOTE_BYTES = IPV6_MIN_MTU - IPV6_HEADER_BYTES - ICMPV6_HEADER_BYTES;

export const Icmpv6Type = Object.freeze({
  DestinationUnreachable: 1,
  PacketTooBig: 2,
  TimeExceeded: 3,
  ParameterProblem: 4,
  EchoRequest: 128,
  EchoReply: 129,
  RouterSolicitation: 133,
  RouterAdvertisement: 134,
  NeighborSolicitation: 135,
  NeighborAdvertisement: 136,
  Redirect: 137,
});

/** Error messages have types 0..127, informational ones 128..255 (RFC 4443 §2.1). */
export function isIcmpv6Error(type: number): boolean {
  return type < Icmpv6Type.EchoRequest;
}

export class Icmpv6Message {
  type = 0;
  code = 0;
  checksum = 0;
  /** Echo identifier and sequence number. */
  identifier = 0;
  sequence = 0;
  /** MTU of Packet Too Big, Pointer of Parameter Problem; 0 otherwise. */
  mtuOrPointer = 0;
  /** The quoted invoking packet of an error message, -1/0 for informational messages. */
  quoteOffset = -1;
  quoteLength = 0;
}

/**
 * Parses the ICMPv6 message of `len` bytes and verifies its checksum with the pseudo-header of
 * the addresses at srcOff/dstOff (RFC 4443 §2.3; with a Routing header use the final destination,
 * RFC 8200 §8.1).
 */
export function parseIcmpv6(bytes: Uint8Array, off: number, len: number, srcOff: number, dstOff: number, out: Icmpv6Message): WireStatus {
  if (!inRange(bytes, off, len) || !inRange(bytes, srcOff, 16) || !inRange(bytes, dstOff, 16)) return WireStatus.BadRange;
  if (len < ICMPV6_HEADER_BYTES) return WireStatus.Truncated;
  const pseudo = ipv6PseudoHeaderSum(bytes, srcOff, dstOff, IpProtocol.Icmpv6, len);
  if (internetChecksum(bytes, off, len, pseudo) !== 0) return WireStatus.BadChecksum;
  const type = bytes[off + ICMPV6_TYPE];
  const error = isIcmpv6Error(type);
  const echo = type === Icmpv6Type.EchoRequest || type === Icmpv6Type.EchoReply;
  out.type = type;
  out.code = bytes[off + ICMPV6_CODE];
  out.checksum = readU16(bytes, off + ICMPV6_CHECKSUM);
  out.identifier = echo ? readU16(bytes, off + ICMPV6_IDENTIFIER) : 0;
  out.sequence = echo ? readU16(bytes, off + ICMPV6_SEQUENCE) : 0;
  out.mtuOrPointer =
    type === Icmpv6Type.PacketTooBig || type === Icmpv6Type.ParameterProblem ? readU32(bytes, off + ICMPV6_MTU) : 0;
  out.quoteOffset = error ? off + ICMPV6_HEADER_BYTES : -1;
  out.quoteLength = error ? len - ICMPV6_HEADER_BYTES : 0;
  return WireStatus.Ok;
}

/**
 * Computes and stores the checksum of the ICMPv6 message at `off` (RFC 4443 §2.3), once the
 * IPv6 header with its addresses (at srcOff/dstOff in `bytes`) is in place.
 */
export function fillIcmpv6Checksum(bytes: Uint8Array, off: number, len: number, srcOff: number, dstOff: number): void {
  if (!inRange(bytes, off, len) || len < ICMPV6_HEADER_BYTES) return;
  writeU16(bytes, off + ICMPV6_CHECKSUM, 0);
  const pseudo = ipv6PseudoHeaderSum(bytes, srcOff, dstOff, IpProtocol.Icmpv6, len);
  writeU16(bytes, off + ICMPV6_CHECKSUM, internetChecksum(bytes, off, len, pseudo));
}

/**
 * Writes an ICMPv6 error message: type, code, the 32-bit field after the checksum (`param`: the
 * MTU of Packet Too Big, the Pointer of Parameter Problem, unused otherwise; RFC 4443 §3.1-§3.4
 * share this layout), then as much of the invoking packet as fits in the minimum MTU (§2.4(c)).
 * The invoking packet may lie in the same buffer. The checksum is left zero: call
 * fillIcmpv6Checksum after the IPv6 header. Returns the ICMPv6 length, or 0 when it does not fit.
 */
export function writeIcmpv6ErrorMessage(
  bytes: Uint8Array,
  off: number,
  type: number,
  code: number,
  param: number,
  invoking: Uint8Array,
  invokingOff: number,
  invokingLen: number,
): number {
  if (!inRange(invoking, invokingOff, invokingLen)) return 0;
  const quoteLength = Math.min(invokingLen, ICMPV6_MAX_QUOTE_BYTES);
  const length = ICMPV6_HEADER_BYTES + quoteLength;
  if (!inRange(bytes, off, length)) return 0;
  // Quote first: the header below may overwrite the start of an overlapping invoking packet.
  copyBytes(bytes, off + ICMPV6_HEADER_BYTES, invoking, invokingOff, quoteLength);
  bytes[off + ICMPV6_TYPE] = type;
  bytes[off + ICMPV6_CODE] = code;
  writeU16(bytes, off + ICMPV6_CHECKSUM, 0);
  writeU32(bytes, off + ICMPV6_MTU, param);
  return length;
}

/**
 * Writes the 8-byte header of an Echo Request or Reply (RFC 4443 §4.1, §4.2); the data follows.
 * The checksum is left zero for fillIcmpv6Checksum. Returns 8, or 0 when it does not fit.
 */
export function writeIcmpv6Echo(bytes: Uint8Array, off: number, type: number, identifier: number, sequence: number): number {
  if (!inRange(bytes, off, ICMPV6_HEADER_BYTES)) return 0;
  bytes[off + ICMPV6_TYPE] = type;
  bytes[off + ICMPV6_CODE] = 0;
  writeU16(bytes, off + ICMPV6_CHECKSUM, 0);
  writeU16(bytes, off + ICMPV6_IDENTIFIER, identifier);
  writeU16(bytes, off + ICMPV6_SEQUENCE, sequence);
  return ICMPV6_HEADER_BYTES;
}
