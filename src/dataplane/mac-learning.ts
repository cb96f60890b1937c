/**
 * Which side each station's MAC address was last seen on, so the bridge does not copy frames
 * between two stations on the same side to the other side (IEEE 802.1D §7.7 learning and
 * filtering). Fixed size, open addressing, no allocation; entries age out after 300 s (802.1D
 * default ageing time).
 */

export const MAC_AGEING_MS = 300_000;
const EMPTY = -1;

export class MacLearningTable {
  private readonly keys: Float64Array;
  private readonly side: Uint8Array;
  private readonly seenAt: Float64Array;
  private readonly mask: number;

  /** `capacity` is rounded up to a power of two. */
  constructor(capacity = 4096) {
    let size = 16;
    while (size < capacity * 2) size <<= 1;
    this.keys = new Float64Array(size).fill(EMPTY);
    this.side = new Uint8Array(size);
    this.seenAt = new Float64Array(size);
    this.mask = size - 1;
  }

  /** Records that the unicast MAC `mac` (a 48-bit number) sent a frame on `side` at `now`. */
  learn(mac: number, side: number, now: number): void {
    let slot = this.slotOf(mac);
    for (let probe = 0; probe < 8; probe++, slot = (slot + 1) & this.mask) {
      const key = this.keys[slot];
      if (key === mac || key === EMPTY || now - this.seenAt[slot] >= MAC_AGEING_MS) {
        this.keys[slot] = mac;
        this.side[slot] = side;
        this.seenAt[slot] = now;
        return;
      }
    }
    // Neighbourhood full: overwrite the home slot (a miss only means flooding to the other side).
    slot = this.slotOf(mac);
    this.keys[slot] = mac;
    this.side[slot] = side;
    this.seenAt[slot] = now;
  }

  /** The side `mac` was last seen on, or -1 when unknown or aged out. */
  sideOf(mac: number, now: number): number {
    let slot = this.slotOf(mac);
    for (let probe = 0; probe < 8; probe++, slot = (slot + 1) & this.mask) {
      if (this.keys[slot] === mac) return now - this.seenAt[slot] < MAC_AGEING_MS ? this.side[slot] : -1;
      if (this.keys[slot] === EMPTY) return -1;
    }
    return -1;
  }

  private slotOf(mac: number): number {
    // Mix both halves of the 48-bit address.
    const hi = Math.floor(mac / 0x1_0000_0000);
    return Math.imul((mac >>> 0) ^ Math.imul(hi, 0x9e3779b1), 0x85ebca6b) >>> 0 & this.mask;
  }
}
