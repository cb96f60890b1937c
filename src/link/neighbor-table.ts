/**
 * Fixed-capacity neighbor cache (RFC 4861 §5.1, §7.3; the same table serves ARP, RFC 826 and
 * RFC 1122 §2.3.2): next-hop address -> MAC, with the states of RFC 4861 §7.3.2 reduced to
 * INCOMPLETE, REACHABLE and STALE. DELAY and PROBE are folded into STALE: a STALE entry that
 * carries traffic gets a probe timer, then up to `maxSolicitations` unicast probes (§7.3.3), and
 * is deleted when none is answered.
 *
 * Frames for a neighbor being resolved are copied into a shared preallocated pool, at most
 * `pendingPerNeighbor` per neighbor (§7.2.2: at least one; the oldest is replaced), and sent
 * with the resolved destination MAC when the neighbor answers. Lookups hash into typed arrays
 * (open addressing, linear probing, backward-shift deletion): no allocation per packet.
 */
import { FrameSlots } from '../dataplane/frame-slots.js';
import { DropReason, type DropCounters } from '../dataplane/drop-reason.js';
import { copyBytes, readU32, writeU32, writeU48 } from '../wire/bytes.js';
import { ETHERNET_DST } from '../wire/ethernet.js';
import { formatAddress, readAddressWords } from '../policy/address-text.js';
import { formatMacAddress } from './link-addresses.js';
import type { LinkSettings } from './link-config.js';
import { LinkPort, type LinkTransmitQueue } from './transmit-queue.js';

export const NeighborState = Object.freeze({
  Free: 0,
  /** Resolution in progress: solicitations sent, frames queued (RFC 4861 §7.3.2). */
  Incomplete: 1,
  /** Confirmed within the last `reachableMs`. */
  Reachable: 2,
  /** Address known but unconfirmed; used, then probed (RFC 4861 §7.3.3). */
  Stale: 3,
});
export type NeighborState = (typeof NeighborState)[keyof typeof NeighborState];

const STATE_NAMES = ['free', 'incomplete', 'reachable', 'stale'];

/** What `send` did with a frame. */
export const NeighborSend = Object.freeze({
  /** The neighbor's MAC is now the frame's destination: transmit it. */
  Addressed: 0,
  /** A copy waits for resolution; the caller's slot is free. */
  Queued: 1,
  /** Not sent and already counted in DropCounters (NeighborUnresolved, or NoRoute). */
  Dropped: 2,
});
export type NeighborSend = (typeof NeighborSend)[keyof typeof NeighborSend];

/** RFC 4861 §10 protocol constants, also used for ARP. */
export const RETRANS_TIMER_MS = 1000;
export const MAX_MULTICAST_SOLICIT = 3;
export const REACHABLE_TIME_MS = 30_000;
export const DELAY_FIRST_PROBE_TIME_MS = 5000;

export interface NeighborTableOptions {
  /** Entries; at most a quarter may be INCOMPLETE at once (RFC 6583 §7.1: resolved neighbors come first). */
  capacity: number;
  /** Frames queued per unresolved neighbor (RFC 4861 §7.2.2). */
  pendingPerNeighbor: number;
  /** Frames queued for all unresolved neighbors together. */
  pendingFrames: number;
  /** Largest frame that can be queued, in bytes. */
  frameCapacity: number;
  /** RetransTimer (RFC 4861 §10). */
  retransmitMs: number;
  /** MAX_MULTICAST_SOLICIT and MAX_UNICAST_SOLICIT (RFC 4861 §10). */
  maxSolicitations: number;
  /** ReachableTime (RFC 4861 §6.3.2). */
  reachableMs: number;
}

/** Table options from the link settings (RFC 4861 §10 values, as configured). */
export function neighborTableOptions(settings: LinkSettings, transmit: LinkTransmitQueue): NeighborTableOptions {
  const nc = settings.neighborCache;
  return {
    capacity: nc.capacity,
    pendingPerNeighbor: nc.pendingFramesPerNeighbor,
    pendingFrames: nc.pendingFrames,
    frameCapacity: transmit.frameCapacity,
    retransmitMs: nc.retransmitMs,
    maxSolicitations: nc.solicitations,
    reachableMs: nc.reachableMs,
  };
}

/** Emits the solicitation (ARP request or Neighbor Solicitation) for an entry. */
export interface NeighborSolicitor {
  /** `unicastMac` is the cached MAC for a reachability probe, or -1 for a broadcast/multicast resolution request. */
  solicit(entry: number, unicastMac: number): void;
}

export class NeighborTableCounters {
  /** Entries created for resolution or from unsolicited link-layer addresses. */
  created = 0;
  /** Entries removed to make room. */
  evicted = 0;
  /** INCOMPLETE entries that got no answer after every retransmission. */
  resolutionFailures = 0;
  /** STALE entries deleted after unanswered unicast probes. */
  probeFailures = 0;
  /** Answers that confirmed reachability. */
  confirmations = 0;
  /** Entries whose MAC changed. */
  addressChanges = 0;
  framesQueued = 0;
  framesReleased = 0;
  /** Queued frames dropped (overflow, failed resolution, eviction); also in DropCounters. */
  framesDropped = 0;
}

/** One row of `snapshot()`, for status output. */
export interface NeighborEntryView {
  address: string;
  /** "aa:bb:cc:dd:ee:ff", or "" while INCOMPLETE. */
  mac: string;
  state: string;
  queuedFrames: number;
}

const NO_TIMER = Number.POSITIVE_INFINITY;
const EMPTY = -1;

export abstract class NeighborTable {
  readonly counters = new NeighborTableCounters();
  readonly capacity: number;
  /** The key the next lookup uses (1 word for IPv4, 4 for IPv6). */
  protected readonly probe: Uint32Array;
  protected readonly keys: Uint32Array;
  private readonly keyWords: number;
  private readonly buckets: Int32Array;
  private readonly home: Int32Array;
  private readonly seed: number;
  private readonly state: Uint8Array;
  private readonly mac: Float64Array;
  private readonly timer: Float64Array;
  /** Last time the entry carried a frame or was updated: eviction picks the oldest. */
  private readonly touched: Float64Array;
  private readonly retries: Uint8Array;
  private readonly freeEntries: Int32Array;
  private freeCount: number;
  private incompleteCount = 0;
  private readonly maxIncomplete: number;
  private nextDeadline = NO_TIMER;

  private readonly pool: FrameSlots;
  private readonly poolNext: Int32Array;
  private readonly freeFrames: Int32Array;
  private freeFrameCount: number;
  private readonly queueHead: Int32Array;
  private readonly queueTail: Int32Array;
  private readonly queueLength: Int32Array;

  private solicitor: NeighborSolicitor | null = null;

  protected constructor(
    keyWords: number,
    private readonly options: NeighborTableOptions,
    private readonly transmit: LinkTransmitQueue,
    private readonly port: LinkPort,
    private readonly drops: DropCounters,
  ) {
    const n = options.capacity;
    this.capacity = n;
    this.keyWords = keyWords;
    this.probe = new Uint32Array(keyWords);
    this.keys = new Uint32Array(n * keyWords);
    let buckets = 16;
    while (buckets < 2 * n) buckets *= 2;
    this.buckets = new Int32Array(buckets).fill(EMPTY);
    this.home = new Int32Array(n);
    // A per-table seed so that nobody can pick addresses that all collide.
    this.seed = (Math.random() * 0x1_0000_0000) >>> 0;
    this.state = new Uint8Array(n);
    this.mac = new Float64Array(n);
    this.timer = new Float64Array(n).fill(NO_TIMER);
    this.touched = new Float64Array(n);
    this.retries = new Uint8Array(n);
    this.freeEntries = new Int32Array(n);
    for (let i = 0; i < n; i++) this.freeEntries[i] = n - 1 - i;
    this.freeCount = n;
    this.maxIncomplete = Math.max(1, n >>> 2);

    const p = options.pendingFrames;
    const slotSize = Math.max(256, Math.ceil(options.frameCapacity / 64) * 64);
    this.pool = new FrameSlots({ count: p, slotSize, headroom: 0 });
    this.poolNext = new Int32Array(p);
    this.freeFrames = new Int32Array(p);
    for (let i = 0; i < p; i++) this.freeFrames[i] = p - 1 - i;
    this.freeFrameCount = p;
    this.queueHead = new Int32Array(n).fill(EMPTY);
    this.queueTail = new Int32Array(n).fill(EMPTY);
    this.queueLength = new Int32Array(n);
  }

  /** Sets who sends solicitations (the ARP responder or Neighbor Discovery that owns the table). */
  attach(solicitor: NeighborSolicitor): void {
    this.solicitor = solicitor;
  }

  /** Entries in use. */
  get size(): number {
    return this.capacity - this.freeCount;
  }

  stateOf(entry: number): NeighborState {
    return this.state[entry] as NeighborState;
  }

  /** MAC of a REACHABLE or STALE entry as a 48-bit number. */
  macOf(entry: number): number {
    return this.mac[entry];
  }

  queuedFrames(entry: number): number {
    return this.queueLength[entry];
  }

  /**
   * Runs the timers (call every few hundred ms and after each batch; cheap when nothing is due):
   * retransmits solicitations, fails resolutions after `maxSolicitations` (queued frames are
   * counted as NeighborUnresolved), ages REACHABLE to STALE and probes STALE entries in use.
   */
  poll(now: number): void {
    if (now < this.nextDeadline) return;
    let next = NO_TIMER;
    for (let e = 0; e < this.capacity; e++) {
      const state = this.state[e];
      if (state === NeighborState.Free) continue;
      if (this.timer[e] <= now) {
        if (state === NeighborState.Reachable) {
          // ReachableTime passed without confirmation (RFC 4861 §7.3.3).
          this.state[e] = NeighborState.Stale;
          this.timer[e] = NO_TIMER;
        } else if (this.retries[e] < this.options.maxSolicitations) {
          this.retries[e]++;
          this.timer[e] = now + this.options.retransmitMs;
          // §7.2.2 multicast retransmissions while INCOMPLETE, §7.3.3 unicast probes otherwise.
          this.solicitor?.solicit(e, state === NeighborState.Incomplete ? -1 : this.mac[e]);
        } else {
          if (state === NeighborState.Incomplete) this.counters.resolutionFailures++;
          else this.counters.probeFailures++;
          this.remove(e);
          continue;
        }
      }
      if (this.timer[e] < next) next = this.timer[e];
    }
    this.nextDeadline = next;
  }

  /** Entries for status output (allocates; not for the data plane). */
  snapshot(): NeighborEntryView[] {
    const out: NeighborEntryView[] = [];
    for (let e = 0; e < this.capacity; e++) {
      const state = this.state[e];
      if (state === NeighborState.Free) continue;
      out.push({
        address: this.formatKey(e),
        mac: state === NeighborState.Incomplete ? '' : formatMacAddress(this.mac[e]),
        state: STATE_NAMES[state],
        queuedFrames: this.queueLength[e],
      });
    }
    return out;
  }

  protected abstract formatKey(entry: number): string;

  /** The entry holding `probe`, or -1. */
  protected findProbe(): number {
    const mask = this.buckets.length - 1;
    for (let i = this.hashProbe() & mask; ; i = (i + 1) & mask) {
      const e = this.buckets[i];
      if (e === EMPTY) return -1;
      if (this.keyEqualsProbe(e)) return e;
    }
  }

  /**
   * Addresses the frame at [start, start + length) to the neighbor `probe` (its destination MAC
   * is written at `start`), or queues a copy and starts resolution (RFC 4861 §7.2.2).
   */
  protected sendToProbe(bytes: Uint8Array, start: number, length: number, now: number): NeighborSend {
    let e = this.findProbe();
    if (e >= 0 && this.state[e] !== NeighborState.Incomplete) {
      if (this.state[e] === NeighborState.Reachable && this.timer[e] <= now) {
        this.state[e] = NeighborState.Stale;
        this.timer[e] = NO_TIMER;
      }
      if (this.state[e] === NeighborState.Stale && this.timer[e] === NO_TIMER) {
        // First use of a STALE entry: probe after DELAY_FIRST_PROBE_TIME (RFC 4861 §7.3.3).
        this.retries[e] = 0;
        this.setTimer(e, now + DELAY_FIRST_PROBE_TIME_MS);
      }
      this.touched[e] = now;
      writeU48(bytes, start + ETHERNET_DST, this.mac[e]);
      return NeighborSend.Addressed;
    }
    if (length > this.pool.slotSize) return this.dropNew();
    if (e < 0) {
      e = this.create(NeighborState.Incomplete, now);
      if (e < 0) return this.dropNew();
      const queued = this.enqueue(e, bytes, start, length);
      this.retries[e] = 1;
      this.setTimer(e, now + this.options.retransmitMs);
      this.solicitor?.solicit(e, -1);
      return queued ? NeighborSend.Queued : NeighborSend.Dropped;
    }
    return this.enqueue(e, bytes, start, length) ? NeighborSend.Queued : NeighborSend.Dropped;
  }

  /**
   * A link-layer address the neighbor `probe` announced without being asked: the source option
   * of an NS or RS, the sender of an ARP request for us (RFC 4861 §7.2.3, §6.2.6; RFC 826).
   * Creates a STALE entry (only in a free or STALE slot), updates a changed MAC to STALE and
   * completes an INCOMPLETE entry, sending its queued frames.
   */
  protected learnProbe(mac: number, now: number): void {
    let e = this.findProbe();
    if (e < 0) {
      e = this.create(NeighborState.Stale, now);
      if (e >= 0) this.mac[e] = mac;
      return;
    }
    if (this.state[e] === NeighborState.Incomplete || this.mac[e] !== mac) this.update(e, mac, NeighborState.Stale, now);
  }

  /**
   * An advertisement about the neighbor `probe` (RFC 4861 §7.2.5; an ARP reply is solicited and
   * override): never creates an entry. `mac` is -1 when the advertisement carried none.
   */
  protected confirmProbe(mac: number, solicited: boolean, override: boolean, now: number): void {
    const e = this.findProbe();
    if (e < 0) return;
    if (this.state[e] === NeighborState.Incomplete) {
      if (mac < 0) return;
      if (solicited) this.counters.confirmations++;
      this.update(e, mac, solicited ? NeighborState.Reachable : NeighborState.Stale, now);
      return;
    }
    const changed = mac >= 0 && mac !== this.mac[e];
    if (!override && changed) {
      // Not allowed to replace the cached address: at most it is no longer confirmed.
      if (this.state[e] === NeighborState.Reachable) this.setStale(e);
      return;
    }
    if (solicited) {
      this.counters.confirmations++;
      this.update(e, changed ? mac : this.mac[e], NeighborState.Reachable, now);
    } else if (changed) {
      this.update(e, mac, NeighborState.Stale, now);
    }
  }

  private hashProbe(): number {
    let h = this.seed;
    for (let i = 0; i < this.keyWords; i++) {
      h = Math.imul(h ^ this.probe[i], 0x9e3779b1);
      h ^= h >>> 15;
    }
    return h >>> 0;
  }

  private keyEqualsProbe(e: number): boolean {
    const base = e * this.keyWords;
    for (let i = 0; i < this.keyWords; i++) if (this.keys[base + i] !== this.probe[i]) return false;
    return true;
  }

  private setTimer(e: number, at: number): void {
    this.timer[e] = at;
    if (at < this.nextDeadline) this.nextDeadline = at;
  }

  private setStale(e: number): void {
    this.state[e] = NeighborState.Stale;
    this.timer[e] = NO_TIMER;
    this.retries[e] = 0;
  }

  /** Stores a MAC and a resolved state; sends what was queued while INCOMPLETE (RFC 4861 §7.2.5). */
  private update(e: number, mac: number, state: NeighborState, now: number): void {
    if (this.state[e] === NeighborState.Incomplete) this.incompleteCount--;
    else if (this.mac[e] !== mac) this.counters.addressChanges++;
    this.mac[e] = mac;
    this.touched[e] = now;
    if (state === NeighborState.Reachable) {
      this.state[e] = state;
      this.retries[e] = 0;
      this.setTimer(e, now + this.options.reachableMs);
    } else {
      this.setStale(e);
    }
    this.release(e);
  }

  /** Takes a free entry for `probe`, evicting if needed; -1 when policy forbids it. */
  private create(state: NeighborState, now: number): number {
    if (state === NeighborState.Incomplete && this.incompleteCount >= this.maxIncomplete) {
      this.evict(this.oldest(NeighborState.Incomplete));
    } else if (this.freeCount === 0) {
      // Unsolicited information may only displace STALE entries (RFC 6583 §7.1).
      let victim = this.oldest(NeighborState.Stale);
      if (victim < 0 && state === NeighborState.Incomplete) victim = this.oldest(NeighborState.Reachable);
      if (victim < 0) return -1;
      this.evict(victim);
    }
    const e = this.freeEntries[--this.freeCount];
    const base = e * this.keyWords;
    for (let i = 0; i < this.keyWords; i++) this.keys[base + i] = this.probe[i];
    const mask = this.buckets.length - 1;
    let b = this.hashProbe() & mask;
    this.home[e] = b;
    while (this.buckets[b] !== EMPTY) b = (b + 1) & mask;
    this.buckets[b] = e;
    this.state[e] = state;
    this.timer[e] = NO_TIMER;
    this.touched[e] = now;
    this.retries[e] = 0;
    if (state === NeighborState.Incomplete) this.incompleteCount++;
    this.counters.created++;
    return e;
  }

  private oldest(state: NeighborState): number {
    let victim = -1;
    for (let e = 0; e < this.capacity; e++) {
      if (this.state[e] === state && (victim < 0 || this.touched[e] < this.touched[victim])) victim = e;
    }
    return victim;
  }

  private evict(e: number): void {
    this.counters.evicted++;
    this.remove(e);
  }

  /** Frees an entry, dropping its queued frames as NeighborUnresolved. */
  private remove(e: number): void {
    while (this.queueLength[e] > 0) this.dropOldest(e);
    if (this.state[e] === NeighborState.Incomplete) this.incompleteCount--;
    this.state[e] = NeighborState.Free;
    this.timer[e] = NO_TIMER;
    this.freeEntries[this.freeCount++] = e;
    // Backward-shift deletion keeps every probe chain unbroken without tombstones.
    const mask = this.buckets.length - 1;
    let hole = this.home[e];
    while (this.buckets[hole] !== e) hole = (hole + 1) & mask;
    for (let j = (hole + 1) & mask; this.buckets[j] !== EMPTY; j = (j + 1) & mask) {
      const h = this.home[this.buckets[j]];
      // Move the entry at j into the hole unless its home lies cyclically in (hole, j].
      const stays = hole < j ? h > hole && h <= j : h > hole || h <= j;
      if (!stays) {
        this.buckets[hole] = this.buckets[j];
        hole = j;
      }
    }
    this.buckets[hole] = EMPTY;
  }

  /** Copies a frame into the entry's queue, replacing the oldest when full (RFC 4861 §7.2.2). */
  private enqueue(e: number, bytes: Uint8Array, start: number, length: number): boolean {
    if (this.queueLength[e] >= this.options.pendingPerNeighbor) this.dropOldest(e);
    if (this.freeFrameCount === 0) {
      this.dropNew();
      return false;
    }
    const f = this.freeFrames[--this.freeFrameCount];
    const off = this.pool.base(f);
    copyBytes(this.pool.bytes, off, bytes, start, length);
    this.pool.start[f] = off;
    this.pool.length[f] = length;
    this.poolNext[f] = EMPTY;
    if (this.queueTail[e] === EMPTY) this.queueHead[e] = f;
    else this.poolNext[this.queueTail[e]] = f;
    this.queueTail[e] = f;
    this.queueLength[e]++;
    this.counters.framesQueued++;
    return true;
  }

  private dequeue(e: number): number {
    const f = this.queueHead[e];
    this.queueHead[e] = this.poolNext[f];
    if (this.queueHead[e] === EMPTY) this.queueTail[e] = EMPTY;
    this.queueLength[e]--;
    this.freeFrames[this.freeFrameCount++] = f;
    return f;
  }

  private dropOldest(e: number): void {
    this.dequeue(e);
    this.counters.framesDropped++;
    this.drops.add(DropReason.NeighborUnresolved);
  }

  private dropNew(): NeighborSend {
    this.counters.framesDropped++;
    this.drops.add(DropReason.NeighborUnresolved);
    return NeighborSend.Dropped;
  }

  /** Sends the queued frames of a resolved entry to its MAC, oldest first. */
  private release(e: number): void {
    while (this.queueLength[e] > 0) {
      const f = this.dequeue(e);
      const off = this.transmit.claim();
      if (off < 0) {
        this.drops.add(DropReason.TxError);
        continue;
      }
      const length = this.pool.length[f];
      copyBytes(this.transmit.slots.bytes, off, this.pool.bytes, this.pool.start[f], length);
      writeU48(this.transmit.slots.bytes, off + ETHERNET_DST, this.mac[e]);
      this.transmit.commit(this.port, length);
      this.counters.framesReleased++;
    }
  }
}

/**
 * IPv4 neighbors (ARP, RFC 826) keyed by the address. Callers pass it as an int32 bit pattern
 * (`address | 0`), which V8 passes unboxed; a u32 names the same entry. addressOf returns the u32.
 */
export class Ipv4NeighborTable extends NeighborTable {
  constructor(options: NeighborTableOptions, transmit: LinkTransmitQueue, drops: DropCounters) {
    super(1, options, transmit, LinkPort.Black, drops);
  }

  lookup(address: number): number {
    this.probe[0] = address;
    return this.findProbe();
  }

  /** See NeighborTable.sendToProbe; `nextHop` is the IPv4 next hop. */
  send(bytes: Uint8Array, start: number, length: number, nextHop: number, now: number): NeighborSend {
    this.probe[0] = nextHop;
    return this.sendToProbe(bytes, start, length, now);
  }

  learn(address: number, mac: number, now: number): void {
    this.probe[0] = address;
    this.learnProbe(mac, now);
  }

  confirm(address: number, mac: number, solicited: boolean, override: boolean, now: number): void {
    this.probe[0] = address;
    this.confirmProbe(mac, solicited, override, now);
  }

  addressOf(entry: number): number {
    return this.keys[entry];
  }

  protected formatKey(entry: number): string {
    return formatAddress(4, readAddressWords(4, this.keys, entry));
  }
}

/** IPv6 neighbors (RFC 4861) keyed by the 16-byte address. */
export class Ipv6NeighborTable extends NeighborTable {
  constructor(options: NeighborTableOptions, transmit: LinkTransmitQueue, drops: DropCounters) {
    super(4, options, transmit, LinkPort.Red, drops);
  }

  private load(bytes: Uint8Array, off: number): void {
    for (let i = 0; i < 4; i++) this.probe[i] = readU32(bytes, off + 4 * i);
  }

  lookup(bytes: Uint8Array, off: number): number {
    this.load(bytes, off);
    return this.findProbe();
  }

  /** See NeighborTable.sendToProbe; the next hop is the 16 bytes at address[addressOff]. */
  send(bytes: Uint8Array, start: number, length: number, address: Uint8Array, addressOff: number, now: number): NeighborSend {
    this.load(address, addressOff);
    return this.sendToProbe(bytes, start, length, now);
  }

  learn(address: Uint8Array, addressOff: number, mac: number, now: number): void {
    this.load(address, addressOff);
    this.learnProbe(mac, now);
  }

  confirm(address: Uint8Array, addressOff: number, mac: number, solicited: boolean, override: boolean, now: number): void {
    this.load(address, addressOff);
    this.confirmProbe(mac, solicited, override, now);
  }

  /** Writes the entry's 16-byte address at bytes[off]. */
  writeAddress(entry: number, bytes: Uint8Array, off: number): void {
    for (let i = 0; i < 4; i++) writeU32(bytes, off + 4 * i, this.keys[entry * 4 + i]);
  }

  protected formatKey(entry: number): string {
    return formatAddress(6, readAddressWords(6, this.keys, entry * 4));
  }
}
