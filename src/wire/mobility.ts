/** Mobility Header (IPv6 Next Header 135, RFC 6275 §6.1): the fields a policy needs, chiefly the MH Type selector (RFC 4301 §4.4.1.1). */

import { inRange, readU16 } from './bytes.js';
import { WireStatus } from './status.js';

/** Field offsets (RFC 6275 §6.1.1). */
export const MH_PAYLOAD_PROTO = 0;
export const MH_HEADER_LENGTH = 1;
export const MH_TYPE = 2;
export const MH_CHECKSUM = 4;
/** Header Len counts 8-byte units after the first 8 bytes, so a Mobility Header is at least 8 bytes. */
export const MH_MIN_BYTES = 8;

export class MobilityHeader {
  payloadProto = 0;
  /** Whole header length in bytes: (Header Len + 1) * 8. */
  headerLength = 0;
  mhType = 0;
  checksum = 0;
}

/** Parses the Mobility Header at `off`; its Header Len must fit in `len`. */
export function parseMobilityHeader(bytes: Uint8Array, off: number, len: number, out: MobilityHeader): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < MH_MIN_BYTES) return WireStatus.Truncated;
  const headerLength = (bytes[off + MH_HEADER_LENGTH] + 1) * 8;
  if (headerLength > len) return WireStatus.Truncated;
  out.payloadProto = bytes[off + MH_PAYLOAD_PROTO];
  out.headerLength = headerLength;
  out.mhType = bytes[off + MH_TYPE];
  out.checksum = readU16(bytes, off + MH_CHECKSUM);
  return WireStatus.Ok;
}
