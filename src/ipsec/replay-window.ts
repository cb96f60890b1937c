/**
 * Receiver anti-replay window (RFC 4303 §3.4.3) with 64-bit Extended Sequence Number inference
 * (RFC 4303 §2.2.1, Appendix A2.2).
 *
 * The bitmap is a ring of u32 blocks that never shifts per packet (RFC 6479 §2): advancing the
 * window only zeroes the blocks that the new right edge moves into.
 *
 * Sequence numbers are JS numbers. A 64-bit ESN value is exact only up to 2^53 - 1
 * (Number.MAX_SAFE_INTEGER); the window rejects anything above that, which is far beyond any
 * lifetime (2^53 packets at 10 Mpps take 28 years). Without ESN they are plain u32 values.
 * Arguments are 32-bit halves, which callers may pass as int32 bit patterns (`x | 0`) so V8
 * keeps them unboxed; results come back as a boolean plus the `checked` field: no allocation.
 */

import { quote } from '../policy/validation.js';

/** RFC 4303 §3.4.3: a receiver MUST support a window of at least 32 packets. */
export const REPLAY_WINDOW_MIN = 32;
/**
 * This implementation's bound, not the RFC's: it caps the bitmap of each inbound SA (1 KiB at
 * 4096) and equals Linux XFRM's XFRMA_REPLAY_ESN_MAX, so a kernel peer's window always fits.
 */
export const REPLAY_WINDOW_MAX = 4096;
/** RFC 4303 §3.4.3 suggests 64 but allows larger windows: a fast link reorders more. */
export const REPLAY_WINDOW_DEFAULT = 1024;

const TWO_32 = 0x1_0000_0000;

/**
 * Why `size` cannot be an anti-replay window, or null: the one rule for SA installs and the SPD.
 * Any whole number in range works, not only multiples of 32: `check` compares with the exact
 * left edge, so the bits of a partly used bitmap word outside the window are never read.
 */
export function replayWindowProblem(size: unknown): string | null {
  if (typeof size === 'number' && Number.isInteger(size) && size >= REPLAY_WINDOW_MIN && size <= REPLAY_WINDOW_MAX) return null;
  return `${quote(size)} is not a window: use a whole number of packets from ${REPLAY_WINDOW_MIN} to ${REPLAY_WINDOW_MAX} (RFC 4303 §3.4.3)`;
}

/** Thrown when a window is configured outside its limits; `field` names the SA config field. */
export class ReplayWindowConfigError extends Error {
  override readonly name = 'ReplayWindowConfigError';
  readonly field = 'replayWindow';
}

export class ReplayWindow {
  /** Number of sequence numbers the window covers (W in RFC 4303 Appendix A). */
  readonly size: number;
  readonly esn: boolean;
  private readonly bitmap: Uint32Array;
  private readonly blockMask: number;
  /** Highest authenticated sequence number so far (T); 0 before the first packet. */
  private top = 0;
  /** The full sequence number the last `check` inferred (0 when it was invalid). */
  checked = 0;

  constructor(size: number = REPLAY_WINDOW_DEFAULT, esn = false) {
    const problem = replayWindowProblem(size);
    if (problem !== null) throw new ReplayWindowConfigError(`replayWindow: ${problem}`);
    this.size = size;
    this.esn = esn;
    // W bits can straddle ceil(W/32)+1 blocks; one spare block lets the edge advance without
    // clearing bits still inside the window (RFC 6479 §2). Power of two so the index is a mask.
    let blocks = 1;
    while (blocks < Math.ceil(size / 32) + 1) blocks <<= 1;
    this.bitmap = new Uint32Array(blocks);
    this.blockMask = blocks - 1;
  }

  /** Highest sequence number accepted so far (the right edge T), 0 before any. */
  get highest(): number {
    return this.top;
  }

  /**
   * Before the ICV check (RFC 4303 §3.4.3): infers the full sequence number from the 32 bits on
   * the wire (into `checked`) and rejects duplicates and packets left of the window.
   * Does not change the window. Returns whether the packet may be authenticated.
   */
  check(seqLow: number): boolean {
    const low = seqLow >>> 0;
    let seq = low;
    if (this.esn) {
      // RFC 4303 Appendix A2.2: the high half is the window's, or one more when the low half
      // wrapped past the top, or one less when the window straddles a 2^32 boundary and the
      // packet lies in its older part.
      const tl = this.top >>> 0;
      const th = (this.top - tl) / TWO_32;
      const w = this.size;
      let high: number;
      if (tl >= w - 1) {
        // Case A: the window lies within one subspace.
        high = low >= tl - w + 1 ? th : th + 1;
      } else {
        // Case B: the window spans two subspaces.
        high = low >= ((tl - w + 1) >>> 0) ? th - 1 : th;
      }
      // A guess below zero lies before the SA's first packet.
      seq = high < 0 ? 0 : high * TWO_32 + low;
    }
    this.checked = seq;
    // Sequence number 0 is never sent (RFC 4303 §3.3.3: the first packet carries 1).
    if (seq === 0 || seq > Number.MAX_SAFE_INTEGER) return false;
    if (seq > this.top) return true;
    if (seq + this.size <= this.top) return false;
    return ((this.bitmap[(low >>> 5) & this.blockMask] >>> (low & 31)) & 1) === 0;
  }

  /**
   * After the ICV verified (RFC 4303 §3.4.3: the window is updated only for authenticated
   * packets), with the number `check` inferred, given as its high and low 32 bits. Re-checks,
   * so that a duplicate opened in the same batch is still caught. Returns false (and changes
   * nothing) when the number is a replay or left of the window.
   */
  update(seqHigh: number, seqLow: number): boolean {
    const low = seqLow >>> 0;
    const seq = seqHigh * TWO_32 + low;
    if (seq <= 0 || seq > Number.MAX_SAFE_INTEGER) return false;
    if (seq > this.top) {
      const oldBlock = Math.floor(this.top / 32);
      let advance = Math.floor(seq / 32) - oldBlock;
      if (advance > this.bitmap.length) advance = this.bitmap.length;
      for (let k = 1; k <= advance; k++) this.bitmap[(oldBlock + k) & this.blockMask] = 0;
      this.top = seq;
    } else if (seq + this.size <= this.top) {
      return false;
    }
    const block = (low >>> 5) & this.blockMask;
    const bit = 1 << (low & 31);
    if (this.bitmap[block] & bit) return false;
    this.bitmap[block] |= bit;
    return true;
  }
}
