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
 */

export const REPLAY_WINDOW_MIN = 64;
export const REPLAY_WINDOW_MAX = 4096;
export const REPLAY_WINDOW_DEFAULT = 1024;
/** Returned by `check` when the packet is a replay, too old, or not a valid sequence number. */
export const SEQ_REJECTED = -1;

const TWO_32 = 0x1_0000_0000;

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

  constructor(size: number = REPLAY_WINDOW_DEFAULT, esn = false) {
    if (!Number.isInteger(size) || size < REPLAY_WINDOW_MIN || size > REPLAY_WINDOW_MAX) {
      throw new ReplayWindowConfigError(
        `replayWindow must be an integer from ${REPLAY_WINDOW_MIN} to ${REPLAY_WINDOW_MAX}, got ${size}`);
    }
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
   * the wire and rejects duplicates and packets left of the window. Does not change the window.
   * Returns the full sequence number (>= 1), or SEQ_REJECTED.
   */
  check(seqLow: number): number {
    const low = seqLow >>> 0;
    const seq = this.esn ? this.inferEsn(low) : low;
    // Sequence number 0 is never sent (RFC 4303 §3.3.3: the first packet carries 1).
    if (seq <= 0 || seq > Number.MAX_SAFE_INTEGER) return SEQ_REJECTED;
    if (seq > this.top) return seq;
    if (seq + this.size <= this.top) return SEQ_REJECTED;
    return (this.bitmap[(low >>> 5) & this.blockMask] >>> (low & 31)) & 1 ? SEQ_REJECTED : seq;
  }

  /**
   * After the ICV verified (RFC 4303 §3.4.3: the window is updated only for authenticated
   * packets). Re-checks, so that a duplicate opened in the same batch is still caught.
   * Returns false (and changes nothing) when `seq` is a replay or left of the window.
   */
  update(seq: number): boolean {
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
    const low = seq >>> 0;
    const block = (low >>> 5) & this.blockMask;
    const bit = 1 << (low & 31);
    if (this.bitmap[block] & bit) return false;
    this.bitmap[block] |= bit;
    return true;
  }

  /**
   * RFC 4303 Appendix A2.2: the high half is the window's, or one more when the low half
   * wrapped past the top, or one less when the window straddles a 2^32 boundary and the packet
   * lies in its older part. Returns -1 for a guess below zero (before the SA's first packet).
   */
  private inferEsn(low: number): number {
    const tl = this.top >>> 0;
    const th = (this.top - tl) / TWO_32;
    const w = this.size;
    let th2: number;
    if (tl >= w - 1) {
      // Case A: the window lies within one subspace.
      th2 = low >= tl - w + 1 ? th : th + 1;
    } else {
      // Case B: the window spans two subspaces.
      th2 = low >= ((tl - w + 1) >>> 0) ? th - 1 : th;
    }
    return th2 < 0 ? -1 : th2 * TWO_32 + low;
  }
}
