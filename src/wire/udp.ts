/** UDP header codec (RFC 768) with the IPv6 checksum (RFC 8200 §8.1); over IPv4 the appliance sends a zero checksum. */

import { inRange, readU16, writeU16 } from './bytes.js';
import { internetChecksum, ipv6PseudoHeaderSum } from './checksum.js';
import { IpProtocol } from './protocol.js';
import { WireStatus } from './status.js';

export const UDP_HEADER_BYTES = 8;
/** Field offsets (RFC 768). */
const UDP_SRC_PORT = 0;
export const UDP_DST_PORT = 2;
const UDP_LENGTH = 4;
const UDP_CHECKSUM = 6;

export class UdpHeader {
  srcPort = 0;
  dstPort = 0;
  /** The length field: header plus payload. */
  length = 0;
  checksum = 0;
  payloadOffset = 0;
  payloadLength = 0;
}

/** Parses the header; the length field must be at least 8 and within `len` (the IP payload length). */
export function parseUdp(bytes: Uint8Array, off: number, len: number, out: UdpHeader): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < UDP_HEADER_BYTES) return WireStatus.Truncated;
  const length = readU16(bytes, off + UDP_LENGTH);
  if (length < UDP_HEADER_BYTES) return WireStatus.BadLength;
  if (length > len) return WireStatus.Truncated;
  out.srcPort = readU16(bytes, off + UDP_SRC_PORT);
  out.dstPort = readU16(bytes, off + UDP_DST_PORT);
  out.length = length;
  out.checksum = readU16(bytes, off + UDP_CHECKSUM);
  out.payloadOffset = off + UDP_HEADER_BYTES;
  out.payloadLength = length - UDP_HEADER_BYTES;
  return WireStatus.Ok;
}

/** Verifies the checksum over IPv6, where zero is not allowed (RFC 8200 §8.1). Addresses are offsets into `bytes`. */
export function verifyUdpChecksumIpv6(bytes: Uint8Array, off: number, length: number, srcOff: number, dstOff: number): WireStatus {
  if (!inRange(bytes, off, length) || length < UDP_HEADER_BYTES) return WireStatus.BadRange;
  if (readU16(bytes, off + UDP_CHECKSUM) === 0) return WireStatus.BadChecksum;
  const pseudo = ipv6PseudoHeaderSum(bytes, srcOff, dstOff, IpProtocol.Udp, length);
  return internetChecksum(bytes, off, length, pseudo) === 0 ? WireStatus.Ok : WireStatus.BadChecksum;
}

/** Writes the header with a zero checksum (allowed on IPv4, RFC 768; SHOULD for ESP-in-UDP, RFC 3948 §2.1). Returns 8 or 0. */
export function writeUdpHeader(bytes: Uint8Array, off: number, srcPort: number, dstPort: number, length: number): number {
  if (!inRange(bytes, off, UDP_HEADER_BYTES)) return 0;
  writeU16(bytes, off + UDP_SRC_PORT, srcPort);
  writeU16(bytes, off + UDP_DST_PORT, dstPort);
  writeU16(bytes, off + UDP_LENGTH, length);
  writeU16(bytes, off + UDP_CHECKSUM, 0);
  return UDP_HEADER_BYTES;
}

/**
 * Computes and stores the checksum of the datagram at `off` (header and payload written) over
 * IPv6; addresses are offsets into `bytes`. A result of zero is sent as 0xffff, since zero means
 * "none" (RFC 768).
 */
export function fillUdpChecksumIpv6(bytes: Uint8Array, off: number, length: number, srcOff: number, dstOff: number): void {
  if (!inRange(bytes, off, length) || length < UDP_HEADER_BYTES) return;
  writeU16(bytes, off + UDP_CHECKSUM, 0);
  const pseudo = ipv6PseudoHeaderSum(bytes, srcOff, dstOff, IpProtocol.Udp, length);
  writeU16(bytes, off + UDP_CHECKSUM, internetChecksum(bytes, off, length, pseudo) || 0xffff);
}
