/**
 * The path MTU toward each peer (RFC 1191): it starts at the black link's MTU, an ICMPv4
 * Fragmentation Needed that quotes a packet we sent to the peer lowers it (§6.2), and it ages
 * back to the link MTU (§6.3). Index as settings.peers.
 */
import type { SecurityAssociationDatabase } from '../ipsec/sad.js';
import { SpdAction, type SecurityPolicyDatabase } from '../policy/spd.js';
import { MIN_IPV4_PATH_MTU, MIN_TUNNEL_PATH_MTU } from '../tunnel/tunnel-mtu.js';
import { readU16, readU32 } from '../wire/bytes.js';
import { ESP_SPI } from '../wire/esp.js';
import { ICMPV4_CODE_FRAGMENTATION_NEEDED, Icmpv4Message, Icmpv4Type, parseIcmpv4, parseIcmpv4Quote } from '../wire/icmpv4.js';
import { Ipv4Header } from '../wire/ipv4.js';
import { IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { UDP_DST_PORT } from '../wire/udp.js';
import { DropReason } from './drop-reason.js';
import { peerIndexOfTep } from './settings.js';

/** report's result when the report was taken (consumed), else a DropReason. */
export const REPORT_TAKEN = -1;

/** RFC 1191 §6.3 suggests about 10 minutes before a lowered path MTU is tried again. */
export const PATH_MTU_AGE_MS = 10 * 60 * 1000;

export class PeerPathMtu {
  /** Current path MTU toward each peer. */
  readonly mtu: Float64Array;
  /** Reductions so far. */
  updates = 0;
  /** When each peer's path MTU was last lowered (ms). */
  private readonly loweredAt: Float64Array;
  /** The report being read and the header it quotes, reused for every report. */
  private readonly message = new Icmpv4Message();
  private readonly quoted = new Ipv4Header();

  /** `peerTeps`: each peer's TEP as an int32 bit pattern; `localTep`: ours (u32). */
  constructor(
    private readonly linkMtu: number,
    private readonly localTep: number,
    private readonly peerTeps: Int32Array,
    private readonly spd: SecurityPolicyDatabase,
    private readonly sad: SecurityAssociationDatabase,
  ) {
    this.mtu = new Float64Array(peerTeps.length).fill(linkMtu);
    this.loweredAt = new Float64Array(peerTeps.length);
  }

  /** RFC 1191 §6.3: a lowered estimate may be stale; try the link MTU again PATH_MTU_AGE_MS after the last reduction. */
  age(now: number): void {
    for (let p = 0; p < this.mtu.length; p++) {
      if (this.mtu[p] < this.linkMtu && now - this.loweredAt[p] >= PATH_MTU_AGE_MS) this.mtu[p] = this.linkMtu;
    }
  }

  /**
   * An ICMPv4 packet to our TEP, its header parsed in `h`: when it is a Fragmentation Needed
   * quoting a packet we sent to a peer, lowers that peer's path MTU (RFC 1191 §6.2) and returns
   * REPORT_TAKEN. Otherwise the reason to drop it: Malformed for a broken ICMP message,
   * Unsupported for any other ICMP.
   */
  report(bytes: Uint8Array, h: Ipv4Header, now: number): number {
    const m = this.message;
    const q = this.quoted;
    // RFC 792: a report whose checksum fails is not one; the quote holds the header we sent and
    // the first 64 bits of its payload (ESP: SPI and sequence number).
    if (parseIcmpv4(bytes, h.payloadOffset, h.payloadLength, m) !== WireStatus.Ok) return DropReason.Malformed;
    if (m.type !== Icmpv4Type.DestinationUnreachable || m.code !== ICMPV4_CODE_FRAGMENTATION_NEEDED) return DropReason.Unsupported;
    if (parseIcmpv4Quote(bytes, m, q) !== WireStatus.Ok || q.src !== this.localTep) return DropReason.Unsupported;
    const peerTep = q.dst;
    if (!this.quotesOurTunnelPacket(bytes, q.protocol, q.payloadOffset, peerTep)) return DropReason.Unsupported;
    const p = peerIndexOfTep(this.peerTeps, peerTep | 0);
    if (p < 0) return DropReason.Unsupported;
    const mtu = m.nextHopMtu;
    // Only ever lower it; ignore reports below the IPv4 minimum (RFC 1191 §3), and keep room
    // for a 1280-byte IPv6 packet, the smallest tunnel MTU (RFC 4213 §3.2), since the gateway
    // does not fragment after ESP: a lower estimate would only black-hole the tunnel.
    const lowered = Math.max(mtu, MIN_TUNNEL_PATH_MTU);
    if (mtu >= MIN_IPV4_PATH_MTU && lowered < this.mtu[p]) {
      this.mtu[p] = lowered;
      this.loweredAt[p] = now;
      this.updates++;
    }
    return REPORT_TAKEN;
  }

  /**
   * RFC 4301 §8.2.1: a PMTU report is mapped to the SA it is about, so it must quote a packet
   * we send to `peerTep`: ESP with the SPI of our outbound SA to it, ESP-in-UDP to that SA's
   * port (RFC 3948), or clear 6in4 to a peer no SA protects (policy BYPASS). Anything else is
   * forged (an off-path sender cannot know the SPI) and must not shrink the tunnel.
   */
  private quotesOurTunnelPacket(bytes: Uint8Array, protocol: number, payload: number, peerTep: number): boolean {
    const entries = this.spd.entries;
    let protectedPeer = false;
    for (let k = 0; k < entries.length; k++) {
      const sa = entries[k].action === SpdAction.Protect ? this.sad.lookupOutbound(entries[k].id) : null;
      if (sa === null || sa.outerIpv6 || sa.destinationV4 >>> 0 !== peerTep) continue;
      protectedPeer = true;
      if (sa.udpEncapsulated ? protocol === IpProtocol.Udp && readU16(bytes, payload + UDP_DST_PORT) === sa.udpDestinationPort
        : protocol === IpProtocol.Esp && readU32(bytes, payload + ESP_SPI) === sa.spi) return true;
    }
    return protocol === IpProtocol.Ipv6 && !protectedPeer;
  }
}
