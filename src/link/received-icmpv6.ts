/**
 * Parses a frame received on red for the router itself down to its ICMPv6 message: untagged
 * Ethernet, IPv6 with ICMPv6 directly after the fixed header (NDP and echo carry no extension
 * headers), and the ICMPv6 checksum (RFC 4443 §2.3).
 */
import { DropReason } from '../dataplane/drop-reason.js';
import { EthernetHeader, NO_VLAN, parseEthernet } from '../wire/ethernet.js';
import { Icmpv6Message, parseIcmpv6 } from '../wire/icmpv6.js';
import { Ipv6Header, parseIpv6 } from '../wire/ipv6.js';
import { EtherType, IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';

export class ReceivedIcmpv6 {
  readonly ethernet = new EthernetHeader();
  readonly ipv6 = new Ipv6Header();
  readonly icmp = new Icmpv6Message();
  /** Absolute offset and length of the ICMPv6 message. */
  offset = 0;
  length = 0;
}

/** Fills `out`; returns -1 when it holds an ICMPv6 message, else the DropReason. */
export function parseReceivedIcmpv6(bytes: Uint8Array, start: number, length: number, out: ReceivedIcmpv6): number {
  let status = parseEthernet(bytes, start, length, out.ethernet);
  if (status === WireStatus.Ok) {
    if (out.ethernet.etherType !== EtherType.Ipv6 || out.ethernet.outerVlanId !== NO_VLAN) return DropReason.Unsupported;
    status = parseIpv6(bytes, out.ethernet.l3Offset, start + length - out.ethernet.l3Offset, out.ipv6);
  }
  if (status === WireStatus.Ok) {
    if (out.ipv6.nextHeader !== IpProtocol.Icmpv6) return DropReason.Unsupported;
    out.offset = out.ipv6.payloadOffset;
    out.length = out.ipv6.payloadLength;
    status = parseIcmpv6(bytes, out.offset, out.length, out.ipv6.srcOffset, out.ipv6.dstOffset, out.icmp);
  }
  return status === WireStatus.Ok ? -1 : DropReason.Malformed;
}
