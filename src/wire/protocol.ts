/** IP protocol / IPv6 Next Header numbers used by the codecs (IANA "Assigned Internet Protocol Numbers"). */
export const IpProtocol = Object.freeze({
  HopByHop: 0,
  Icmpv4: 1,
  /** IPv4-in-IP (RFC 2003, RFC 3884). */
  Ipv4: 4,
  Tcp: 6,
  Udp: 17,
  Dccp: 33,
  /** IPv6-in-IP (RFC 4213 §3.5 6in4, RFC 8200). */
  Ipv6: 41,
  Routing: 43,
  Fragment: 44,
  Esp: 50,
  Ah: 51,
  Icmpv6: 58,
  NoNextHeader: 59,
  DestinationOptions: 60,
  Sctp: 132,
  /** Mobility Header (RFC 6275 §6.1). */
  Mobility: 135,
  UdpLite: 136,
});

/** EtherType values (IEEE 802; RFC 894, RFC 826, RFC 2464). */
export const EtherType = Object.freeze({
  Ipv4: 0x0800,
  Arp: 0x0806,
  /** 802.1Q customer VLAN tag. */
  Vlan: 0x8100,
  Ipv6: 0x86dd,
  /** 802.1ad service VLAN tag (outer tag of QinQ). */
  ServiceVlan: 0x88a8,
});

/** TTL (IPv4) and Hop Limit (IPv6) of packets the appliance originates: IANA's default, 64 (RFC 1700). */
export const DEFAULT_TTL = 64;
