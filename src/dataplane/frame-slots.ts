/**
 * The preallocated frame buffer that every stage works on, VPP-style: one ArrayBuffer cut into
 * fixed-size slots. A received frame lands at `slot * slotSize + headroom`; encapsulation grows
 * into the headroom (outer headers) and the tailroom (ESP padding and ICV). Stages never
 * allocate: they move `start[i]` and `length[i]`.
 */

export interface FrameSlotsOptions {
  /** Number of slots (the largest batch). Default 256. */
  count?: number;
  /**
   * Bytes per slot, a multiple of the 64-byte cache line. Default DEFAULT_SLOT_SIZE (1500-byte
   * MTU plus L2, headroom and tailroom).
   */
  slotSize?: number;
  /** Bytes reserved in front of each received frame for outer headers. Default 128. */
  headroom?: number;
}

/**
 * 33 cache lines: an odd number, so the same offset in consecutive slots (every frame's headers)
 * falls in different cache sets. With a power-of-two stride such as 2048 every slot's headers
 * compete for the same few L1 sets and a 256-frame batch misses the L1 cache on each of them.
 */
export const DEFAULT_SLOT_SIZE = 2112;

/** Bytes kept free in front of each received frame for outer headers. */
export const DEFAULT_HEADROOM = 128;

export class FrameSlots {
  readonly count: number;
  readonly slotSize: number;
  readonly headroom: number;
  readonly buffer: ArrayBuffer;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  /** Absolute offset in `bytes` of the first byte of slot i's frame. */
  readonly start: Int32Array;
  /** Length of slot i's frame. */
  readonly length: Int32Array;

  constructor(options: FrameSlotsOptions = {}) {
    this.count = options.count ?? 256;
    this.slotSize = options.slotSize ?? DEFAULT_SLOT_SIZE;
    this.headroom = options.headroom ?? DEFAULT_HEADROOM;
    if (!Number.isInteger(this.count) || this.count < 1 || this.count > 65536) {
      throw new RangeError(`frame slots: count must be an integer from 1 to 65536, got ${this.count}`);
    }
    if (!Number.isInteger(this.slotSize) || this.slotSize < 256 || this.slotSize % 64 !== 0) {
      throw new RangeError(`frame slots: slotSize must be a multiple of 64 and at least 256, got ${this.slotSize}`);
    }
    if (!Number.isInteger(this.headroom) || this.headroom < 0 || this.headroom >= this.slotSize / 2) {
      throw new RangeError(`frame slots: headroom must be from 0 to slotSize/2, got ${this.headroom}`);
    }
    this.buffer = new ArrayBuffer(this.count * this.slotSize);
    this.bytes = new Uint8Array(this.buffer);
    this.view = new DataView(this.buffer);
    this.start = new Int32Array(this.count);
    this.length = new Int32Array(this.count);
  }

  /** First byte of slot i. */
  base(i: number): number {
    return i * this.slotSize;
  }

  /** One past the last byte slot i may use. */
  limit(i: number): number {
    return (i + 1) * this.slotSize;
  }
}
