/**
 * The Internet checksum (RFC 1071) and its incremental update (RFC 1624).
 *
 * Sums are 16-bit one's-complement sums, folded but not complemented, so they chain:
 * pass one sum as `initial` of the next range. A checksum field holds `~sum & 0xffff`.
 */

/** Folds carries above bit 15 back into the low 16 bits (RFC 1071 §4.1). */
function fold(sum: number): number {
  // A shift while the sum fits 32 bits (any sum over a 64 KiB packet does); exact division beyond.
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum <= 0xffff_ffff ? sum >>> 16 : Math.floor(sum / 0x10000));
  return sum;
}

/**
 * One's-complement sum of bytes[off, off + len) as big-endian 16-bit words, plus `initial`.
 * An odd final byte is padded with a zero byte (RFC 1071 §4.1).
 */
function onesComplementSum(bytes: Uint8Array, off: number, len: number, initial = 0): number {
  let sum = initial;
  const end = off + len;
  const even = off + (len & ~1);
  let i = off;
  for (; i < even; i += 2) sum += (bytes[i] << 8) | bytes[i + 1];
  if (i < end) sum += bytes[i] << 8;
  return fold(sum);
}

/** The checksum field value for a range (0 when verifying a range that includes a correct checksum). */
export function internetChecksum(bytes: Uint8Array, off: number, len: number, initial = 0): number {
  return checksumOfSum(onesComplementSum(bytes, off, len, initial));
}

/** The checksum field value for a sum of 16-bit words (folded here, then complemented). */
export function checksumOfSum(sum: number): number {
  return ~fold(sum) & 0xffff;
}

/**
 * Sum of the IPv6 pseudo-header (RFC 8200 §8.1): source and destination addresses read at
 * srcOff/dstOff, the 32-bit upper-layer length and the next header value.
 */
export function ipv6PseudoHeaderSum(bytes: Uint8Array, srcOff: number, dstOff: number, nextHeader: number, length: number): number {
  const addresses = onesComplementSum(bytes, dstOff, 16, onesComplementSum(bytes, srcOff, 16));
  return fold(addresses + Math.floor(length / 0x10000) + (length & 0xffff) + nextHeader);
}

/** Updates a checksum after one 16-bit word changed from oldWord to newWord: HC' = ~(~HC + ~m + m') (RFC 1624 §3, eqn. 3). */
export function checksumAdjust16(checksum: number, oldWord: number, newWord: number): number {
  return ~fold((~checksum & 0xffff) + (~oldWord & 0xffff) + (newWord & 0xffff)) & 0xffff;
}

