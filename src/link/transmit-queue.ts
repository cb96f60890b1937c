/**
 * The frames the link services generate (ARP and NDP replies, solicitations, ICMP errors, echo
 * replies, released queued frames), in a small preallocated FrameSlots with one transmit list per
 * NIC. The data plane sends `red[0..redCount)` and `black[0..blackCount)` with FramePort.send and
 * then calls `clear()`.
 */
import { DEFAULT_SLOT_SIZE, FrameSlots } from '../dataplane/frame-slots.js';
import { copyBytes, readU48 } from '../wire/bytes.js';
import { ETHERNET_DST } from '../wire/ethernet.js';

/** Where a frame comes from or leaves on. */
export const LinkPort = Object.freeze({
  /** Protected LAN: Neighbor Discovery, Router Advertisements, ICMPv6. */
  Red: 0,
  /** Untrusted IPv4 network: ARP, ICMPv4. */
  Black: 1,
  /** The appliance itself: what it sends to a destination beyond red is routed like red's packets (takeAddressedTo). */
  Local: 2,
});
export type LinkPort = (typeof LinkPort)[keyof typeof LinkPort];
/** A NIC: where a generated frame can be queued. */
export type NicPort = typeof LinkPort.Red | typeof LinkPort.Black;

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
  /** Frames not generated because the queue was full (cumulative). */
  overflows = 0;
  private used = 0;

  constructor(options: LinkTransmitQueueOptions = {}) {
    this.slots = new FrameSlots({ count: options.count ?? 256, slotSize: options.slotSize ?? DEFAULT_SLOT_SIZE, headroom: 0 });
    this.red = new Int32Array(this.slots.count);
    this.black = new Int32Array(this.slots.count);
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
  commit(port: NicPort, length: number): void {
    const slot = this.used++;
    this.slots.start[slot] = this.slots.base(slot);
    this.slots.length[slot] = length;
    if (port === LinkPort.Red) this.red[this.redCount++] = slot;
    else this.black[this.blackCount++] = slot;
  }

  /**
   * Moves the red frames addressed to `mac`, the router's own red MAC, into `into` (slots 0, 1,
   * ... at its headroom) and returns how many: replies to packets that came through a tunnel,
   * which the data plane routes back into it instead of sending them on red.
   */
  takeAddressedTo(mac: number, into: FrameSlots): number {
    const bytes = this.slots.bytes;
    let kept = 0;
    let taken = 0;
    for (let k = 0; k < this.redCount; k++) {
      const slot = this.red[k];
      const start = this.slots.start[slot];
      const length = this.slots.length[slot];
      if (readU48(bytes, start + ETHERNET_DST) !== mac || taken === into.count || length > into.slotSize - into.headroom) {
        this.red[kept++] = slot;
        continue;
      }
      const to = into.base(taken) + into.headroom;
      copyBytes(into.bytes, to, bytes, start, length);
      into.start[taken] = to;
      into.length[taken] = length;
      taken++;
    }
    this.redCount = kept;
    return taken;
  }

  /** Empties both lists once their frames were sent. */
  clear(): void {
    this.used = 0;
    this.redCount = 0;
    this.blackCount = 0;
  }
}
