/**
 * Why the data plane dropped a packet. Every drop is counted under exactly one reason, so the
 * counters explain every packet that came in and did not go out.
 */

export const DropReason = Object.freeze({
  /** No SPD entry matched: missing policy means DISCARD (RFC 4301 §4.4.1, fail closed). */
  NoPolicy: 0,
  /** An SPD entry with action DISCARD matched. */
  Discard: 1,
  /** Sequence number already seen or left of the window (RFC 4303 §3.4.3). */
  Replay: 2,
  /** ICV did not verify (RFC 4303 §3.4.4). */
  IcvFailure: 3,
  /** Pad length or padding content wrong after decryption (RFC 4303 §2.4). */
  BadPadding: 4,
  /** Decrypted packet does not match the selectors of the SA it came on (RFC 4301 §5.2). */
  SelectorMismatch: 5,
  /** 6in4/IPIP outer source is not the configured remote tunnel endpoint (RFC 4213 §3.6). */
  SpoofedTunnelSource: 6,
  /** Inner source outside the prefixes configured for the peer (RFC 4213 §3.6, RFC 3884 §4). */
  IngressFilter: 7,
  /** TTL or hop limit exhausted (RFC 1812 §5.3.1, RFC 8200 §3). */
  TtlExceeded: 8,
  /** Too big for the path after encapsulation; an ICMP error was sent where the rules allow. */
  Mtu: 9,
  /** Frame or packet failed to parse (the wire status says why). */
  Malformed: 10,
  /** PROTECT matched but there is no usable outbound SA yet (IKE has not installed one). */
  NoSa: 11,
  /** ESP with an SPI the SAD does not know (RFC 4303 §3.4.2). */
  UnknownSpi: 12,
  /** Clear traffic arrived where policy requires ESP (RFC 4301 §5.2, RFC 4891 §5.1). */
  ClearWherePolicyRequiresEsp: 13,
  /** The SA reached a hard lifetime or sequence-number limit and must be rekeyed (RFC 4303 §3.3.3). */
  SaExpired: 14,
  /** Next hop or neighbor could not be resolved (ARP / Neighbor Discovery) in time. */
  NeighborUnresolved: 15,
  /** No route: an IPv6 destination outside every peer's prefixes. */
  NoRoute: 16,
  /**
   * An IP fragment where a whole datagram is required (ESP is never applied to a fragment, RFC
   * 4303 §3.3.4); or, in the transparent role, a datagram reassembled from fragments between an
   * inbound SA's endpoints that was not ESP of an SA it holds (it is not bridged as one frame).
   */
  Fragment: 17,
  /** EtherType or protocol the appliance neither forwards nor terminates. */
  Unsupported: 18,
  /** IKE arrived but no IKE daemon runs yet. */
  IkeUnavailable: 19,
  /** ECN CE on the outer header of a Not-ECT inner packet (RFC 6040 §4.2). */
  EcnIncompatible: 20,
  /** The transmit call failed or the link was down, or a queue had no room for the frame. */
  TxError: 21,
  /** An inner DF bit was set and the packet would need fragmenting (RFC 3884 appendix). */
  DontFragment: 22,
  /** A frame from a NIC with the appliance's own MAC as its source: forged, or a loop (as a Linux bridge drops it). */
  OwnSourceMac: 23,
  /** A fragment whose datagram did not complete within the reassembly timeout (RFC 791 §3.2). */
  FragmentTimeout: 24,
  /** A fragment overlapping another of its datagram: the datagram is discarded (RFC 5722 §4, as Linux does for IPv4). */
  FragmentOverlap: 25,
  /** A fragment of a datagram longer than a frame slot holds, or cut into more fragments than the appliance keeps. */
  FragmentTooBig: 26,
  /** A fragment given up to make room: more datagrams were being reassembled at once than the table holds. */
  FragmentTableFull: 27,
  /** A fragment whose bytes are already held (a duplicate): dropped alone, its datagram kept (RFC 5722 erratum 3089). */
  FragmentDuplicate: 28,
});

export type DropReason = (typeof DropReason)[keyof typeof DropReason];

export const DROP_REASON_NAMES: readonly string[] = (() => {
  const names: string[] = [];
  for (const [name, value] of Object.entries(DropReason)) names[value] = name.replace(/[A-Z]/g, (c, i) => (i ? '-' : '') + c.toLowerCase());
  return Object.freeze(names);
})();

/** Per-reason drop counters, no allocation on the hot path. */
export class DropCounters {
  readonly counts = new Float64Array(DROP_REASON_NAMES.length);

  add(reason: DropReason): void {
    this.counts[reason]++;
  }

  total(): number {
    let sum = 0;
    for (const c of this.counts) sum += c;
    return sum;
  }

  /** Non-zero counters by name, e.g. { "no-policy": 3 }. */
  snapshot(): Record<string, number> {
    const out: Record<string, number> = {};
    for (let i = 0; i < this.counts.length; i++) if (this.counts[i]) out[DROP_REASON_NAMES[i]] = this.counts[i];
    return out;
  }
}
