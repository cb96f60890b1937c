/**
 * The frames the link services generate (ARP and NDP replies, solicitations, ICMP errors, echo
 * replies, released queued frames), in a small preallocated FrameSlots with one transmit list per
 * NIC, and one of replies to senders beyond a tunnel, which the data plane routes (takeLocal). It
 * sends `red[0..redCount)` and `black[0..blackCount)` with FramePort.send and then calls `clear()`.
 */
import { DEFAULT_SLOT_SIZE, FrameSlots } from '../dataplane/frame-slots.js';
import { copyBytes } from '../wire/bytes.js';

/** The NIC a generated frame leaves on. */
export const LinkPort = Object.freeze({
  /** Protected LAN: Neighbor Discovery, Router Advertisements, ICMPv6. */
  Red: 0,
  /** Untrusted IPv4 network: ARP, ICMPv4. */
  Black: 1,
});
export type LinkPort = (typeof LinkPort)[keyof typeof LinkPort];

export interface LinkTransmitQueueOptions {
  /** Frames that can wait for one flush. Default 256 (one receive batch, each answered once). */
  count?: number;
  /** Bytes per frame slot; must hold the largest frame queued for neighbor resolution. Default DEFAULT_SLOT_SIZE, the data plane's. */
  slotSize?: number;
}

export class LinkTransmitQueue {
  readonly slots: FrameSlots;
  /** Slot indexes to send on the red NIC, in order. */
  readonly red: Int32Array;
  redCount = 0;
  /** Slot indexes to send on the black NIC, in order. */
  readonly black: Int32Array;
  blackCount = 0;
  /** Slot indexes of frames the data plane routes itself (routeLocally), in order. */
  private readonly local: Int32Array;
  private localCount = 0;
  /** Frames not generated, or not routed, because the queue was full (cumulative). */
  overflows = 0;
  private used = 0;

  constructor(options: LinkTransmitQueueOptions = {}) {
    this.slots = new FrameSlots({ count: options.count ?? 256, slotSize: options.slotSize ?? DEFAULT_SLOT_SIZE, headroom: 0 });
    this.red = new Int32Array(this.slots.count);
    this.black = new Int32Array(this.slots.count);
    this.local = new Int32Array(this.slots.count);
  }

  /** Frames that can still be queued before the next flush. */
  get free(): number {
    return this.slots.count - this.used;
  }

  /** Bytes one frame may have. */
  get frameCapacity(): number {
    return this.slots.slotSize;
  }

  /**
   * Reserves the next slot and returns the offset in `slots.bytes` to write a frame of at most
   * `frameCapacity` bytes at, or -1 (counted in `overflows`) when the queue is full. Until
   * `commit`, the next `claim` returns the same slot, so an abandoned frame costs nothing.
   */
  claim(): number {
    if (this.used === this.slots.count) {
      this.overflows++;
      return -1;
    }
    return this.slots.base(this.used);
  }

  /** Queues the frame written after the last `claim` with `length` bytes on `port`. */
  commit(port: LinkPort, length: number): void {
    const slot = this.used++;
    this.slots.start[slot] = this.slots.base(slot);
    this.slots.length[slot] = length;
    if (port === LinkPort.Red) this.red[this.redCount++] = slot;
    else this.black[this.blackCount++] = slot;
  }

  /**
   * Moves the red frames queued since the red list held `since` frames to the local list: replies
   * to packets that came through a tunnel, which the data plane routes back into it (takeLocal)
   * instead of sending them on red.
   */
  routeLocally(since: number): void {
    for (let k = since; k < this.redCount; k++) this.local[this.localCount++] = this.red[k];
    this.redCount = since;
  }

  /**
   * Copies the local list's frames into `into` (slots 0, 1, ... at its headroom) and empties it;
   * returns how many. Frames that do not fit are counted in `overflows`.
   */
  takeLocal(into: FrameSlots): number {
    let taken = 0;
    for (let k = 0; k < this.localCount; k++) {
      const slot = this.local[k];
      const length = this.slots.length[slot];
      if (taken === into.count || length > into.slotSize - into.headroom) {
        this.overflows++;
        continue;
      }
      const to = into.base(taken) + into.headroom;
      copyBytes(into.bytes, to, this.slots.bytes, this.slots.start[slot], length);
      into.start[taken] = to;
      into.length[taken] = length;
      taken++;
    }
    this.localCount = 0;
    return taken;
  }

  /** Empties both lists once their frames were sent. */
  clear(): void {
    this.used = 0;
    this.redCount = 0;
    this.blackCount = 0;
    this.localCount = 0;
  }
}
