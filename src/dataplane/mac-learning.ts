/**
 * Which side each station's MAC address was last seen on, so the bridge does not copy frames
 * between two stations on the same side to the other side (IEEE 802.1D §7.7 learning and
 * filtering). Fixed size, open addressing, no allocation; entries age out after 300 s (802.1D
 * default ageing time). A MAC is passed as two int32 halves read from the frame (`hi`: the first
 * 2 bytes, `lo`: the last 4 as `readU32(...) | 0`), so no 48-bit float is built per packet.
 */

export const MAC_AGEING_MS = 300_000;
/** A station learned again on the same side within this time, with no other learned in between, is not re-recorded. */
export const MAC_REFRESH_MS = 1000;
/** In keyHi: a 16-bit half is never negative. */
const EMPTY = -1;

export class MacLearningTable {
  private readonly keyHi: Int32Array;
  private readonly keyLo: Int32Array;
  private readonly side: Uint8Array;
  private readonly seenAt: Float64Array;
  private readonly mask: number;
  /** The last station recorded: a steady flow from it skips the table (its entry is at most MAC_REFRESH_MS older). */
  private lastHi = EMPTY;
  private lastLo = 0;
  private lastSide = -1;
  private lastAt = 0;

  /** `capacity` is rounded up to a power of two. */
  constructor(capacity = 4096) {
    let size = 16;
    while (size < capacity * 2) size <<= 1;
    this.keyHi = new Int32Array(size).fill(EMPTY);
    this.keyLo = new Int32Array(size);
    this.side = new Uint8Array(size);
    this.seenAt = new Float64Array(size);
    this.mask = size - 1;
  }

  /** Records that the unicast MAC `hi`:`lo` sent a frame on `side` at `now`. */
  learn(hi: number, lo: number, side: number, now: number): void {
    if (lo === this.lastLo && hi === this.lastHi && side === this.lastSide && now - this.lastAt < MAC_REFRESH_MS) return;
    this.lastHi = hi;
    this.lastLo = lo;
    this.lastSide = side;
    this.lastAt = now;
    let slot = this.slotOf(hi, lo);
    for (let probe = 0; probe < 8; probe++, slot = (slot + 1) & this.mask) {
      const keyHi = this.keyHi[slot];
      if ((keyHi === hi && this.keyLo[slot] === lo) || keyHi === EMPTY || now - this.seenAt[slot] >= MAC_AGEING_MS) {
        this.record(slot, hi, lo, side, now);
        return;
      }
    }
    // Neighbourhood full: overwrite the home slot (a miss only means flooding to the other side).
    this.record(this.slotOf(hi, lo), hi, lo, side, now);
  }

  /** The side the MAC `hi`:`lo` was last seen on, or -1 when unknown or aged out. */
  sideOf(hi: number, lo: number, now: number): number {
    let slot = this.slotOf(hi, lo);
    for (let probe = 0; probe < 8; probe++, slot = (slot + 1) & this.mask) {
      const keyHi = this.keyHi[slot];
      if (keyHi === hi && this.keyLo[slot] === lo) return now - this.seenAt[slot] < MAC_AGEING_MS ? this.side[slot] : -1;
      if (keyHi === EMPTY) return -1;
    }
    return -1;
  }

  private record(slot: number, hi: number, lo: number, side: number, now: number): void {
    this.keyHi[slot] = hi;
    this.keyLo[slot] = lo;
    this.side[slot] = side;
    this.seenAt[slot] = now;
  }

  private slotOf(hi: number, lo: number): number {
    // Mix both halves of the 48-bit address.
    return Math.imul(lo ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) & this.mask;
  }
}
