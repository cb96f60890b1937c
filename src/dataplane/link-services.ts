/**
 * What the pipeline asks of the link layer (ARP, Neighbor Discovery, ICMP errors). In the
 * gateway role the appliance owns addresses on its NICs and must resolve neighbors itself; in
 * the transparent role it owns none and only the ICMP error senders are used.
 * MAC addresses are 48-bit numbers; -1 means unknown.
 */

export interface LinkServices {
  readonly redMac: number;
  readonly blackMac: number;
  /** A red frame for the appliance itself (NS, NA, RS, echo to its address). True when consumed. */
  receiveRed(bytes: Uint8Array, frameStart: number, frameLength: number, now: number): boolean;
  /** A black frame for the appliance itself (ARP, echo to the TEP). True when consumed. */
  receiveBlack(bytes: Uint8Array, frameStart: number, frameLength: number, now: number): boolean;
  /** True when the 16-byte IPv6 address at bytes[off] belongs to the appliance on red. */
  ownsRedAddress(bytes: Uint8Array, off: number): boolean;
  /** MAC of the red neighbor with the IPv6 address at bytes[off], or -1 (resolution started). */
  redNeighbor(bytes: Uint8Array, off: number, now: number): number;
  /** MAC of the black neighbor with this IPv4 address (u32), or -1 (resolution started). */
  blackNeighbor(ipv4: number, now: number): number;
  /**
   * Keeps a complete frame (its dst MAC still to be filled) until the neighbor resolves, then
   * sends it. False when it cannot be kept (queue full): the caller counts the drop.
   */
  holdForRed(bytes: Uint8Array, frameStart: number, frameLength: number, addrBytes: Uint8Array, addrOff: number, now: number): boolean;
  holdForBlack(bytes: Uint8Array, frameStart: number, frameLength: number, ipv4: number, now: number): boolean;
  /** ICMPv6 Packet Too Big to the source of the IPv6 packet (RFC 4443 §3.2), rate limited. */
  packetTooBig(bytes: Uint8Array, ipv6Start: number, ipv6Length: number, mtu: number, now: number): void;
  /** ICMPv6 Time Exceeded, hop limit exceeded in transit (RFC 4443 §3.3), rate limited. */
  hopLimitExceeded(bytes: Uint8Array, ipv6Start: number, ipv6Length: number, now: number): void;
  /**
   * ICMPv4 Fragmentation Needed (RFC 1191 §4) back out of the port the packet came in on, to its
   * source, addressed at L2 to the frame's source MAC. Rate limited.
   */
  fragmentationNeeded(bytes: Uint8Array, frameStart: number, ipv4Start: number, ipv4Length: number, mtu: number, toRed: boolean, now: number): void;
}
