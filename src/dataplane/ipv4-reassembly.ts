/**
 * IPv4 reassembly at the tunnel endpoint: ESP is opened only from whole datagrams (RFC 4303
 * §3.4.1), so fragments a peer or a router on the path cut are put back together first
 * (RFC 791 §3.2, RFC 815). A fixed table of datagrams being reassembled, each with a buffer as
 * large as a frame slot holds: no allocation, bounded memory, and every fragment it gives up on
 * is counted under the reason why.
 */
import { copyBytes } from '../wire/bytes.js';
import { IPV4_DST, IPV4_ID, IPV4_MIN_HEADER_BYTES, IPV4_PROTOCOL, IPV4_SRC, setIpv4Fragment, type Ipv4Header } from '../wire/ipv4.js';
import { DropReason, type DropCounters } from './drop-reason.js';
import { DEFAULT_SLOT_SIZE } from './frame-slots.js';

/** add's result when the fragment was kept for its datagram (nothing to send yet). */
export const FRAGMENT_HELD = -1;
/** add's result when the fragment completed its datagram, which now lies where the fragment was. */
export const DATAGRAM_REASSEMBLED = -2;

/** RFC 791 §3.2 leaves the timer to the host; Linux's ipfrag_time is 30 s. */
export const REASSEMBLY_TIMEOUT_MS = 30_000;
/** Datagrams reassembled at once. */
export const DEFAULT_REASSEMBLY_DATAGRAMS = 64;
/** Fragments one datagram may come in: enough for any real path, few enough to check by eye. */
export const MAX_FRAGMENTS_PER_DATAGRAM = 64;
/** The largest IPv4 header (IHL 15). */
const MAX_HEADER_BYTES = 60;
/** A frame slot's room for an IP datagram at the default slot size and headroom, behind a VLAN-tagged Ethernet header. */
export const DEFAULT_REASSEMBLED_BYTES = DEFAULT_SLOT_SIZE - 128 - 18;

export interface Ipv4ReassemblyOptions {
  /** Datagrams reassembled at once. Default DEFAULT_REASSEMBLY_DATAGRAMS. */
  datagrams?: number;
  /** The largest reassembled datagram, header included. Default DEFAULT_REASSEMBLED_BYTES. */
  datagramBytes?: number;
  /** Default REASSEMBLY_TIMEOUT_MS. */
  timeoutMs?: number;
}

export class Ipv4Reassembly {
  /**
   * Fragments taken (held, or completing their datagram) and datagrams completed, cumulative.
   * A fragment taken ends in a completed datagram, in a FragmentTimeout/Overlap/TooBig/TableFull
   * drop, or is still held; one refused at once is the caller's drop.
   */
  fragmentsTaken = 0;
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
  private readonly fragments: Int32Array;
  private readonly ranges: Int32Array;
  /** Fragment 0's header (MAX_HEADER_BYTES per datagram) and the payload (datagramBytes per datagram). */
  private readonly headers: Uint8Array;
  private readonly payloads: Uint8Array;

  constructor(private readonly drops: DropCounters, options: Ipv4ReassemblyOptions = {}) {
    const n = options.datagrams ?? DEFAULT_REASSEMBLY_DATAGRAMS;
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
    this.fragments = new Int32Array(n);
    this.ranges = new Int32Array(n * MAX_FRAGMENTS_PER_DATAGRAM * 2);
    this.headers = new Uint8Array(n * MAX_HEADER_BYTES);
    this.payloads = new Uint8Array(n * this.datagramBytes);
  }

  /** Datagrams waiting for fragments. */
  get pending(): number {
    let count = 0;
    for (let d = 0; d < this.used.length; d++) count += this.used[d];
    return count;
  }

  /**
   * Takes the fragment at bytes[off], its header parsed and checked in `h`; `limit` is the end
   * of its frame slot. Returns FRAGMENT_HELD; DATAGRAM_REASSEMBLED, when the whole datagram (header
   * with MF and offset cleared) now starts at `off`; or the DropReason of this fragment (the
   * datagram's earlier fragments it also gives up on are counted here).
   */
  add(bytes: Uint8Array, off: number, h: Ipv4Header, limit: number, now: number): number {
    const start = h.fragmentOffset;
    const length = h.totalLength - h.headerLength;
    const end = start + length;
    // RFC 791 §3.2: every fragment but the last carries a multiple of 8 bytes; none is empty.
    if (length === 0 || (h.moreFragments && (length & 7) !== 0)) return DropReason.Malformed;
    const d = this.datagramOf(bytes, off, now);
    if (d < 0) return DropReason.FragmentTableFull;
    const pairs = d * MAX_FRAGMENTS_PER_DATAGRAM * 2;
    const count = this.fragments[d];
    // Overlapping fragments (duplicates too) discard the datagram: RFC 5722 §4 for IPv6, which
    // Linux applies to IPv4 as well, since overlaps are how filters are evaded (RFC 1858 §4).
    for (let k = 0; k < count; k++) {
      if (start < this.ranges[pairs + 2 * k + 1] && this.ranges[pairs + 2 * k] < end) return this.discard(d, DropReason.FragmentOverlap);
    }
    const knownEnd = this.payloadEnd[d];
    if (knownEnd >= 0 ? end > knownEnd || (!h.moreFragments && end !== knownEnd) : !h.moreFragments && this.maxEnd(d) > end) {
      return this.discard(d, DropReason.FragmentOverlap);
    }
    if (end > this.datagramBytes - IPV4_MIN_HEADER_BYTES || count === MAX_FRAGMENTS_PER_DATAGRAM) return this.discard(d, DropReason.FragmentTooBig);

    copyBytes(this.payloads, d * this.datagramBytes + start, bytes, h.payloadOffset, length);
    if (start === 0) {
      copyBytes(this.headers, d * MAX_HEADER_BYTES, bytes, off, h.headerLength);
      this.headerLength[d] = h.headerLength;
    }
    if (!h.moreFragments) this.payloadEnd[d] = end;
    this.ranges[pairs + 2 * count] = start;
    this.ranges[pairs + 2 * count + 1] = end;
    this.fragments[d] = count + 1;
    this.received[d] += length;
    const headerLength = this.headerLength[d];
    if (headerLength === 0 || this.received[d] !== this.payloadEnd[d]) {
      this.heldFragments++;
      this.fragmentsTaken++;
      return FRAGMENT_HELD;
    }
    // Complete: no overlaps, so the bytes received cover [0, payloadEnd) exactly.
    const total = headerLength + this.payloadEnd[d];
    if (off + total > limit) {
      this.fragments[d] = count; // the fragment in hand is the caller's to count
      return this.discard(d, DropReason.FragmentTooBig);
    }
    copyBytes(bytes, off, this.headers, d * MAX_HEADER_BYTES, headerLength);
    copyBytes(bytes, off + headerLength, this.payloads, d * this.datagramBytes, this.payloadEnd[d]);
    setIpv4Fragment(bytes, off, total, 0, false);
    this.heldFragments -= count;
    this.used[d] = 0;
    this.fragmentsTaken++;
    this.reassembled++;
    return DATAGRAM_REASSEMBLED;
  }

  /** Gives up on datagrams older than the timeout; their fragments count as FragmentTimeout. */
  age(now: number): void {
    for (let d = 0; d < this.used.length; d++) {
      if (this.used[d] === 1 && now - this.firstSeen[d] >= this.timeoutMs) this.discard(d, DropReason.FragmentTimeout);
    }
  }

  /**
   * The datagram of the fragment at `off`: found, or started in a free entry, or in the oldest
   * one when none is free (its fragments count as FragmentTableFull). -1 when the table holds no entry at all.
   */
  private datagramOf(bytes: Uint8Array, off: number, now: number): number {
    const src = ((bytes[off + IPV4_SRC] << 24) | (bytes[off + IPV4_SRC + 1] << 16) | (bytes[off + IPV4_SRC + 2] << 8) | bytes[off + IPV4_SRC + 3]) | 0;
    const dst = ((bytes[off + IPV4_DST] << 24) | (bytes[off + IPV4_DST + 1] << 16) | (bytes[off + IPV4_DST + 2] << 8) | bytes[off + IPV4_DST + 3]) | 0;
    const idProtocol = (bytes[off + IPV4_ID] << 16) | (bytes[off + IPV4_ID + 1] << 8) | bytes[off + IPV4_PROTOCOL];
    let free = -1;
    let oldest = -1;
    for (let d = 0; d < this.used.length; d++) {
      if (this.used[d] === 0) {
        if (free < 0) free = d;
        continue;
      }
      if (this.source[d] === src && this.destination[d] === dst && this.idProtocol[d] === idProtocol) {
        if (now - this.firstSeen[d] < this.timeoutMs) return d;
        this.discard(d, DropReason.FragmentTimeout);
        free = d;
        break;
      }
      if (oldest < 0 || this.firstSeen[d] < this.firstSeen[oldest]) oldest = d;
    }
    if (free < 0) {
      if (oldest < 0) return -1;
      this.discard(oldest, DropReason.FragmentTableFull);
      free = oldest;
    }
    this.used[free] = 1;
    this.source[free] = src;
    this.destination[free] = dst;
    this.idProtocol[free] = idProtocol;
    this.firstSeen[free] = now;
    this.headerLength[free] = 0;
    this.received[free] = 0;
    this.payloadEnd[free] = -1;
    this.fragments[free] = 0;
    return free;
  }

  /** The end of the furthest fragment held for datagram d. */
  private maxEnd(d: number): number {
    const pairs = d * MAX_FRAGMENTS_PER_DATAGRAM * 2;
    let max = 0;
    for (let k = 0; k < this.fragments[d]; k++) max = Math.max(max, this.ranges[pairs + 2 * k + 1]);
    return max;
  }

  /** Frees datagram d, counting its held fragments under `reason`; returns `reason` for the fragment in hand. */
  private discard(d: number, reason: DropReason): DropReason {
    const count = this.fragments[d];
    for (let k = 0; k < count; k++) this.drops.add(reason);
    this.heldFragments -= count;
    this.fragments[d] = 0;
    this.used[d] = 0;
    return reason;
  }
}
