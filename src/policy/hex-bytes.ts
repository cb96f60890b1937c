/**
 * Hex text of keys, pre-shared keys and key ids as operators write them. The digits are decoded
 * straight into the returned bytes, so no pooled Buffer keeps a copy of a key.
 */

const HEX_DIGITS = /^[0-9a-fA-F]+$/;

/** An even, non-zero number of hex digits (either case) as fresh bytes the caller owns; null otherwise. */
export function decodeHex(digits: string): Uint8Array | null {
  if (digits.length === 0 || digits.length % 2 !== 0 || !HEX_DIGITS.test(digits)) return null;
  const bytes = new Uint8Array(digits.length / 2);
  Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).write(digits, 'hex');
  return bytes;
}
