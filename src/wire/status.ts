/**
 * The one outcome code of every wire parser. Parsers never throw on packet bytes: they fill a
 * caller-owned result object and return `WireStatus.Ok`, or a reason the packet must be dropped
 * (the result object's contents are then unspecified).
 */

export const WireStatus = Object.freeze({
  Ok: 0,
  /** `off`/`len` do not describe a range inside `bytes` (a caller bug, not a packet fault). */
  BadRange: 1,
  /** The buffer ends before the header (or the length its fields announce). */
  Truncated: 2,
  BadVersion: 3,
  /** IPv4 IHL below 5 (RFC 791 §3.1). */
  BadHeaderLength: 4,
  /** IPv4 total length shorter than the header. */
  BadTotalLength: 5,
  BadChecksum: 6,
  /** Malformed option TLV (IPv4 options, IPv6 HBH/DestOpt options, NDP options). */
  BadOption: 7,
  /** More IPv6 extension headers than IPV6_MAX_EXTENSION_HEADERS. */
  ExtensionChainTooLong: 8,
  /** A Routing header other than type 2 with Segments Left > 0: the final destination is unknown. */
  UnknownRoutingType: 9,
  /** A type 2 Routing header whose length or Segments Left breaks RFC 6275 §6.4. */
  BadRoutingHeader: 10,
  /** Hop-by-Hop Options header anywhere but right after the IPv6 header (RFC 8200 §4.1). */
  BadExtensionOrder: 11,
  /** IPv4 fragment whose offset + length passes 65535 (RFC 791 §3.2). */
  BadFragment: 12,
  /** UDP length field below the 8-byte header (RFC 768). */
  BadLength: 13,
  /** EtherType below 0x0600 (an 802.3 length field) or a misplaced VLAN tag. */
  UnsupportedFrame: 14,
  /** More than two VLAN tags. */
  TooManyVlanTags: 15,
  /** ARP hardware/protocol type or address lengths other than Ethernet/IPv4 (RFC 826). */
  UnsupportedAddressFormat: 16,
  /** ARP operation other than request (1) or reply (2). */
  BadOperation: 17,
  /** ESP SPI 0..255: reserved, never assigned to an SA (RFC 4303 §2.1). */
  BadSpi: 18,
  /** ESP Pad Length larger than the payload, or padding bytes not 1, 2, 3, ... (RFC 4303 §2.4). */
  BadPadding: 19,
  /** ICMP code not defined for the message type. */
  BadCode: 20,
  /** NDP message not sent with hop limit 255 (RFC 4861 §7.1.1, §6.1). */
  BadHopLimit: 21,
  /** NDP target address is multicast (RFC 4861 §7.1.1). */
  BadTarget: 22,
  /** The message type is not one this parser handles. */
  UnsupportedType: 23,
  /** TTL or hop limit would reach zero on forwarding (RFC 1812 §5.3.1, RFC 8200 §3). */
  TtlExceeded: 24,
  /** An address breaks a message rule (RA source not link-local; DAD NS not to a solicited-node group, RFC 4861). */
  BadAddress: 25,
  /** Flags contradict the message (a solicited NA sent to multicast, RFC 4861 §7.1.2). */
  BadFlags: 26,
});

export type WireStatus = (typeof WireStatus)[keyof typeof WireStatus];
