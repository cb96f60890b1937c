/**
 * Answers ICMPv6 Echo Requests to the router's own unicast addresses (RFC 4443 §4.2), so that
 * operators can ping their gateway. The reply goes back to the frame's sender on red; requests
 * to multicast groups are not answered (§4.2 allows it, nothing here needs it).
 */
import { DropReason } from '../dataplane/drop-reason.js';
import { copyBytes, readU48 } from '../wire/bytes.js';
import { ICMPV6_HEADER_BYTES, Icmpv6Type, writeIcmpv6Echo } from '../wire/icmpv6.js';
import { isIpv6Multicast, isIpv6Unspecified } from '../wire/ipv6.js';
import { Icmpv6FrameBuilder } from './icmpv6-frame-builder.js';
import { DEFAULT_TTL } from '../wire/protocol.js';
import { ownedIpv6 } from './link-addresses.js';
import type { LinkSettings } from './link-config.js';
import type { ReceivedIcmpv6 } from './received-icmpv6.js';
import type { LinkTransmitQueue } from './transmit-queue.js';

export class EchoCounters {
  repliesSent = 0;
  /** Requests to a multicast group, from an unusable source, with a non-zero code, or too large to answer. */
  ignored = 0;
}

export class EchoResponder {
  readonly counters = new EchoCounters();
  private readonly builder: Icmpv6FrameBuilder;

  constructor(private readonly settings: LinkSettings, transmit: LinkTransmitQueue) {
    this.builder = new Icmpv6FrameBuilder(transmit, settings.redMac);
  }

  /** Answers an Echo Request (`m` from parseReceivedIcmpv6). Returns -1 when answered, else the DropReason. */
  receive(bytes: Uint8Array, m: ReceivedIcmpv6): number {
    const owned = ownedIpv6(this.settings, bytes, m.ipv6.dstOffset);
    const src = m.ipv6.srcOffset;
    if (
      m.icmp.type !== Icmpv6Type.EchoRequest ||
      m.icmp.code !== 0 ||
      owned === null ||
      isIpv6Multicast(bytes, src) ||
      isIpv6Unspecified(bytes, src) ||
      m.length > this.builder.room
    ) {
      this.counters.ignored++;
      return DropReason.Unsupported;
    }
    const out = this.builder.bytes;
    // §4.2: from the address the request went to, with the request's identifier, sequence and data.
    const off = this.builder.begin(readU48(bytes, m.ethernet.srcOffset), owned, 0, bytes, src, DEFAULT_TTL);
    if (off < 0) return DropReason.TxError;
    writeIcmpv6Echo(out, off, Icmpv6Type.EchoReply, m.icmp.identifier, m.icmp.sequence);
    copyBytes(out, off + ICMPV6_HEADER_BYTES, bytes, m.offset + ICMPV6_HEADER_BYTES, m.length - ICMPV6_HEADER_BYTES);
    this.builder.finish(m.length);
    this.counters.repliesSent++;
    return -1;
  }
}
