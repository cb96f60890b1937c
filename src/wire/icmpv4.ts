/** ICMP for IPv4 (RFC 792): message parse with checksum, Fragmentation Needed writer and quote reader (RFC 1191). */

import { copyBytes, inRange, readU16, writeU16 } from './bytes.js';
import { internetChecksum } from './checksum.js';
import { Ipv4Header, IPV4_MIN_HEADER_BYTES, parseIpv4Quote } from './ipv4.js';
import { WireStatus } from './status.js';

const ICMPV4_HEADER_BYTES = 8;
/** Field offsets (RFC 792). */
const ICMPV4_TYPE = 0;
const ICMPV4_CODE = 1;
const ICMPV4_CHECKSUM = 2;
const ICMPV4_IDENTIFIER = 4;
const ICMPV4_SEQUENCE = 6;
/** Next-hop MTU of Fragmentation Needed (RFC 1191 §4). */
const ICMPV4_NEXT_HOP_MTU = 6;
/** Error messages quote the invoking header plus its first 64 payload bits (RFC 792). */
const ICMPV4_QUOTED_PAYLOAD_BYTES = 8;

export const Icmpv4Type = Object.freeze({
  EchoReply: 0,
  DestinationUnreachable: 3,
  Redirect: 5,
  EchoRequest: 8,
  TimeExceeded: 11,
  ParameterProblem: 12,
});
/** Destination Unreachable code for "fragmentation needed and DF set" (RFC 792, RFC 1191). */
export const ICMPV4_CODE_FRAGMENTATION_NEEDED = 4;

/** Highest code defined per type (RFC 792; RFC 1812 §5.2.7.1 for unreachable codes up to 15). */
function maxCode(type: number): number {
  switch (type) {
    case Icmpv4Type.EchoReply:
    case Icmpv4Type.EchoRequest:
      return 0;
    case Icmpv4Type.DestinationUnreachable:
      return 15;
    case Icmpv4Type.Redirect:
      return 3;
    case Icmpv4Type.TimeExceeded:
      return 1;
    case Icmpv4Type.ParameterProblem:
      return 2;
    default:
      return 255;
  }
}

/** ICMPv4 error messages (RFC 792; RFC 1812 §4.3.2.7: never send an error about one). */
export function isIcmpv4Error(type: number): boolean {
  return (
    type === 4 /* Source Quench, deprecated by RFC 6633 but still an error */ ||
    type === Icmpv4Type.DestinationUnreachable ||
    type === Icmpv4Type.Redirect ||
    type === Icmpv4Type.TimeExceeded ||
    type === Icmpv4Type.ParameterProblem
  );
}

export class Icmpv4Message {
  type = 0;
  code = 0;
  checksum = 0;
  /** Echo request/reply identifier and sequence number. */
  identifier = 0;
  sequence = 0;
  /** Next-hop MTU of Fragmentation Needed; 0 otherwise (or from a pre-RFC 1191 router). */
  nextHopMtu = 0;
  /** The quoted invoking packet of an error message, -1/0 for other messages. */
  quoteOffset = -1;
  quoteLength = 0;
}

/** Parses the ICMP message of `len` bytes (the IP payload): checksum over all of it, code defined for the type. */
export function parseIcmpv4(bytes: Uint8Array, off: number, len: number, out: Icmpv4Message): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < ICMPV4_HEADER_BYTES) return WireStatus.Truncated;
  if (internetChecksum(bytes, off, len) !== 0) return WireStatus.BadChecksum;
  const type = bytes[off + ICMPV4_TYPE];
  const code = bytes[off + ICMPV4_CODE];
  if (code > maxCode(type)) return WireStatus.BadCode;
  const error = isIcmpv4Error(type);
  out.type = type;
  out.code = code;
  out.checksum = readU16(bytes, off + ICMPV4_CHECKSUM);
  out.identifier = readU16(bytes, off + ICMPV4_IDENTIFIER);
  out.sequence = readU16(bytes, off + ICMPV4_SEQUENCE);
  out.nextHopMtu =
    type === Icmpv4Type.DestinationUnreachable && code === ICMPV4_CODE_FRAGMENTATION_NEEDED
      ? readU16(bytes, off + ICMPV4_NEXT_HOP_MTU)
      : 0;
  out.quoteOffset = error ? off + ICMPV4_HEADER_BYTES : -1;
  out.quoteLength = error ? len - ICMPV4_HEADER_BYTES : 0;
  return WireStatus.Ok;
}

/**
 * Parses the invoking IPv4 header quoted by an error message parsed with parseIcmpv4; the quote
 * must hold the header and at least 64 bits of its payload (RFC 792), e.g. an ESP SPI and sequence.
 */
export function parseIcmpv4Quote(bytes: Uint8Array, message: Icmpv4Message, out: Ipv4Header): WireStatus {
  if (message.quoteOffset < 0) return WireStatus.UnsupportedType;
  const status = parseIpv4Quote(bytes, message.quoteOffset, message.quoteLength, out);
  if (status !== WireStatus.Ok) return status;
  return out.payloadLength < ICMPV4_QUOTED_PAYLOAD_BYTES ? WireStatus.Truncated : WireStatus.Ok;
}

/**
 * Writes a Destination Unreachable / Fragmentation Needed message (type 3 code 4, next-hop MTU,
 * RFC 1191 §4) quoting the invoking packet's header and first 8 payload bytes, and its checksum.
 * The invoking packet may lie in the same buffer. Returns the ICMP length, or 0 when it does not fit.
 */
export function writeIcmpv4FragmentationNeeded(
  bytes: Uint8Array,
  off: number,
  mtu: number,
  invoking: Uint8Array,
  invokingOff: number,
  invokingLen: number,
): number {
  if (!inRange(invoking, invokingOff, invokingLen) || invokingLen < IPV4_MIN_HEADER_BYTES) return 0;
  const quoteLength = Math.min(invokingLen, (invoking[invokingOff] & 0x0f) * 4 + ICMPV4_QUOTED_PAYLOAD_BYTES);
  const length = ICMPV4_HEADER_BYTES + quoteLength;
  if (!inRange(bytes, off, length)) return 0;
  // Quote first: the header below may overwrite the start of an overlapping invoking packet.
  copyBytes(bytes, off + ICMPV4_HEADER_BYTES, invoking, invokingOff, quoteLength);
  bytes[off + ICMPV4_TYPE] = Icmpv4Type.DestinationUnreachable;
  bytes[off + ICMPV4_CODE] = ICMPV4_CODE_FRAGMENTATION_NEEDED;
  writeU16(bytes, off + ICMPV4_CHECKSUM, 0);
  writeU16(bytes, off + 4, 0);
  writeU16(bytes, off + ICMPV4_NEXT_HOP_MTU, mtu);
  writeU16(bytes, off + ICMPV4_CHECKSUM, internetChecksum(bytes, off, length));
  return length;
}
