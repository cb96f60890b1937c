/** IPv4 header codec (RFC 791): parse with options and checksum, fresh-header writer, TTL and ECN updates. */

import { inRange, readU16, readU32, writeU16, writeU32 } from './bytes.js';
import { checksumAdjust16, checksumOfSum, internetChecksum } from './checksum.js';
import { WireStatus } from './status.js';

export const IPV4_VERSION = 4;
export const IPV4_MIN_HEADER_BYTES = 20;
/** Largest datagram: total length is a 16-bit field (RFC 791 §3.1). */
export const IPV4_MAX_TOTAL_LENGTH = 65535;

/** Field offsets from the start of the header (RFC 791 §3.1). */
export const IPV4_VERSION_IHL = 0;
export const IPV4_TOS = 1;
export const IPV4_TOTAL_LENGTH = 2;
export const IPV4_ID = 4;
export const IPV4_FLAGS_FRAGMENT = 6;
export const IPV4_TTL = 8;
export const IPV4_PROTOCOL = 9;
export const IPV4_CHECKSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
export const IPV4_OPTIONS = 20;

const FLAG_DF = 0x4000;
const FLAG_MF = 0x2000;
const FRAGMENT_OFFSET_MASK = 0x1fff;

/** RFC 791 §3.1 option types with no length byte. */
const OPTION_END = 0;
const OPTION_NOP = 1;

/** A parsed IPv4 header; also the template `writeIpv4Header` writes from. */
export class Ipv4Header {
  /** IHL * 4, in bytes (20..60). */
  headerLength = 0;
  /** The whole TOS byte: DSCP << 2 | ECN. */
  tos = 0;
  totalLength = 0;
  id = 0;
  dontFragment = false;
  moreFragments = false;
  /** Fragment offset in bytes (the field * 8). */
  fragmentOffset = 0;
  ttl = 0;
  protocol = 0;
  checksum = 0;
  /** Addresses as unsigned 32-bit integers. */
  src = 0;
  dst = 0;
  /** Absolute offset in `bytes` of the first payload byte. */
  payloadOffset = 0;
  /** totalLength - headerLength (for a quote: only the quoted part). */
  payloadLength = 0;
}

/** True when the header belongs to a fragment (MF set or non-zero offset, RFC 791 §3.2). */
export function isIpv4Fragment(h: Ipv4Header): boolean {
  return h.moreFragments || h.fragmentOffset !== 0;
}

/**
 * The length of the option at bytes[i] in an option area ending at `end` (RFC 791 §3.1): 1 for
 * No Operation, the length byte for the others; 0 for End of Option List; -1 when it does not fit.
 */
function ipv4OptionLength(bytes: Uint8Array, i: number, end: number): number {
  const type = bytes[i];
  if (type === OPTION_END) return 0;
  if (type === OPTION_NOP) return 1;
  if (i + 1 >= end) return -1;
  const length = bytes[i + 1];
  return length < 2 || i + length > end ? -1 : length;
}

/** Checks the option list: every option fits the header area (RFC 791 §3.1). */
function checkOptions(bytes: Uint8Array, off: number, end: number): WireStatus {
  for (let i = off; i < end;) {
    const length = ipv4OptionLength(bytes, i, end);
    if (length === 0) return WireStatus.Ok;
    if (length < 0) return WireStatus.BadOption;
    i += length;
  }
  return WireStatus.Ok;
}

/** What parseHeader checks besides the header's own fields. */
const ParseMode = Object.freeze({
  /** Whole datagram, checksum verified (parseIpv4). */
  Verify: 0,
  /** Whole datagram whose checksum is already known good (reparseIpv4). */
  Reparse: 1,
  /** Header quoted in an ICMP error: total length may exceed the quote, no checksum (parseIpv4Quote). */
  Quote: 2,
});
type ParseMode = (typeof ParseMode)[keyof typeof ParseMode];

/** Shared body of parseIpv4, reparseIpv4 and parseIpv4Quote. */
function parseHeader(bytes: Uint8Array, off: number, len: number, out: Ipv4Header, mode: ParseMode): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < IPV4_MIN_HEADER_BYTES) return WireStatus.Truncated;
  const versionIhl = bytes[off + IPV4_VERSION_IHL];
  if (versionIhl >>> 4 !== IPV4_VERSION) return WireStatus.BadVersion;
  const headerLength = (versionIhl & 0x0f) * 4;
  if (headerLength < IPV4_MIN_HEADER_BYTES) return WireStatus.BadHeaderLength;
  if (headerLength > len) return WireStatus.Truncated;
  const totalLength = readU16(bytes, off + IPV4_TOTAL_LENGTH);
  if (totalLength < headerLength) return WireStatus.BadTotalLength;
  // Bytes past totalLength are link padding; fewer bytes than totalLength is a cut packet.
  if (mode !== ParseMode.Quote && totalLength > len) return WireStatus.Truncated;
  if (mode === ParseMode.Verify && internetChecksum(bytes, off, headerLength) !== 0) return WireStatus.BadChecksum;
  const optionsStatus = checkOptions(bytes, off + IPV4_OPTIONS, off + headerLength);
  if (optionsStatus !== WireStatus.Ok) return optionsStatus;
  const flagsFragment = readU16(bytes, off + IPV4_FLAGS_FRAGMENT);
  const fragmentOffset = (flagsFragment & FRAGMENT_OFFSET_MASK) * 8;
  // A fragment must not end past the largest datagram (RFC 791 §3.2; the "ping of death").
  if (fragmentOffset + totalLength - headerLength > IPV4_MAX_TOTAL_LENGTH) return WireStatus.BadFragment;

  out.headerLength = headerLength;
  out.tos = bytes[off + IPV4_TOS];
  out.totalLength = totalLength;
  out.id = readU16(bytes, off + IPV4_ID);
  out.dontFragment = (flagsFragment & FLAG_DF) !== 0;
  out.moreFragments = (flagsFragment & FLAG_MF) !== 0;
  out.fragmentOffset = fragmentOffset;
  out.ttl = bytes[off + IPV4_TTL];
  out.protocol = bytes[off + IPV4_PROTOCOL];
  out.checksum = readU16(bytes, off + IPV4_CHECKSUM);
  out.src = readU32(bytes, off + IPV4_SRC);
  out.dst = readU32(bytes, off + IPV4_DST);
  out.payloadOffset = off + headerLength;
  out.payloadLength = Math.min(totalLength, len) - headerLength;
  return WireStatus.Ok;
}

/**
 * Parses the IPv4 header at `off` of a packet with `len` bytes available: version 4, IHL 5..15,
 * header length <= total length <= len, valid header checksum and option list.
 */
export function parseIpv4(bytes: Uint8Array, off: number, len: number, out: Ipv4Header): WireStatus {
  return parseHeader(bytes, off, len, out, ParseMode.Verify);
}

/**
 * Parses again a header whose checksum is already known good: parseIpv4 verified it when the
 * packet came in, or this appliance wrote it. A router verifies the checksum once per hop
 * (RFC 1812 §5.2.2); every other check of parseIpv4 still applies.
 */
export function reparseIpv4(bytes: Uint8Array, off: number, len: number, out: Ipv4Header): WireStatus {
  return parseHeader(bytes, off, len, out, ParseMode.Reparse);
}

/**
 * Parses the IPv4 header quoted in an ICMP error (RFC 792; RFC 1812 §4.3.2.3): the quote holds the
 * header and only the start of the payload, so total length may exceed `len` and the checksum
 * is not checked; `payloadLength` is the quoted part.
 */
export function parseIpv4Quote(bytes: Uint8Array, off: number, len: number, out: Ipv4Header): WireStatus {
  return parseHeader(bytes, off, len, out, ParseMode.Quote);
}

/**
 * Writes a 20-byte header without options from `h` (headerLength, checksum and payload fields
 * are ignored) and fills in its checksum. Returns 20, or 0 when it does not fit at `off`.
 */
export function writeIpv4Header(bytes: Uint8Array, off: number, h: Ipv4Header): number {
  if (!inRange(bytes, off, IPV4_MIN_HEADER_BYTES)) return 0;
  // The header as its 16-bit words (RFC 791 §3.1), so the checksum is summed without reading back.
  const versionIhlTos = (((IPV4_VERSION << 4) | (IPV4_MIN_HEADER_BYTES / 4)) << 8) | (h.tos & 0xff);
  const totalLength = h.totalLength & 0xffff;
  const id = h.id & 0xffff;
  const flags = (h.dontFragment ? FLAG_DF : 0) | (h.moreFragments ? FLAG_MF : 0);
  const flagsFragment = flags | ((h.fragmentOffset >>> 3) & FRAGMENT_OFFSET_MASK);
  const ttlProtocol = ((h.ttl & 0xff) << 8) | (h.protocol & 0xff);
  const src = h.src;
  const dst = h.dst;
  writeU16(bytes, off + IPV4_VERSION_IHL, versionIhlTos);
  writeU16(bytes, off + IPV4_TOTAL_LENGTH, totalLength);
  writeU16(bytes, off + IPV4_ID, id);
  writeU16(bytes, off + IPV4_FLAGS_FRAGMENT, flagsFragment);
  writeU16(bytes, off + IPV4_TTL, ttlProtocol);
  writeU32(bytes, off + IPV4_SRC, src);
  writeU32(bytes, off + IPV4_DST, dst);
  const sum = versionIhlTos + totalLength + id + flagsFragment + ttlProtocol +
    (src >>> 16) + (src & 0xffff) + (dst >>> 16) + (dst & 0xffff);
  writeU16(bytes, off + IPV4_CHECKSUM, checksumOfSum(sum));
  return IPV4_MIN_HEADER_BYTES;
}

/**
 * Decrements the TTL of a parsed header in place and updates its checksum incrementally
 * (RFC 1624 §3). A TTL of 0 or 1 cannot be forwarded (RFC 1812 §5.3.1): returns TtlExceeded
 * and leaves the header unchanged.
 */
export function decrementIpv4Ttl(bytes: Uint8Array, off: number): WireStatus {
  if (!inRange(bytes, off, IPV4_MIN_HEADER_BYTES)) return WireStatus.BadRange;
  const ttl = bytes[off + IPV4_TTL];
  if (ttl <= 1) return WireStatus.TtlExceeded;
  const protocol = bytes[off + IPV4_PROTOCOL];
  const checksum = readU16(bytes, off + IPV4_CHECKSUM);
  bytes[off + IPV4_TTL] = ttl - 1;
  writeU16(bytes, off + IPV4_CHECKSUM, checksumAdjust16(checksum, (ttl << 8) | protocol, ((ttl - 1) << 8) | protocol));
  return WireStatus.Ok;
}

/**
 * Sets Total Length and Protocol of a header with a good checksum and updates the checksum
 * incrementally (RFC 1624 §3): ESP transport mode inserts or removes ESP behind it (RFC 4303 §3.1.1).
 */
export function setIpv4LengthAndProtocol(bytes: Uint8Array, off: number, totalLength: number, protocol: number): void {
  const ttl = bytes[off + IPV4_TTL] << 8;
  let checksum = checksumAdjust16(readU16(bytes, off + IPV4_CHECKSUM), readU16(bytes, off + IPV4_TOTAL_LENGTH), totalLength);
  checksum = checksumAdjust16(checksum, ttl | bytes[off + IPV4_PROTOCOL], ttl | protocol);
  bytes[off + IPV4_PROTOCOL] = protocol;
  writeU16(bytes, off + IPV4_TOTAL_LENGTH, totalLength);
  writeU16(bytes, off + IPV4_CHECKSUM, checksum);
}

/**
 * Sets the fragment fields of the header at `off` (RFC 791 §3.2): Total Length `totalLength`,
 * Fragment Offset `offsetBytes` (a multiple of 8), MF `more`; DF and the options are kept and
 * the checksum is summed anew. A reassembled datagram is the fragment at 0 without MF.
 */
export function setIpv4Fragment(bytes: Uint8Array, off: number, totalLength: number, offsetBytes: number, more: boolean): void {
  const headerLength = (bytes[off + IPV4_VERSION_IHL] & 0x0f) * 4;
  const kept = readU16(bytes, off + IPV4_FLAGS_FRAGMENT) & ~(FLAG_MF | FRAGMENT_OFFSET_MASK);
  writeU16(bytes, off + IPV4_TOTAL_LENGTH, totalLength);
  writeU16(bytes, off + IPV4_FLAGS_FRAGMENT, kept | (more ? FLAG_MF : 0) | ((offsetBytes >>> 3) & FRAGMENT_OFFSET_MASK));
  writeU16(bytes, off + IPV4_CHECKSUM, 0);
  writeU16(bytes, off + IPV4_CHECKSUM, internetChecksum(bytes, off, headerLength));
}

/** RFC 791 §3.1: the option type's copied flag, set on options every fragment carries. */
const OPTION_COPIED = 0x80;

/**
 * Copies to `dst[to]` the header of a later fragment of the datagram whose (checked) header is at
 * `src[from]`: the fixed 20 bytes and only the options with the copied flag (RFC 791 §3.1, §3.2),
 * padded with End of Option List to 32 bits, IHL set to match. Returns the header length; the
 * fragment fields and checksum are setIpv4Fragment's. With `dst` null it only measures.
 */
export function copyIpv4LaterFragmentHeader(dst: Uint8Array | null, to: number, src: Uint8Array, from: number): number {
  const end = from + (src[from + IPV4_VERSION_IHL] & 0x0f) * 4;
  let length = IPV4_MIN_HEADER_BYTES;
  if (dst !== null) for (let k = 0; k < IPV4_MIN_HEADER_BYTES; k++) dst[to + k] = src[from + k];
  for (let i = from + IPV4_OPTIONS; i < end;) {
    const optionLength = ipv4OptionLength(src, i, end);
    if (optionLength <= 0) break;
    if ((src[i] & OPTION_COPIED) !== 0) {
      if (dst !== null) for (let k = 0; k < optionLength; k++) dst[to + length + k] = src[i + k];
      length += optionLength;
    }
    i += optionLength;
  }
  const padded = (length + 3) & ~3;
  if (dst !== null) {
    for (let k = length; k < padded; k++) dst[to + k] = OPTION_END;
    dst[to + IPV4_VERSION_IHL] = (IPV4_VERSION << 4) | (padded / 4);
  }
  return padded;
}

/** The ECN codepoint (RFC 3168 §5) of the header at `off`. */
export function readIpv4Ecn(bytes: Uint8Array, off: number): number {
  return bytes[off + IPV4_TOS] & 0x03;
}

/** Sets the ECN codepoint of a parsed header in place, updating the checksum incrementally (RFC 1624 §3). */
export function writeIpv4Ecn(bytes: Uint8Array, off: number, ecn: number): void {
  if (!inRange(bytes, off, IPV4_MIN_HEADER_BYTES)) return;
  const oldWord = readU16(bytes, off + IPV4_VERSION_IHL);
  const newWord = (oldWord & ~0x03) | (ecn & 0x03);
  writeU16(bytes, off + IPV4_VERSION_IHL, newWord);
  writeU16(bytes, off + IPV4_CHECKSUM, checksumAdjust16(readU16(bytes, off + IPV4_CHECKSUM), oldWord, newWord));
}
