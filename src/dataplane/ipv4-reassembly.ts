/**
 * IPv4 reassembly at the tunnel endpoint: ESP is opened only from whole datagrams (RFC 4303
 * §3.4.1), so fragments a peer or a router on the path cut are put back together first
 * (RFC 791 §3.2, RFC 815). A fixed table of datagrams being reassembled, each with a buffer as
 * large as a frame slot holds: no allocation, bounded memory, and every fragment it gives up on
 * is counted under the reason why.
 */
import { copyBytes } from '../wire/bytes.js';
import { ETHERNET_HEADER_BYTES, VLAN_TAG_BYTES } from '../wire/ethernet.js';
import { IPV4_MIN_HEADER_BYTES, setIpv4Fragment, type Ipv4Header } from '../wire/ipv4.js';
import { DropReason, type DropCounters } from './drop-reason.js';
import { DEFAULT_HEADROOM, DEFAULT_SLOT_SIZE } from './frame-slots.js';

/** add's result when the fragment was kept for its datagram (nothing to send yet). */
export const FRAGMENT_HELD = -1;
/** add's result when the fragment completed its datagram, which now lies where the fragment was. */
export const DATAGRAM_REASSEMBLED = -2;

/** RFC 791 §3.2 leaves the timer to the host; Linux's ipfrag_time is 30 s. */
export const REASSEMBLY_TIMEOUT_MS = 30_000;
/** Datagrams reassembled at once. */
const DEFAULT_REASSEMBLY_DATAGRAMS = 64;
/** Fragments one datagram may come in: enough for any real path, few enough to check by eye. */
export const MAX_FRAGMENTS_PER_DATAGRAM = 64;
/** The largest IPv4 header (IHL 15). */
const MAX_HEADER_BYTES = 60;
/** A frame slot's room for an IP datagram at the default slot size and headroom, behind a VLAN-tagged Ethernet header. */
const DEFAULT_REASSEMBLED_BYTES = DEFAULT_SLOT_SIZE - DEFAULT_HEADROOM - ETHERNET_HEADER_BYTES - VLAN_TAG_BYTES;

export interface Ipv4ReassemblyOptions {
  /** Datagrams reassembled at once (at least 1). Default DEFAULT_REASSEMBLY_DATAGRAMS. */
  datagrams?: number;
  /** The largest reassembled datagram, header included. Default DEFAULT_REASSEMBLED_BYTES. */
  datagramBytes?: number;
  /** Default REASSEMBLY_TIMEOUT_MS. */
  timeoutMs?: number;
}

export class Ipv4Reassembly {
  /**
   * Cumulative: fragments given to `add`, fragments folded into completed datagrams, and those
   * datagrams. fragments - fragmentsReassembled - heldFragments were dropped (each under its reason).
   */
  fragments = 0;
  fragmentsReassembled = 0;
  reassembled = 0;
  /** Fragments held now, waiting for the rest of their datagram. */
  heldFragments = 0;
  private readonly timeoutMs: number;
  private readonly datagramBytes: number;
  // Per datagram d: its key (RFC 791 §3.2: source, destination, protocol, identification).
  private readonly used: Uint8Array;
  private readonly source: Int32Array;
  private readonly destination: Int32Array;
  private readonly idProtocol: Int32Array;
  private readonly firstSeen: Float64Array;
  /** Header bytes of fragment 0 (0 until it came), payload bytes held, and the payload's end (-1 until the last fragment came). */
  private readonly headerLength: Int32Array;
  private readonly received: Int32Array;
  private readonly payloadEnd: Int32Array;
  /** Fragments held, and their [start, end) payload ranges, MAX_FRAGMENTS_PER_DATAGRAM pairs per datagram. */
  private readonly held: Int32Array;
  private readonly ranges: Int32Array;
  /** Fragment 0's header (MAX_HEADER_BYTES per datagram) and the payload (datagramBytes per datagram). */
  private readonly headers: Uint8Array;
  private readonly payloads: Uint8Array;

  constructor(private readonly drops: DropCounters, options: Ipv4ReassemblyOptions = {}) {
    const n = options.datagrams ?? DEFAULT_REASSEMBLY_DATAGRAMS;
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`IPv4 reassembly: datagrams must be an integer of at least 1, got ${n}`);
    this.datagramBytes = options.datagramBytes ?? DEFAULT_REASSEMBLED_BYTES;
    this.timeoutMs = options.timeoutMs ?? REASSEMBLY_TIMEOUT_MS;
    this.used = new Uint8Array(n);
    this.source = new Int32Array(n);
    this.destination = new Int32Array(n);
    this.idProtocol = new Int32Array(n);
    this.firstSeen = new Float64Array(n);
    this.headerLength = new Int32Array(n);
    this.received = new Int32Array(n);
    this.payloadEnd = new Int32Array(n);
    this.held = new Int32Array(n);
    this.ranges = new Int32Array(n * MAX_FRAGMENTS_PER_DATAGRAM * 2);
    this.headers = new Uint8Array(n * MAX_HEADER_BYTES);
    this.payloads = new Uint8Array(n * this.datagramBytes);
  }

  /**
   * Takes the fragment at bytes[off], its header parsed and checked in `h`; `limit` is the end
   * of its frame slot. Returns FRAGMENT_HELD; DATAGRAM_REASSEMBLED, when the whole datagram (header
   * with MF and offset cleared) now starts at `off`; or the DropReason of this fragment (the
   * datagram's earlier fragments it also gives up on are counted here).
   */
  add(bytes: Uint8Array, off: number, h: Ipv4Header, limit: number, now: number): number {
    this.fragments++;
    const start = h.fragmentOffset;
    const length = h.totalLength - h.headerLength;
    const end = start + length;
    // RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes; none is empty.
    if (length === 0 || (h.moreFragments && (length & 7) !== 0)) return DropReason.Malformed;
    const src = h.src | 0;
    const dst = h.dst | 0;
    const idProtocol = (h.id << 8) | h.protocol;
    let d = this.find(src, dst, idProtocol, now);
    // Refused before it can take (or evict) an entry.
    if (end > this.datagramBytes - IPV4_MIN_HEADER_BYTES) return d < 0 ? DropReason.FragmentTooBig : this.discard(d, DropReason.FragmentTooBig);
    if (d < 0) d = this.begin(src, dst, idProtocol, now);
    const pairs = d * MAX_FRAGMENTS_PER_DATAGRAM * 2;
    const count = this.held[d];
    for (let k = 0; k < count; k++) {
      const heldStart = this.ranges[pairs + 2 * k];
      const heldEnd = this.ranges[pairs + 2 * k + 1];
      // RFC 5722 §4 with erratum 3089, which Linux applies to IPv4 too: a fragment inside one
      // already held is a duplicate and only it is dropped; any other overlap discards the datagram.
      if (start >= heldStart && end <= heldEnd) return DropReason.FragmentDuplicate;
      if (start < heldEnd && heldStart < end) return this.discard(d, DropReason.FragmentOverlap);
    }
    // Two different ends, or data past the end: as overlapping.
    const knownEnd = this.payloadEnd[d];
    if (knownEnd >= 0 ? end > knownEnd || (!h.moreFragments && end !== knownEnd) : !h.moreFragments && this.maxEnd(d) > end) {
      return this.discard(d, DropReason.FragmentOverlap);
    }
    if (count === MAX_FRAGMENTS_PER_DATAGRAM) return this.discard(d, DropReason.FragmentTooBig);

    copyBytes(this.payloads, d * this.datagramBytes + start, bytes, h.payloadOffset, length);
    if (start === 0) {
      copyBytes(this.headers, d * MAX_HEADER_BYTES, bytes, off, h.headerLength);
      this.headerLength[d] = h.headerLength;
    }
    if (!h.moreFragments) this.payloadEnd[d] = end;
    this.received[d] += length;
    const headerLength = this.headerLength[d];
    if (headerLength === 0 || this.received[d] !== this.payloadEnd[d]) {
      this.ranges[pairs + 2 * count] = start;
      this.ranges[pairs + 2 * count + 1] = end;
      this.held[d] = count + 1;
      this.heldFragments++;
      return FRAGMENT_HELD;
    }
    // Complete: no overlaps, so the bytes received cover [0, payloadEnd) exactly.
    const total = headerLength + this.payloadEnd[d];
    if (off + total > limit) return this.discard(d, DropReason.FragmentTooBig);
    copyBytes(bytes, off, this.headers, d * MAX_HEADER_BYTES, headerLength);
    copyBytes(bytes, off + headerLength, this.payloads, d * this.datagramBytes, this.payloadEnd[d]);
    setIpv4Fragment(bytes, off, total, 0, false);
    this.heldFragments -= count;
    this.fragmentsReassembled += count + 1;
    this.reassembled++;
    this.used[d] = 0;
    return DATAGRAM_REASSEMBLED;
  }

  /** Gives up on datagrams older than the timeout; their fragments count as FragmentTimeout. */
  age(now: number): void {
    for (let d = 0; d < this.used.length; d++) {
      if (this.used[d] === 1 && now - this.firstSeen[d] >= this.timeoutMs) this.discard(d, DropReason.FragmentTimeout);
    }
  }

  /** The datagram with this key being reassembled, or -1 (one past its time is given up here). */
  private find(src: number, dst: number, idProtocol: number, now: number): number {
    for (let d = 0; d < this.used.length; d++) {
      if (this.used[d] === 0 || this.source[d] !== src || this.destination[d] !== dst || this.idProtocol[d] !== idProtocol) continue;
      if (now - this.firstSeen[d] < this.timeoutMs) return d;
      this.discard(d, DropReason.FragmentTimeout);
      return -1;
    }
    return -1;
  }

  /** Starts a datagram in a free entry, or in the oldest one when none is free (its fragments count as FragmentTableFull). */
  private begin(src: number, dst: number, idProtocol: number, now: number): number {
    let d = this.used.indexOf(0);
    if (d < 0) {
      d = 0;
      for (let k = 1; k < this.used.length; k++) if (this.firstSeen[k] < this.firstSeen[d]) d = k;
      this.discard(d, DropReason.FragmentTableFull);
    }
    this.used[d] = 1;
    this.source[d] = src;
    this.destination[d] = dst;
    this.idProtocol[d] = idProtocol;
    this.firstSeen[d] = now;
    this.headerLength[d] = 0;
    this.received[d] = 0;
    this.payloadEnd[d] = -1;
    this.held[d] = 0;
    return d;
  }

  /** The end of the furthest fragment held for datagram d. */
  private maxEnd(d: number): number {
    const pairs = d * MAX_FRAGMENTS_PER_DATAGRAM * 2;
    let max = 0;
    for (let k = 0; k < this.held[d]; k++) max = Math.max(max, this.ranges[pairs + 2 * k + 1]);
    return max;
  }

  /** Frees datagram d, counting its held fragments under `reason`; returns `reason` for the fragment in hand. */
  private discard(d: number, reason: DropReason): DropReason {
    const count = this.held[d];
    for (let k = 0; k < count; k++) this.drops.add(reason);
    this.heldFragments -= count;
    this.held[d] = 0;
    this.used[d] = 0;
    return reason;
  }
}
