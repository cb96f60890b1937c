/**
 * Assembles the ICMPv6 frames the router sends on red (NDP, echo replies, errors): the caller
 * writes the ICMPv6 message at the offset `begin` returns, `finish` adds the Ethernet and IPv6
 * headers and the checksum (RFC 4443 §2.3) and queues the frame. Untagged Ethernet only.
 */
import { fillIcmpv6Checksum } from '../wire/icmpv6.js';
import { ETHERNET_HEADER_BYTES, NO_VLAN, writeEthernetHeader } from '../wire/ethernet.js';
import { IPV6_DST, IPV6_HEADER_BYTES, IPV6_SRC, Ipv6Header, writeIpv6Header } from '../wire/ipv6.js';
import { EtherType, IpProtocol } from '../wire/protocol.js';
import { LinkPort, type LinkTransmitQueue } from './transmit-queue.js';

const HEADERS_BYTES = ETHERNET_HEADER_BYTES + IPV6_HEADER_BYTES;
export class Icmpv6FrameBuilder {
  private readonly header = new Ipv6Header();
  private frame = -1;
  private dstMac = 0;
  private src: Uint8Array = new Uint8Array(0);
  private srcOff = 0;
  private dst: Uint8Array = new Uint8Array(0);
  private dstOff = 0;

  constructor(private readonly transmit: LinkTransmitQueue, private readonly srcMac: number) {
    this.header.nextHeader = IpProtocol.Icmpv6;
  }

  /** The buffer `begin` offsets point into. */
  get bytes(): Uint8Array {
    return this.transmit.slots.bytes;
  }

  /** Bytes the ICMPv6 message may have. */
  get room(): number {
    return this.transmit.frameCapacity - HEADERS_BYTES;
  }

  /**
   * Starts a frame to `dstMac` from the IPv6 address at src[srcOff] to dst[dstOff]. Returns the
   * offset in `transmit.slots.bytes` where the ICMPv6 message goes, or -1 when the queue is
   * full. The address arrays are read by `finish`, so they must stay unchanged until then.
   */
  begin(dstMac: number, src: Uint8Array, srcOff: number, dst: Uint8Array, dstOff: number, hopLimit: number): number {
    this.frame = this.transmit.claim();
    if (this.frame < 0) return -1;
    this.dstMac = dstMac;
    this.src = src;
    this.srcOff = srcOff;
    this.dst = dst;
    this.dstOff = dstOff;
    this.header.hopLimit = hopLimit;
    return this.frame + HEADERS_BYTES;
  }

  /** Writes the headers and checksum around the `icmpLength`-byte message and queues the frame on red. */
  finish(icmpLength: number): void {
    const bytes = this.transmit.slots.bytes;
    const ip = this.frame + ETHERNET_HEADER_BYTES;
    writeEthernetHeader(bytes, this.frame, this.dstMac, this.srcMac, NO_VLAN, EtherType.Ipv6);
    this.header.payloadLength = icmpLength;
    writeIpv6Header(bytes, ip, this.header, this.src, this.srcOff, this.dst, this.dstOff);
    fillIcmpv6Checksum(bytes, ip + IPV6_HEADER_BYTES, icmpLength, ip + IPV6_SRC, ip + IPV6_DST);
    this.transmit.commit(LinkPort.Red, HEADERS_BYTES + icmpLength);
    this.frame = -1;
  }
}
