/**
 * The data plane: one batch of frames from one port goes through
 *   classify -> policy -> transform (6in4, ESP seal or open) -> L2 rewrite -> transmit lists,
 * in place inside the frame slots, with no allocation per packet (VPP-style vectors).
 *
 * Every packet that leaves black is checked against the SPD at the header it leaves with
 * (RFC 4301 §5.1): IPv6 from red is first looked up on its own header (a tunnel-mode PROTECT
 * entry, RFC 4891 App. A), otherwise routed into a peer's 6in4 tunnel and looked up again as
 * the IPv4 protocol-41 packet (RFC 4891 §5.1). No match means DISCARD (fail closed). Those
 * rules, cached per flow, are PolicyDecisions'; the path MTU toward each peer is PeerPathMtu's.
 */
import type { SecurityAssociationDatabase } from '../ipsec/sad.js';
import type { SecurityAssociation } from '../ipsec/security-association.js';
import { EspStatus, NO_ESP_PACKETS, espDropReason } from '../ipsec/esp.js';
import { EspEncryptor } from '../ipsec/esp-outbound.js';
import { EspDecryptor } from '../ipsec/esp-inbound.js';
import { Direction, PacketSelectorExtractor, PacketSelectors } from '../policy/packet-selectors.js';
import { InboundSelectorCheck, NO_MATCH, SpdAction, type SecurityPolicyDatabase } from '../policy/spd.js';
import { copyBytes, readU16, readU32, writeU48 } from '../wire/bytes.js';
import { ARP_BYTES, ARP_SENDER_IP, ARP_TARGET_IP } from '../wire/arp.js';
import { ESP_IN_UDP_PORT } from '../wire/esp.js';
import { ETHERNET_ADDRESSES_BYTES, ETHERNET_HEADER_BYTES, ETHERNET_SRC, EthernetHeader, NO_VLAN, VLAN_TAG_BYTES, parseEthernet, writeEthernetHeaderFrom } from '../wire/ethernet.js';
import { IPV4_MIN_HEADER_BYTES, Ipv4Header, copyIpv4LaterFragmentHeader, isIpv4Fragment, parseIpv4, reparseIpv4, setIpv4Fragment } from '../wire/ipv4.js';
import { IPV6_DST, IPV6_HEADER_BYTES, IPV6_MIN_MTU, Ipv6Header, decrementHopLimit, isIpv6LinkLocal, parseIpv6 } from '../wire/ipv6.js';
import { EtherType, IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { UDP_DST_PORT } from '../wire/udp.js';
import { SixInFourEncapsulator, SixInFourInner, SIX_IN_FOUR_OVERHEAD, decapsulateSixInFour, TUNNEL_PASS, type SixInFourEndpoints } from '../tunnel/six-in-four.js';
import { MIN_IPV4_PATH_MTU, espWireLength, largestEspPayload } from '../tunnel/tunnel-mtu.js';
import { DropCounters, DropReason } from './drop-reason.js';
import { DATAGRAM_REASSEMBLED, FRAGMENT_HELD, Ipv4Reassembly } from './ipv4-reassembly.js';
import { PeerPathMtu, REPORT_TAKEN } from './peer-path-mtu.js';
import { PolicyDecisions, RedDecision } from './policy-decisions.js';
import type { FrameSlots } from './frame-slots.js';
import { MacLearningTable } from './mac-learning.js';
import { peerIndexOfTep, type DataplaneSettings } from './settings.js';
import type { LinkServices } from '../link/link-services.js';
import { DESTINATION_UNREACHABLE_NO_ROUTE, type IcmpErrorSender } from '../link/icmp-errors.js';
import { LinkPort, type LinkTransmitQueue } from '../link/transmit-queue.js';
import { NeighborSend } from '../link/neighbor-table.js';

/**
 * Where a batch comes from: a NIC (the same two ports the link layer sends on), or the appliance
 * itself (Local: its replies to senders beyond a tunnel, routed like red's IPv6).
 */
export const Port = Object.freeze({ ...LinkPort, Local: 2 });

export type Port = (typeof Port)[keyof typeof Port];

/** What happens to a slot after classification. */
const Verdict = Object.freeze({
  Drop: 0,
  /** Leave as received (bridged frame): send unchanged. */
  BridgeToRed: 1,
  BridgeToBlack: 2,
  /** Seal with ESP, then send to black. */
  Seal: 3,
  /** Open ESP, then decide again. */
  Open: 4,
  /** Forward an IP packet (start/length = L3) to red or black after an L2 rewrite. */
  ForwardToRed: 5,
  ForwardToBlack: 6,
  /** The link layer handled it (answered, learned, or keeps it); nothing to send from this slot. */
  Consumed: 7,
});

/** Offset of the "to ourselves on red" MACs in Pipeline.routeMacs. */
const SELF_MACS = 2 * ETHERNET_ADDRESSES_BYTES;

/** l2Vlan of a QinQ frame: the L2 rewrite writes at most one tag, so such frames are only bridged. */
const TWO_VLAN_TAGS = -2;

/** How the L2 header of a forwarded packet is built. */
const L2Mode = Object.freeze({
  /** Reuse the received frame's MACs and VLAN tag (transparent role). */
  Preserve: 0,
  /** Our MAC as source, the resolved neighbor as destination (gateway role). */
  Route: 1,
});

/** Pipeline counters besides drops (all plain numbers, read by status()). */
export class PipelineCounters {
  redFrames = 0;
  blackFrames = 0;
  /** Unicast frames for other stations on red that a promiscuous port sees (not drops). */
  notForUs = 0;
  /** Frames between two stations on the same side, which the bridge does not copy across (802.1D). */
  filtered = 0;
  bridgedToRed = 0;
  bridgedToBlack = 0;
  sealed = 0;
  opened = 0;
  /** Frames handled by ARP / ND / ICMP on the appliance itself. */
  local = 0;
  toRed = 0;
  toBlack = 0;
  /** Forwarded frames waiting for ARP/ND resolution. */
  held = 0;
  /** NAT-T keepalives (RFC 3948 §2.3) consumed. */
  keepalives = 0;
  /** Frames the appliance originated that were routed (replies to packets that came through a tunnel). */
  originated = 0;
  /** Sealed packets sent as IPv4 fragments (RFC 4303 §3.3.4); each fragment counts in toBlack. */
  fragmented = 0;
}

/** Transmit list of one port: slot indexes to send, in order. */
export class TransmitList {
  readonly slots: Uint16Array;
  count = 0;
  constructor(capacity: number) {
    this.slots = new Uint16Array(capacity);
  }
}

export interface PipelineParts {
  readonly settings: DataplaneSettings;
  readonly spd: SecurityPolicyDatabase;
  readonly sad: SecurityAssociationDatabase;
  /** ARP, ND and ICMP errors of the gateway role; null in the transparent role (no addresses of its own). */
  readonly link: LinkServices | null;
  /** ICMP errors of the transparent role, which has no link services (the gateway role's come with `link`). */
  readonly icmpErrors?: IcmpErrorSender | null;
  /** The transparent role's queue of generated frames (the gateway role's comes with `link`): fragments go there. */
  readonly transmit?: LinkTransmitQueue | null;
  /** Shared with the link layer, so one set of counters explains every drop. */
  readonly drops: DropCounters;
  /** Capacity: the largest batch (FrameSlots.count). */
  readonly batchCapacity: number;
  /** Flow cache size, a power of two. Default DEFAULT_FLOW_CACHE_ENTRIES. */
  readonly flowCacheEntries?: number;
}

export class Pipeline {
  readonly drops: DropCounters;
  readonly counters = new PipelineCounters();
  readonly txRed: TransmitList;
  readonly txBlack: TransmitList;
  /** Path MTU toward each peer (index as settings.peers), lowered by ICMP (RFC 1191). */
  readonly pathMtu: PeerPathMtu;
  /** Fragments from black for our TEP or an inbound SA, put back together before anything else (RFC 4303 §3.4.1). */
  readonly reassembly: Ipv4Reassembly;
  /** Bridge learning: which side each station is on. */
  private readonly stations = new MacLearningTable();

  private readonly settings: DataplaneSettings;
  private readonly spd: SecurityPolicyDatabase;
  private readonly sad: SecurityAssociationDatabase;
  private readonly link: LinkServices | null;
  private readonly icmpErrors: IcmpErrorSender | null;
  /** Where fragments after the first go (the link layer's queue); null: nothing is fragmented. */
  private readonly transmit: LinkTransmitQueue | null;
  private readonly encryptor: EspEncryptor;
  private readonly decryptor: EspDecryptor;
  /** Policy decisions per flow (SPD, peers, 6in4 policy). */
  readonly decisions: PolicyDecisions;

  // Per-slot state of the batch in flight.
  private readonly verdict: Uint8Array;
  private readonly l2Mode: Uint8Array;
  /** The received destination and source MAC as bytes (12 per slot), written back by L2 Preserve and ICMP errors. */
  private readonly l2Macs: Uint8Array;
  /**
   * L2 templates: Route to red at 0 and to black at 12 (destination 0, which the neighbor layer
   * fills in, and our MAC), and at SELF_MACS our red MAC as both (a packet for the router itself).
   */
  private readonly routeMacs = new Uint8Array(3 * ETHERNET_ADDRESSES_BYTES);
  /** Our red and black MACs in MacLearningTable's halves: first 2 bytes, last 4 as int32 (gateway role). */
  private readonly redMacHi: number;
  private readonly redMacLo: number;
  private readonly blackMacHi: number;
  private readonly blackMacLo: number;
  private readonly l2Vlan: Int32Array;
  /** Sealed IPv4 packets to send as fragments (RFC 4303 §3.3.4): the path MTU; 0 = whole. */
  private readonly fragmentMtu: Int32Array;
  /** Routed to black: the IPv4 destination to resolve (int32 bit pattern); routed to red: unused (the inner destination is read). */
  private readonly nextHop: Int32Array;
  private readonly status: Uint8Array;

  // Scratch objects, reused for every packet.
  private readonly eth = new EthernetHeader();
  private readonly v4 = new Ipv4Header();
  private readonly v6 = new Ipv6Header();
  private readonly sel = new PacketSelectors();
  private readonly extractor = new PacketSelectorExtractor();
  private readonly sixInFour = new SixInFourEncapsulator();
  private readonly inner = new SixInFourInner();
  /**
   * Peer TEPs (index as settings.peers) as int32 bit patterns, like SecurityAssociation.destinationV4:
   * V8 keeps them unboxed, so per-packet peer lookups allocate nothing.
   */
  private readonly peerTepBits: Int32Array;
  /** 6in4 outer header fields toward each peer (gateway role; index as settings.peers). */
  private readonly peerEndpoints: readonly SixInFourEndpoints[];
  private slots!: FrameSlots;
  /** Where the batch in flight came from. */
  private from: Port = Port.Red;
  /** The batch in flight as the ESP engines see it; processBatch points it at the slots. */
  private readonly packets: { bytes: Uint8Array; start: Int32Array; length: Int32Array; status: Uint8Array };

  constructor(parts: PipelineParts) {
    const n = parts.batchCapacity;
    this.settings = parts.settings;
    this.spd = parts.spd;
    this.sad = parts.sad;
    this.link = parts.link;
    this.icmpErrors = parts.link?.icmpErrors ?? parts.icmpErrors ?? null;
    this.transmit = parts.link?.transmit ?? parts.transmit ?? null;
    this.drops = parts.drops;
    this.encryptor = new EspEncryptor(parts.sad, n);
    this.decryptor = new EspDecryptor(parts.sad, n);
    this.txRed = new TransmitList(n);
    this.txBlack = new TransmitList(n);
    this.verdict = new Uint8Array(n);
    this.l2Mode = new Uint8Array(n);
    this.l2Macs = new Uint8Array(n * ETHERNET_ADDRESSES_BYTES);
    if (parts.link !== null) {
      writeU48(this.routeMacs, ETHERNET_SRC, parts.link.settings.redMac);
      writeU48(this.routeMacs, ETHERNET_ADDRESSES_BYTES + ETHERNET_SRC, parts.link.settings.blackMac);
      writeU48(this.routeMacs, SELF_MACS, parts.link.settings.redMac);
      writeU48(this.routeMacs, SELF_MACS + ETHERNET_SRC, parts.link.settings.redMac);
    }
    this.redMacHi = readU16(this.routeMacs, ETHERNET_SRC);
    this.redMacLo = readU32(this.routeMacs, ETHERNET_SRC + 2) | 0;
    this.blackMacHi = readU16(this.routeMacs, ETHERNET_ADDRESSES_BYTES + ETHERNET_SRC);
    this.blackMacLo = readU32(this.routeMacs, ETHERNET_ADDRESSES_BYTES + ETHERNET_SRC + 2) | 0;
    this.l2Vlan = new Int32Array(n);
    this.fragmentMtu = new Int32Array(n);
    this.nextHop = new Int32Array(n);
    this.status = new Uint8Array(n);
    this.packets = { bytes: NO_ESP_PACKETS.bytes, start: NO_ESP_PACKETS.start, length: NO_ESP_PACKETS.length, status: this.status };
    this.peerTepBits = Int32Array.from(parts.settings.peers, (p) => p.tep | 0);
    const gw = parts.settings.gateway;
    this.peerEndpoints = gw === null ? [] : parts.settings.peers.map((p) => ({ local: gw.tep, remote: p.tep, ttl: parts.settings.tunnelTtl }));
    this.decisions = new PolicyDecisions(parts.spd, parts.settings.peers, this.peerEndpoints, parts.flowCacheEntries);
    this.pathMtu = new PeerPathMtu(parts.settings.blackMtu, gw?.tep ?? 0, this.peerTepBits, parts.spd, parts.sad);
    this.reassembly = new Ipv4Reassembly(this.drops);
  }

  /**
   * Processes frames in slots [0, count) received on `from`. Afterwards txRed/txBlack list the
   * slots to transmit (start/length describe whole frames). `now`: monotonic milliseconds.
   */
  processBatch(from: Port, slots: FrameSlots, count: number, now: number): void {
    this.slots = slots;
    this.from = from;
    this.packets.bytes = slots.bytes;
    this.packets.start = slots.start;
    this.packets.length = slots.length;
    this.txRed.count = 0;
    this.txBlack.count = 0;
    if (from === Port.Red) this.counters.redFrames += count;
    else if (from === Port.Black) this.counters.blackFrames += count;
    else this.counters.originated += count;

    // The ESP engines queue each packet as soon as it is classified: its headers are still in
    // cache and parsed, so they are not parsed again.
    this.encryptor.begin(this.packets, now);
    this.decryptor.begin(this.packets, now);
    for (let i = 0; i < count; i++) {
      this.verdict[i] = from === Port.Black ? this.classifyBlack(i, now) : this.classifyRed(i, now);
    }
    this.encryptor.sealAll();
    this.openStage(count, now);
    this.transmitStage(count, now);
    this.encryptor.end();
  }

  /** Between batches: lowered path MTUs age back (RFC 1191 §6.3) and unfinished datagrams time out (RFC 791 §3.2). */
  age(now: number): void {
    this.pathMtu.age(now);
    this.reassembly.age(now);
  }

  // ---- classify: frames from red -------------------------------------------------------------

  /** A frame of a batch from Red, or from Local: the packets the appliance itself sends off red (only IPv6, only routed). */
  private classifyRed(i: number, now: number): number {
    const from = this.from;
    const bytes = this.slots.bytes;
    const s = this.slots.start[i];
    const n = this.slots.length[i];
    if (parseEthernet(bytes, s, n, this.eth) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    if (from === Port.Red && this.fromOurMac(bytes, this.redMacHi, this.redMacLo)) return this.drop(DropReason.OwnSourceMac);
    this.saveL2(i, from, now);
    const gw = this.settings.gateway;
    if (from === Port.Local) return gw !== null && this.eth.etherType === EtherType.Ipv6 ? this.routeRedIpv6(i, now) : this.drop(DropReason.Unsupported);
    switch (this.eth.etherType) {
      case EtherType.Arp:
        if (!this.settings.bridge) return this.drop(DropReason.Unsupported);
        this.counters.bridgedToBlack++;
        return Verdict.BridgeToBlack;
      case EtherType.Ipv6:
        if (gw === null) return this.bridgedIp(i, Direction.Outbound, null, now);
        return this.routeRedIpv6(i, now);
      case EtherType.Ipv4:
        return this.bridgedIp(i, Direction.Outbound, null, now);
      default:
        return this.drop(DropReason.Unsupported);
    }
  }

  /**
   * Gateway role: IPv6 from the red LAN. The appliance is its router (RFC 4213 §3). Its own
   * packets (Port.Local) are routed the same way, but have no hop to count and get no ICMP error:
   * a router does not send one to itself.
   */
  private routeRedIpv6(i: number, now: number): number {
    const local = this.from === Port.Local;
    const bytes = this.slots.bytes;
    const frame = this.slots.start[i];
    const l3 = this.eth.l3Offset;
    const link = this.link!;
    const group = (bytes[frame] & 1) !== 0;
    if (!group && ((readU32(bytes, frame + 2) | 0) !== this.redMacLo || readU16(bytes, frame) !== this.redMacHi)) {
      this.counters.notForUs++;
      return Verdict.Consumed;
    }
    if (parseIpv6(bytes, l3, this.slots.length[i] - (l3 - frame), this.v6) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    const dst = this.v6.dstOffset;
    if (group && !link.isRouterDestination(bytes, dst)) {
      // Link-scope groups we are not in (MLD, mDNS, ...) are not for a router; wider scopes would
      // need multicast routing, which the appliance does not do.
      if (bytes[dst] === 0xff && (bytes[dst + 1] & 0x0f) === 2) {
        this.counters.notForUs++;
        return Verdict.Consumed;
      }
      return this.drop(DropReason.Unsupported);
    }
    if (group || link.isRouterDestination(bytes, dst)) {
      const reason = link.receiveRed(bytes, frame, this.slots.length[i], now);
      if (reason < 0) {
        this.counters.local++;
        return Verdict.Consumed;
      }
      return this.drop(reason);
    }
    const length = IPV6_HEADER_BYTES + this.v6.payloadLength;
    this.setPacket(i, l3, length);
    if (this.extractor.extractIpv6Header(bytes, this.v6, Direction.Outbound, this.sel) !== WireStatus.Ok) return this.drop(DropReason.Malformed);

    const decision = this.decisions;
    decision.redIpv6(this.sel);
    const { kind, value } = decision;
    if (kind === RedDecision.Drop) {
      // RFC 4443 §3.1: a router without a route to the destination says so (code 0, rate
      // limited); what policy discards is dropped silently.
      if (value === DropReason.NoRoute && !local) link.icmpErrors.destinationUnreachable(DESTINATION_UNREACHABLE_NO_ROUTE, bytes, frame, l3, length, now);
      return this.drop(value);
    }
    // RFC 8200 §3 / RFC 4443 §3.3: a router does not forward a packet whose hop limit runs out.
    if (!local && decrementHopLimit(bytes, l3) !== WireStatus.Ok) {
      link.icmpErrors.timeExceeded(bytes, frame, l3, length, now);
      return this.drop(DropReason.TtlExceeded);
    }
    if (kind === RedDecision.SealTunnel) return this.sealOrDrop(i, value, length, null, now);
    // Into the 6in4 tunnel of peer `value`.
    const peer = value;
    const outer = this.sixInFour.encapsulate(bytes, l3, length, this.peerEndpoints[peer]);
    this.setPacket(i, outer, length + SIX_IN_FOUR_OVERHEAD);
    if (kind === RedDecision.SealSixInFour) return this.sealOrDrop(i, decision.sixInFourPolicy, length + SIX_IN_FOUR_OVERHEAD, this.sixInFour.header, now);
    // Clear 6in4, as the operator's policy allows.
    if (length + SIX_IN_FOUR_OVERHEAD > this.pathMtu.mtu[peer]) return this.tooBig(i, this.pathMtu.mtu[peer], now);
    this.routeToBlack(i, this.peerTepBits[peer]);
    return Verdict.ForwardToBlack;
  }

  /**
   * An IP packet crossing the appliance as a bridge (IPv4 in both roles, everything in the
   * transparent role): BYPASS bridges it untouched, PROTECT seals it, anything else drops.
   * `parsed`: the packet's IPv4 header when the caller has parsed and verified it already.
   */
  private bridgedIp(i: number, direction: Direction, parsed: Ipv4Header | null, now: number): number {
    const bytes = this.slots.bytes;
    const frame = this.slots.start[i];
    const l3 = this.eth.l3Offset;
    const avail = this.slots.length[i] - (l3 - frame);
    const status = parsed === null
      ? this.extractor.extract(bytes, l3, avail, direction, this.sel)
      : this.extractor.extractIpv4Header(bytes, parsed, direction, this.sel);
    if (status !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    const index = this.decisions.policyIndex(this.sel);
    switch (this.spd.actionOf(index)) {
      case SpdAction.Bypass:
        if (!this.settings.bridge) return this.drop(DropReason.Unsupported);
        if (direction === Direction.Outbound) {
          this.counters.bridgedToBlack++;
          return Verdict.BridgeToBlack;
        }
        this.counters.bridgedToRed++;
        return Verdict.BridgeToRed;
      case SpdAction.Protect: {
        // Inbound clear traffic that policy says must be protected (RFC 4301 §5.2).
        if (direction === Direction.Inbound) return this.drop(DropReason.ClearWherePolicyRequiresEsp);
        // Outbound packets come unparsed: the header is the one the extraction parsed.
        const ipv4 = bytes[l3] >>> 4 === 4 ? this.extractor.v4 : null;
        const length = ipv4 !== null ? ipv4.totalLength : IPV6_HEADER_BYTES + this.extractor.v6.payloadLength;
        this.setPacket(i, l3, length);
        return this.sealOrDrop(i, index, length, ipv4, now);
      }
      default:
        return this.drop(index === NO_MATCH ? DropReason.NoPolicy : DropReason.Discard);
    }
  }

  /**
   * Finds the outbound SA of PROTECT entry `index`, checks the result fits the path (else an
   * ICMP error to the sender, RFC 4301 §8, RFC 3884 appendix: never clear an inner DF), and
   * queues the packet for sealing. start/length are the packet ESP will protect; `ipv4` is its
   * header when it is IPv4 and parsed already.
   */
  private sealOrDrop(i: number, index: number, length: number, ipv4: Ipv4Header | null, now: number): number {
    const entry = this.spd.entries[index];
    const sa = this.sad.lookupOutbound(entry.id);
    if (sa === null) return this.drop(DropReason.NoSa);
    const bytes = this.slots.bytes;
    const start = this.slots.start[i];
    const tunnel = sa.mode === 'tunnel';
    const outerHeader = tunnel ? (sa.outerIpv6 ? IPV6_HEADER_BYTES : IPV4_MIN_HEADER_BYTES) : this.ipHeaderLength(bytes, start);
    const payload = tunnel ? length : length - outerHeader;
    const peer = this.peerOfSa(sa);
    const pathMtu = peer >= 0 ? this.pathMtu.mtu[peer] : this.settings.blackMtu;
    const routed = this.settings.gateway !== null && (tunnel || (bytes[start] >>> 4 === 4 && bytes[start + 9] === IpProtocol.Ipv6));
    this.fragmentMtu[i] = 0;
    if (espWireLength(payload, outerHeader, sa.udpEncapsulated) > pathMtu) {
      // RFC 4303 §3.3.4: an IPv4 packet in transport mode that may be fragmented (DF clear) is
      // fragmented after ESP, as it would have been without it; else the sender hears the MTU.
      if (!tunnel && !routed && ipv4 !== null && !ipv4.dontFragment && this.transmit !== null) {
        this.fragmentMtu[i] = pathMtu;
      } else {
        const room = largestEspPayload(pathMtu, outerHeader, sa.udpEncapsulated);
        const fits = tunnel ? room : room + outerHeader;
        return this.tooBig(i, fits, now);
      }
    }
    if (routed) {
      this.routeToBlack(i, sa.destinationV4);
    } else if (this.l2Vlan[i] === TWO_VLAN_TAGS) {
      return this.drop(DropReason.Unsupported);
    } else {
      this.l2Mode[i] = L2Mode.Preserve;
    }
    const status = this.encryptor.prepare(sa, i, this.slots.base(i) + ETHERNET_HEADER_BYTES + VLAN_TAG_BYTES, this.slots.limit(i), ipv4);
    return status === EspStatus.Pending ? Verdict.Seal : this.drop(this.espDrop(status));
  }

  /** The packet at start/length does not fit `mtu` bytes: ICMP back to its source, then drop. */
  private tooBig(i: number, mtu: number, now: number): number {
    const bytes = this.slots.bytes;
    let s = this.slots.start[i];
    let n = this.slots.length[i];
    // A 6in4 packet we built: the sender is the IPv6 host inside, and the MTU is for the inner packet.
    if (this.settings.gateway !== null && bytes[s] >>> 4 === 4 && bytes[s + 9] === IpProtocol.Ipv6 && readU32(bytes, s + 12) === this.settings.gateway.tep) {
      s += SIX_IN_FOUR_OVERHEAD;
      n -= SIX_IN_FOUR_OVERHEAD;
      mtu -= SIX_IN_FOUR_OVERHEAD;
    }
    if (bytes[s] >>> 4 === 6) return this.tooBigIpv6(i, s, n, mtu, now);
    // IPv4 (RFC 1191 §4): DF set -> Fragmentation Needed, and DF is never cleared (RFC 3884
    // appendix); DF clear where sealOrDrop cannot fragment after ESP -> dropped.
    if ((readU16(bytes, s + 6) & 0x4000) === 0) return this.drop(DropReason.Mtu);
    this.icmpErrors?.fragmentationNeeded(LinkPort.Red, bytes, this.restoreFrame(i, s), s, n, Math.max(mtu, MIN_IPV4_PATH_MTU), now);
    return this.drop(DropReason.DontFragment);
  }

  private tooBigIpv6(i: number, ipv6Start: number, ipv6Length: number, mtu: number, now: number): number {
    // RFC 8200 §5: never announce less than 1280; below that the tunnel must fragment (unsupported).
    if (this.from !== Port.Local) this.icmpErrors?.packetTooBig(this.slots.bytes, this.restoreFrame(i, ipv6Start), ipv6Start, ipv6Length, Math.max(mtu, IPV6_MIN_MTU), now);
    return this.drop(DropReason.Mtu);
  }

  /**
   * Puts the received Ethernet header (MACs and tag) back in front of the IP packet at `ipStart`:
   * for forwarding with the original MACs, and for ICMP errors, which answer the frame's source
   * after encapsulation may have overwritten the header. Returns the frame's start.
   */
  private restoreFrame(i: number, ipStart: number): number {
    const vlan = this.l2Vlan[i];
    const frame = ipStart - ETHERNET_HEADER_BYTES - (vlan === NO_VLAN ? 0 : VLAN_TAG_BYTES);
    const etherType = this.slots.bytes[ipStart] >>> 4 === 6 ? EtherType.Ipv6 : EtherType.Ipv4;
    writeEthernetHeaderFrom(this.slots.bytes, frame, this.l2Macs, i * ETHERNET_ADDRESSES_BYTES, vlan, etherType);
    return frame;
  }

  // ---- classify: frames from black -----------------------------------------------------------

  private classifyBlack(i: number, now: number): number {
    const bytes = this.slots.bytes;
    const s = this.slots.start[i];
    const n = this.slots.length[i];
    if (parseEthernet(bytes, s, n, this.eth) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    if (this.fromOurMac(bytes, this.blackMacHi, this.blackMacLo)) return this.drop(DropReason.OwnSourceMac);
    this.saveL2(i, Port.Black, now);
    const gw = this.settings.gateway;
    switch (this.eth.etherType) {
      case EtherType.Arp: {
        // ARP about our TEP is the link layer's; other ARP is bridged (the link is shared with red),
        // after the link layer has seen it (a gratuitous ARP may update a neighbor, RFC 5227 §3).
        const reason = this.link === null ? DropReason.Unsupported : this.link.receiveBlack(bytes, s, n, now);
        const l3 = this.eth.l3Offset;
        const aboutUs = gw !== null && l3 + ARP_BYTES <= s + n &&
          (readU32(bytes, l3 + ARP_TARGET_IP) === gw.tep || readU32(bytes, l3 + ARP_SENDER_IP) === gw.tep);
        if (!aboutUs && this.settings.bridge) {
          this.counters.bridgedToRed++;
          return Verdict.BridgeToRed;
        }
        if (reason < 0) {
          this.counters.local++;
          return Verdict.Consumed;
        }
        return this.drop(reason);
      }
      case EtherType.Ipv4:
        return this.blackIpv4(i, now);
      case EtherType.Ipv6:
        // IPv6 has no business on the IPv4 black side unless policy bridges it.
        return this.bridgedIp(i, Direction.Inbound, null, now);
      default:
        return this.drop(DropReason.Unsupported);
    }
  }

  private blackIpv4(i: number, now: number): number {
    const bytes = this.slots.bytes;
    const frame = this.slots.start[i];
    const l3 = this.eth.l3Offset;
    const avail = this.slots.length[i] - (l3 - frame);
    if (parseIpv4(bytes, l3, avail, this.v4) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    const h = this.v4;
    const gw = this.settings.gateway;
    const toUs = gw !== null && h.dst === gw.tep;
    // RFC 4303 §3.4.1: reassembly comes before any IPsec processing.
    const reassembled = isIpv4Fragment(h) && this.reassembles(h, toUs);
    if (reassembled) {
      const result = this.reassembly.add(bytes, l3, h, this.slots.limit(i), now);
      if (result === FRAGMENT_HELD) return Verdict.Consumed;
      if (result !== DATAGRAM_REASSEMBLED) return this.drop(result);
      if (reparseIpv4(bytes, l3, this.slots.limit(i) - l3, h) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
      this.slots.length[i] = l3 - frame + h.totalLength;
    }
    const esp = h.protocol === IpProtocol.Esp || (h.protocol === IpProtocol.Udp && this.udpDstPort(h) === ESP_IN_UDP_PORT);
    // Transparent role: ESP for an SA we hold is ours to open; other ESP crosses like any IPv4.
    if (esp && (toUs || this.decryptorKnows(bytes, l3))) {
      this.setPacket(i, l3, h.totalLength);
      return this.queueOpen(i, h);
    }
    if (!toUs) {
      // Reassembled between an SA's endpoints but not ESP we open: not bridged as one frame larger than its fragments.
      if (reassembled) return this.drop(DropReason.Fragment);
      return this.bridgedIp(i, Direction.Inbound, h, now);
    }

    // Addressed to our tunnel endpoint.
    switch (h.protocol) {
      case IpProtocol.Ipv6: {
        // Clear 6in4 to us: only where policy bypasses it (RFC 4891 §5.1 requires ESP otherwise).
        if (this.extractor.extractIpv4Header(bytes, h, Direction.Inbound, this.sel) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
        const index = this.decisions.policyIndex(this.sel);
        const action = this.spd.actionOf(index);
        if (action === SpdAction.Protect) return this.drop(DropReason.ClearWherePolicyRequiresEsp);
        if (action !== SpdAction.Bypass) return this.drop(index === NO_MATCH ? DropReason.NoPolicy : DropReason.Discard);
        this.setPacket(i, l3, h.totalLength);
        return this.deliverSixInFour(i, now);
      }
      case IpProtocol.Udp:
        return this.drop(DropReason.IkeUnavailable);
      case IpProtocol.Icmpv4: {
        const reason = this.pathMtu.report(bytes, h, now);
        return reason === REPORT_TAKEN ? Verdict.Consumed : this.drop(reason);
      }
      default:
        return this.drop(DropReason.Unsupported);
    }
  }

  // ---- open ----------------------------------------------------------------------------------

  /** Queues the ESP packet at start/length, its outer IPv4 header parsed in `h`, for the batch's AEAD call. */
  private queueOpen(i: number, h: Ipv4Header): number {
    const status = this.decryptor.prepare(i, h);
    return status === EspStatus.Pending ? Verdict.Open : this.notOpened(status);
  }

  /**
   * Opens the packets queueOpen queued and decides again on what they carried, packet by packet:
   * with a crypto thread, the first ones are decided while it still opens the later ones.
   */
  private openStage(count: number, now: number): void {
    this.decryptor.openAll();
    for (let i = 0; i < count; i++) {
      if (this.verdict[i] !== Verdict.Open) continue;
      const status = this.decryptor.result(i);
      if (status !== EspStatus.Ok) {
        this.verdict[i] = status === EspStatus.Dummy ? Verdict.Consumed : this.drop(this.espDrop(status));
        continue;
      }
      this.counters.opened++;
      this.verdict[i] = this.afterOpen(i, this.decryptor.saOf[i]!, now);
    }
    this.decryptor.end();
  }

  /** A packet ESP prepare refused before the AEAD call. */
  private notOpened(status: EspStatus): number {
    switch (status) {
      case EspStatus.Keepalive:
        this.counters.keepalives++;
        return Verdict.Consumed;
      case EspStatus.NotEsp:
        // IKE on UDP 4500 behind the non-ESP marker (RFC 3948 §2.2).
        return this.drop(DropReason.IkeUnavailable);
      default:
        return this.drop(this.espDrop(status));
    }
  }

  /**
   * RFC 4301 §5.2 step 4: the decrypted packet must match the SA's SPD entry. Then tunnel mode
   * delivers the inner packet; transport mode over 6in4 is decapsulated (gateway role), and
   * a router's own 6in4/IPIP packet goes on to it unchanged (transparent role, RFC 3884).
   */
  private afterOpen(i: number, sa: SecurityAssociation, now: number): number {
    const bytes = this.slots.bytes;
    const s = this.slots.start[i];
    const n = this.slots.length[i];
    if (this.openedSelectors(bytes, s, n) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    if (this.spd.verifyInbound(this.spd.indexOfId(sa.policyId), this.sel) !== InboundSelectorCheck.Ok) return this.drop(DropReason.SelectorMismatch);
    const version = bytes[s] >>> 4;
    if (sa.mode === 'tunnel') {
      if (version !== 6 || this.settings.gateway === null) return this.drop(DropReason.Unsupported);
      if (!this.decisions.innerSourceAllowed(this.sel, this.peerOfSa(sa))) return this.drop(DropReason.IngressFilter);
      return this.deliverIpv6ToRed(i, s, n, now);
    }
    // Transport mode: the restored header, parsed in this.v4 by openedSelectors when it is IPv4.
    const protocol = version === 4 ? this.v4.protocol : -1;
    // 6in4 is IPv4 protocol 41.
    if (this.settings.gateway !== null && protocol === IpProtocol.Ipv6) return this.deliverSixInFour(i, now);
    // Transparent role: check the tunnelled packet inside (RFC 3884), then pass the router's
    // own tunnel packet on with the frame's original MACs.
    if (protocol === IpProtocol.Ipv6 || protocol === IpProtocol.Ipv4) {
      const inner = this.v4.payloadOffset;
      if (this.extractor.extract(bytes, inner, s + n - inner, Direction.Inbound, this.sel) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
      if (!this.decisions.innerSourceAllowed(this.sel, this.peerOfSa(sa))) return this.drop(DropReason.IngressFilter);
    }
    if (this.l2Vlan[i] === TWO_VLAN_TAGS) return this.drop(DropReason.Unsupported);
    // A reassembled datagram may be larger than red's link takes.
    if (n > this.settings.redMtu) return this.drop(DropReason.Mtu);
    this.l2Mode[i] = L2Mode.Preserve;
    return Verdict.ForwardToRed;
  }

  /**
   * Selectors of a packet the ESP engine opened into this.sel; an IPv4 header (restored by
   * transport mode, or verified as tunnel mode's inner packet) is left parsed in this.v4.
   */
  private openedSelectors(bytes: Uint8Array, s: number, n: number): WireStatus {
    if (bytes[s] >>> 4 !== 4) return this.extractor.extract(bytes, s, n, Direction.Inbound, this.sel);
    const status = reparseIpv4(bytes, s, n, this.v4);
    return status === WireStatus.Ok ? this.extractor.extractIpv4Header(bytes, this.v4, Direction.Inbound, this.sel) : status;
  }

  /** start/length: a protocol-41 IPv4 packet addressed to our TEP, its header parsed in this.v4. Decapsulate and route to red. */
  private deliverSixInFour(i: number, now: number): number {
    const bytes = this.slots.bytes;
    const s = this.slots.start[i];
    const peer = this.peerByTep(this.v4.src | 0);
    if (peer < 0) return this.drop(DropReason.SpoofedTunnelSource);
    const result = decapsulateSixInFour(bytes, s, this.v4, this.peerTepBits[peer], this.inner);
    if (result !== TUNNEL_PASS) return this.drop(result);
    const { start, length } = this.inner;
    if (this.extractor.extractIpv6Header(bytes, this.inner.ipv6, Direction.Inbound, this.sel) !== WireStatus.Ok) return this.drop(DropReason.Malformed);
    if (!this.decisions.innerSourceAllowed(this.sel, peer)) return this.drop(DropReason.IngressFilter);
    return this.deliverIpv6ToRed(i, start, length, now);
  }

  /**
   * An IPv6 packet out of a tunnel, to red or to the router itself. What the router sends back
   * (an echo reply, Time Exceeded) the link layer queues for routing, addressed to the frame's
   * source, which selfFrame makes our own red MAC: the appliance then routes it back into the
   * tunnel as a Port.Local batch.
   */
  private deliverIpv6ToRed(i: number, start: number, length: number, now: number): number {
    const bytes = this.slots.bytes;
    const link = this.link!;
    if (link.isRouterDestination(bytes, start + IPV6_DST)) {
      // RFC 4291 §2.5.6: a link-local address is not reached through a router.
      if (isIpv6LinkLocal(bytes, start + IPV6_DST)) return this.drop(DropReason.Unsupported);
      const reason = link.receiveFromTunnel(bytes, this.selfFrame(start), ETHERNET_HEADER_BYTES + length);
      if (reason >= 0) return this.drop(reason);
      this.counters.local++;
      return Verdict.Consumed;
    }
    this.setPacket(i, start, length);
    // RFC 4443 §3.2: red's link cannot take it (a reassembled datagram may be larger than any frame).
    if (length > this.settings.redMtu) {
      link.packetTooBigFromTunnel(bytes, this.selfFrame(start), start, length, this.settings.redMtu, now);
      return this.drop(DropReason.Mtu);
    }
    // RFC 8200 §3 / RFC 4443 §3.3, as for packets from red; the error goes back through the tunnel.
    if (decrementHopLimit(bytes, start) !== WireStatus.Ok) {
      link.timeExceededFromTunnel(bytes, this.selfFrame(start), start, length, now);
      return this.drop(DropReason.TtlExceeded);
    }
    this.l2Mode[i] = L2Mode.Route;
    return Verdict.ForwardToRed;
  }

  /** Writes an Ethernet header from our red MAC to itself in front of the IPv6 packet at `ipStart` (decapsulation left room); returns the frame's start. */
  private selfFrame(ipStart: number): number {
    const frame = ipStart - ETHERNET_HEADER_BYTES;
    writeEthernetHeaderFrom(this.slots.bytes, frame, this.routeMacs, SELF_MACS, NO_VLAN, EtherType.Ipv6);
    return frame;
  }

  // ---- L2 rewrite and transmit lists ---------------------------------------------------------

  /**
   * Sends every packet on: bridged frames as they are, forwarded packets after the L2 rewrite.
   * Sealed packets are taken as their run of the AEAD batch is done, so with a crypto thread the
   * first ones go out while later ones are still being sealed.
   */
  private transmitStage(count: number, now: number): void {
    for (let i = 0; i < count; i++) {
      switch (this.verdict[i]) {
        case Verdict.BridgeToRed:
          if (this.sideOfDestination(i, now) === Port.Black) this.counters.filtered++;
          else this.txRed.slots[this.txRed.count++] = i;
          break;
        case Verdict.BridgeToBlack:
          if (this.sideOfDestination(i, now) === Port.Red) this.counters.filtered++;
          else this.txBlack.slots[this.txBlack.count++] = i;
          break;
        case Verdict.ForwardToRed:
          this.forward(i, true, now);
          break;
        case Verdict.Seal: {
          const status = this.encryptor.result(i);
          if (status !== EspStatus.Ok) {
            this.drop(this.espDrop(status));
            break;
          }
          this.counters.sealed++;
          if (this.fragmentMtu[i] === 0) this.forward(i, false, now);
          else this.forwardFragments(i, this.fragmentMtu[i], now);
          break;
        }
        case Verdict.ForwardToBlack:
          this.forward(i, false, now);
          break;
        default:
          break;
      }
    }
  }

  /** Forwards the IP packet of slot i to red or black after the L2 rewrite (unless it is held or dropped there). */
  private forward(i: number, toRed: boolean, now: number): void {
    if (!this.writeL2(i, toRed, now)) return;
    if (toRed) {
      this.counters.toRed++;
      this.txRed.slots[this.txRed.count++] = i;
    } else {
      this.counters.toBlack++;
      this.txBlack.slots[this.txBlack.count++] = i;
    }
  }

  /**
   * Sends the sealed IPv4 packet of slot i to black as fragments of at most `mtu` bytes (RFC 791
   * §3.2): the first in place, the others through the link layer's queue, which is sent right
   * after this batch. Only for L2 Preserve (the received frame's MACs): nothing to resolve first.
   */
  private forwardFragments(i: number, mtu: number, now: number): void {
    const queue = this.transmit!;
    const bytes = this.slots.bytes;
    const ip = this.slots.start[i];
    const firstHeader = (bytes[ip] & 0x0f) * 4;
    const payload = this.slots.length[i] - firstHeader;
    const laterHeader = copyIpv4LaterFragmentHeader(null, 0, bytes, ip);
    const first = (mtu - firstHeader) & ~7;
    const later = (mtu - laterHeader) & ~7;
    if (queue.free < Math.ceil((payload - first) / later)) {
      queue.overflows++;
      this.drop(DropReason.TxError);
      return;
    }
    setIpv4Fragment(bytes, ip, firstHeader + first, 0, true);
    this.slots.length[i] = firstHeader + first;
    this.forward(i, false, now);
    const frame = this.slots.start[i];
    const l2 = ip - frame;
    for (let offset = first; offset < payload; offset += later) {
      const size = Math.min(later, payload - offset);
      const at = queue.claim();
      copyBytes(queue.slots.bytes, at, bytes, frame, l2);
      copyIpv4LaterFragmentHeader(queue.slots.bytes, at + l2, bytes, ip);
      copyBytes(queue.slots.bytes, at + l2 + laterHeader, bytes, ip + firstHeader + offset, size);
      setIpv4Fragment(queue.slots.bytes, at + l2, laterHeader + size, offset, offset + size < payload);
      queue.commit(LinkPort.Black, l2 + laterHeader + size);
      this.counters.toBlack++;
    }
    this.counters.fragmented++;
  }

  /** Puts an Ethernet header in front of the IP packet at start[i]; false when held or dropped. */
  private writeL2(i: number, toRed: boolean, now: number): boolean {
    const bytes = this.slots.bytes;
    const l3 = this.slots.start[i];
    const etherType = bytes[l3] >>> 4 === 6 ? EtherType.Ipv6 : EtherType.Ipv4;
    if (this.l2Mode[i] === L2Mode.Preserve) {
      const frame = this.restoreFrame(i, l3);
      this.setPacket(i, frame, this.slots.length[i] + (l3 - frame));
      return true;
    }
    const link = this.link!;
    const frame = l3 - ETHERNET_HEADER_BYTES;
    const length = this.slots.length[i] + ETHERNET_HEADER_BYTES;
    this.setPacket(i, frame, length);
    let sent: NeighborSend;
    if (toRed) {
      writeEthernetHeaderFrom(bytes, frame, this.routeMacs, 0, NO_VLAN, etherType);
      // The on-link destination of an IPv6 packet is its destination address (l3 + 24).
      sent = link.resolveRed(bytes, frame, length, bytes, l3 + 24, now);
    } else {
      writeEthernetHeaderFrom(bytes, frame, this.routeMacs, ETHERNET_ADDRESSES_BYTES, NO_VLAN, etherType);
      sent = link.resolveBlack(bytes, frame, length, this.nextHop[i], now);
    }
    // Dropped frames were counted by the link layer (NeighborUnresolved, NoRoute).
    if (sent === NeighborSend.Queued) this.counters.held++;
    return sent === NeighborSend.Addressed;
  }

  // ---- small helpers -------------------------------------------------------------------------

  private drop(reason: number): number {
    this.drops.add(reason as DropReason);
    return Verdict.Drop;
  }

  private espDrop(status: number): number {
    const reason = espDropReason(status as EspStatus);
    return reason < 0 ? DropReason.Malformed : reason;
  }

  /** `side`: where the frame came from; frames the appliance originated (Local) teach the bridge nothing. */
  private saveL2(i: number, side: Port, now: number): void {
    const bytes = this.slots.bytes;
    const e = this.eth;
    const dst = e.dstOffset;
    const src = e.srcOffset;
    const macs = i * ETHERNET_ADDRESSES_BYTES;
    for (let k = 0; k < ETHERNET_ADDRESSES_BYTES; k++) this.l2Macs[macs + k] = bytes[dst + k];
    if (side !== Port.Local && (bytes[src] & 1) === 0) this.stations.learn(readU16(bytes, src), readU32(bytes, src + 2) | 0, side, now);
    // One tag is kept on rewrite; QinQ frames are bridged untouched but not transformed.
    this.l2Vlan[i] = e.innerVlanId === NO_VLAN ? e.outerVlanId : TWO_VLAN_TAGS;
    this.l2Mode[i] = L2Mode.Preserve;
  }

  /** Gateway role: whether the parsed frame's source is our MAC `hi`:`lo` (the transparent role has none). */
  private fromOurMac(bytes: Uint8Array, hi: number, lo: number): boolean {
    const src = this.eth.srcOffset;
    return this.link !== null && (readU32(bytes, src + 2) | 0) === lo && readU16(bytes, src) === hi;
  }

  /** The side the received destination MAC of slot i was learned on, or -1. */
  private sideOfDestination(i: number, now: number): number {
    const dst = i * ETHERNET_ADDRESSES_BYTES;
    return this.stations.sideOf(readU16(this.l2Macs, dst), readU32(this.l2Macs, dst + 2) | 0, now);
  }

  /** Points slot i at the bytes the next stage works on: an IP packet, or (after the L2 rewrite) a frame. */
  private setPacket(i: number, start: number, length: number): void {
    this.slots.start[i] = start;
    this.slots.length[i] = length;
  }

  /** `destination`: the IPv4 address to resolve, as an int32 bit pattern (unboxed, so the call allocates nothing). */
  private routeToBlack(i: number, destination: number): void {
    this.l2Mode[i] = L2Mode.Route;
    this.nextHop[i] = destination;
  }

  private ipHeaderLength(bytes: Uint8Array, l3: number): number {
    return bytes[l3] >>> 4 === 4 ? (bytes[l3] & 0x0f) * 4 : IPV6_HEADER_BYTES;
  }

  private udpDstPort(h: Ipv4Header): number {
    return h.payloadLength >= 8 ? readU16(this.slots.bytes, h.payloadOffset + UDP_DST_PORT) : -1;
  }

  /**
   * Which fragments are worth a datagram's room in the reassembly table: those for our TEP from
   * a peer's TEP (other fragments for us stay fragments, which nothing takes), and ESP (or UDP,
   * RFC 3948) between the outer addresses of an inbound SA; other fragments cross untouched, as
   * a bridge passes them.
   */
  private reassembles(h: Ipv4Header, toUs: boolean): boolean {
    if (toUs) return this.peerByTep(h.src | 0) >= 0;
    const udp = h.protocol === IpProtocol.Udp;
    return (udp || h.protocol === IpProtocol.Esp) && this.sad.hasInboundBetween(h.src | 0, h.dst | 0, udp);
  }

  /** Transparent role: does the SAD hold an inbound SA for this ESP packet's SPI and destination? */
  private decryptorKnows(bytes: Uint8Array, l3: number): boolean {
    const h = this.v4;
    let esp = h.payloadOffset;
    if (h.protocol === IpProtocol.Udp) esp += 8;
    if (esp + 4 > l3 + h.totalLength) return false;
    return this.sad.lookupInbound(readU32(bytes, esp), bytes, l3 + 16, 4) !== null;
  }

  /** The peer with this TEP (an int32 bit pattern, see peerTepBits), or -1. */
  private peerByTep(tepBits: number): number {
    return peerIndexOfTep(this.peerTepBits, tepBits);
  }

  /** The peer whose TEP is the SA's remote end (destination outbound, source inbound), or -1. */
  private peerOfSa(sa: SecurityAssociation): number {
    if (sa.outerIpv6) return -1;
    return this.peerByTep(sa.direction === 'outbound' ? sa.destinationV4 : sa.sourceV4);
  }
}
