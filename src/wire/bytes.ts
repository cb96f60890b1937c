/** Big-endian field access and range checks shared by every codec in src/wire. */

/** True when [off, off + len) lies inside `bytes` (false for NaN or negative values). */
export function inRange(bytes: Uint8Array, off: number, len: number): boolean {
  return off >= 0 && len >= 0 && off + len <= bytes.length && Number.isInteger(off) && Number.isInteger(len);
}

export function readU16(bytes: Uint8Array, off: number): number {
  return (bytes[off] << 8) | bytes[off + 1];
}

export function readU32(bytes: Uint8Array, off: number): number {
  return ((bytes[off] << 24) | (bytes[off + 1] << 16) | (bytes[off + 2] << 8) | bytes[off + 3]) >>> 0;
}

export function writeU16(bytes: Uint8Array, off: number, value: number): void {
  bytes[off] = value >>> 8;
  bytes[off + 1] = value;
}

export function writeU32(bytes: Uint8Array, off: number, value: number): void {
  bytes[off] = value >>> 24;
  bytes[off + 1] = value >>> 16;
  bytes[off + 2] = value >>> 8;
  bytes[off + 3] = value;
}

/** Reads a 48-bit MAC address as a number (exact: 2^48 < 2^53). */
export function readU48(bytes: Uint8Array, off: number): number {
  return readU16(bytes, off) * 0x1_0000_0000 + readU32(bytes, off + 2);
}

export function writeU48(bytes: Uint8Array, off: number, value: number): void {
  // Subtracting the high part is exact and, unlike `%` on a double, needs no fmod call.
  const high = Math.floor(value / 0x1_0000_0000);
  writeU16(bytes, off, high);
  writeU32(bytes, off + 2, value - high * 0x1_0000_0000);
}

/** Moves inside one buffer up to this long are a JS loop: the copyWithin builtin call costs more than a header's bytes. */
const SHORT_MOVE_BYTES = 64;

/** Copies len bytes without allocating; correct when both ranges overlap inside one buffer. */
export function copyBytes(dst: Uint8Array, dstOff: number, src: Uint8Array, srcOff: number, len: number): void {
  if (dst === src) {
    if (len > SHORT_MOVE_BYTES) {
      dst.copyWithin(dstOff, srcOff, srcOff + len);
      return;
    }
    if (dstOff > srcOff) {
      // Moving towards the end: copy from the back so an overlap is read before it is written.
      for (let i = len - 1; i >= 0; i--) dst[dstOff + i] = dst[srcOff + i];
      return;
    }
  }
  for (let i = 0; i < len; i++) dst[dstOff + i] = src[srcOff + i];
}

