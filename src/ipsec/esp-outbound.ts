/**
 * Outbound ESP (RFC 4303 §3.1, §3.3) in place inside frame slots, in two phases so one AEAD call
 * seals a whole batch:
 *   begin(packets, now); prepare(sa, i, lo, hi) for each packet; seal().
 * `prepare` builds everything but the ciphertext: the outer header (tunnel mode) or the moved IP
 * header (transport mode), optional UDP encapsulation (RFC 3948), the ESP header with the next
 * sequence number and IV, padding and trailer, lengths and checksums, and one AEAD op record.
 * `seal` runs the AEAD batch and, for IPv6 ESP-in-UDP only, fills the UDP checksum afterwards.
 * IPv4 headers handed in must have a good checksum (the data plane verifies it once, on
 * ingress, RFC 1812 §5.2.2): it is not summed again, and transport mode updates it incrementally.
 * No allocation per packet; every outcome is an EspStatus.
 */
import { AeadStatus, ESP_HEADER_BYTES, ESP_ICV_BYTES } from '../crypto/aead.js';
import { copyBytes, writeU16, writeU32 } from '../wire/bytes.js';
import {
  IPV4_MIN_HEADER_BYTES, IPV4_PROTOCOL, Ipv4Header, isIpv4Fragment, reparseIpv4, setIpv4LengthAndProtocol, writeIpv4Header,
} from '../wire/ipv4.js';
import {
  IPV6_HEADER_BYTES, IPV6_PAYLOAD_LENGTH, Ipv6ExtensionWalk, Ipv6Header, parseIpv6, walkIpv6Extensions,
  writeIpv6Header,
} from '../wire/ipv6.js';
import { DEFAULT_TTL, IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { UDP_HEADER_BYTES, fillUdpChecksumIpv6, writeUdpHeader } from '../wire/udp.js';
import { outerEcnOnEncapsulation } from '../tunnel/ecn-tunneling.js';
import { AeadRuns } from './aead-runs.js';
import { EspStatus, NO_ESP_PACKETS, sequenceHigh, type EspPackets } from './esp.js';
import { ESP_SPI_SEQUENCE_BYTES, ESP_TRAILER_BYTES, espPadLength, writeEspHeader, writeEspTrailer } from '../wire/esp.js';
import type { SecurityAssociationDatabase } from './sad.js';
import { SaCounter, type SecurityAssociation } from './security-association.js';

export class EspEncryptor {
  private readonly runs: AeadRuns;
  /** Per op: outer IP header start, and UDP header offset needing a checksum (-1 = none). */
  private readonly opOuter: Int32Array;
  private readonly opUdpChecksum: Int32Array;
  private readonly opSa: (SecurityAssociation | null)[];
  private packets: EspPackets = NO_ESP_PACKETS;
  private readonly v4 = new Ipv4Header();
  private readonly v6 = new Ipv6Header();
  private readonly walk = new Ipv6ExtensionWalk();
  private readonly outer4 = new Ipv4Header();
  private readonly outer6 = new Ipv6Header();

  /** `capacity`: the most packets one batch may hold (e.g. FrameSlots.count). */
  constructor(private readonly sad: SecurityAssociationDatabase, capacity: number) {
    this.runs = new AeadRuns(sad.backend, true, capacity);
    this.opOuter = new Int32Array(capacity);
    this.opUdpChecksum = new Int32Array(capacity);
    this.opSa = new Array<SecurityAssociation | null>(capacity).fill(null);
  }

  /** Starts a batch over `packets`; `now` (ms, monotonic) drives the SAs' time lifetimes. */
  begin(packets: EspPackets, now: number): void {
    this.packets = packets;
    this.runs.begin(packets.bytes);
    this.sad.clock(now);
  }

  /**
   * Prepares packet i (the IP packet at start[i], length[i], inside the slot [lo, hi)) for `sa`.
   * `ipv4`: the packet's IPv4 header when the caller has it parsed already (not parsed again).
   * On Pending, start/length already describe the ESP packet; seal() fills in the ciphertext.
   * Any other status is final and leaves the packet unchanged. Also written to status[i].
   */
  prepare(sa: SecurityAssociation, i: number, lo: number, hi: number, ipv4: Ipv4Header | null = null): EspStatus {
    const status = this.build(sa, i, lo, hi, ipv4);
    this.packets.status[i] = status;
    return status;
  }

  /** Seals every prepared packet and sets its final status (status[i]), then delivers SA events. */
  seal(): void {
    this.sealAll();
    for (let k = 0; k < this.runs.count; k++) this.result(this.runs.packet[k]);
    this.end();
  }

  /**
   * Hands the rest of the prepared packets to the AEAD backend. Their outcomes then come from
   * `result`, packet by packet in the order they were prepared, so the caller can send the first
   * ones on while the backend's crypto thread seals the later ones; `end` closes the batch.
   */
  sealAll(): void {
    this.runs.submitRest();
  }

  /** The final status of packet i, the next prepared one (also written to status[i]), once its run is sealed. */
  result(i: number): EspStatus {
    const k = this.runs.take(i);
    const sa = this.opSa[k] as SecurityAssociation;
    this.opSa[k] = null;
    const { bytes, status } = this.packets;
    if (this.runs.status[k] !== AeadStatus.Ok) {
      sa.counters[SaCounter.BackendErrors]++;
      status[i] = EspStatus.BackendError;
      return EspStatus.BackendError;
    }
    const udp = this.opUdpChecksum[k];
    if (udp >= 0) {
      // IPv6 forbids a zero UDP checksum (RFC 8200 §8.1); it covers the ciphertext, so it comes last.
      const outer = this.opOuter[k];
      fillUdpChecksumIpv6(bytes, udp, outer + this.packets.length[i] - udp, outer + 8, outer + 24);
    }
    status[i] = EspStatus.Ok;
    return EspStatus.Ok;
  }

  /** Ends the batch: delivers the SA events its packets raised. */
  end(): void {
    this.opSa.fill(null, 0, this.runs.count);
    this.runs.end();
    this.sad.deliverEvents();
  }

  private build(sa: SecurityAssociation, i: number, lo: number, hi: number, ipv4: Ipv4Header | null): EspStatus {
    if (this.runs.full) return EspStatus.BatchFull;
    if (sa.direction !== 'outbound') return EspStatus.NoSa;
    if (!sa.usable) {
      sa.counters[SaCounter.ExpiredDrops]++;
      return EspStatus.Expired;
    }
    const { bytes, start, length } = this.packets;
    const s = start[i];
    const n = length[i];
    if (s < lo || n < 1 || s + n > hi) return EspStatus.Malformed;
    if (bytes[s] >>> 4 === 4) {
      ipv4 ??= reparseIpv4(bytes, s, n, this.v4) === WireStatus.Ok ? this.v4 : null;
      if (ipv4 === null) return EspStatus.Malformed;
    } else {
      ipv4 = null;
    }
    return sa.mode === 'tunnel' ? this.buildTunnel(sa, i, bytes, s, n, lo, hi, ipv4) : this.buildTransport(sa, i, bytes, s, n, lo, hi, ipv4);
  }

  /** Tunnel mode (RFC 4303 §3.1.2): new outer IP header, the whole inner packet is the payload. */
  private buildTunnel(sa: SecurityAssociation, i: number, bytes: Uint8Array, s: number, n: number, lo: number, hi: number, ipv4: Ipv4Header | null): EspStatus {
    let innerLength: number;
    let nextHeader: number;
    let tos: number;
    let df: boolean;
    const version = bytes[s] >>> 4;
    if (ipv4 !== null) {
      innerLength = ipv4.totalLength; // drops link padding past the datagram
      nextHeader = IpProtocol.Ipv4;
      tos = ipv4.tos;
      df = ipv4.dontFragment;
    } else if (version === 6) {
      if (parseIpv6(bytes, s, n, this.v6) !== WireStatus.Ok) return EspStatus.Malformed;
      innerLength = IPV6_HEADER_BYTES + this.v6.payloadLength;
      nextHeader = IpProtocol.Ipv6;
      tos = this.v6.trafficClass;
      // IPv6 is never fragmented on the path: keep PMTU discovery on (as Linux XFRM does).
      df = true;
    } else {
      return EspStatus.Malformed;
    }
    // TFC padding (RFC 4303 §2.7): pad the inner packet to the configured size; the receiver
    // finds the real end from the inner IP length.
    const tfc = sa.tfcPadTo > innerLength ? sa.tfcPadTo - innerLength : 0;
    const payloadLength = innerLength + tfc;
    const outerHeader = sa.outerIpv6 ? IPV6_HEADER_BYTES : IPV4_MIN_HEADER_BYTES;
    const outerStart = s - ESP_HEADER_BYTES - (sa.udpEncapsulated ? UDP_HEADER_BYTES : 0) - outerHeader;
    const pad = espPadLength(payloadLength);
    const textLength = payloadLength + pad + ESP_TRAILER_BYTES;
    const espEnd = s + textLength + ESP_ICV_BYTES;
    const status = this.checkRoom(sa, outerStart, espEnd, lo, hi, sa.outerIpv6);
    if (status !== EspStatus.Pending) return status;
    if (!this.assignSequence(sa)) return EspStatus.SeqOverflow;
    this.sad.raise(sa, sa.charge(innerLength));

    bytes.fill(0, s + innerLength, s + payloadLength);
    writeEspTrailer(bytes, s + payloadLength, payloadLength, nextHeader);
    const total = espEnd - outerStart;
    const esp = s - ESP_HEADER_BYTES;
    const seqHigh = this.writeEspHeader(sa, bytes, esp);
    const protocol = this.writeUdp(sa, bytes, esp, espEnd);
    // RFC 4301 §5.1.2.1: DSCP copied from the inner header; ECN per RFC 6040 §4.1 normal mode.
    const outerTos = (tos & 0xfc) | outerEcnOnEncapsulation(tos & 0x03);
    if (sa.outerIpv6) {
      const h = this.outer6;
      h.trafficClass = outerTos;
      h.flowLabel = 0;
      h.payloadLength = total - IPV6_HEADER_BYTES;
      h.nextHeader = protocol;
      h.hopLimit = DEFAULT_TTL;
      writeIpv6Header(bytes, outerStart, h, sa.source, 0, sa.destination, 0);
    } else {
      const h = this.outer4;
      h.tos = outerTos;
      h.totalLength = total;
      h.id = sa.ipv4Id;
      sa.ipv4Id = (sa.ipv4Id + 1) & 0xffff;
      // RFC 4301 §8.1: DF on the outer header is copied, set or cleared per SA.
      h.dontFragment = sa.dfBit === 'copy' ? df : sa.dfBit === 'set';
      h.moreFragments = false;
      h.fragmentOffset = 0;
      h.ttl = DEFAULT_TTL;
      h.protocol = protocol;
      h.src = sa.sourceV4;
      h.dst = sa.destinationV4;
      writeIpv4Header(bytes, outerStart, h);
    }
    return this.queue(sa, i, outerStart, total, esp, textLength, seqHigh);
  }

  /**
   * Transport mode (RFC 4303 §3.1.1): ESP goes between the IP header (IPv6: the headers that
   * must precede it) and the rest, which stays in place; the headers move into the headroom.
   */
  private buildTransport(sa: SecurityAssociation, i: number, bytes: Uint8Array, s: number, n: number, lo: number, hi: number, ipv4: Ipv4Header | null): EspStatus {
    let insert: number;
    let nextHeaderByte: number;
    let packetLength: number;
    const version = bytes[s] >>> 4;
    if (ipv4 !== null) {
      // RFC 4303 §3.3.4: transport mode applies to whole datagrams, never to fragments.
      if (isIpv4Fragment(ipv4)) return EspStatus.Fragment;
      insert = ipv4.payloadOffset;
      nextHeaderByte = s + IPV4_PROTOCOL;
      packetLength = ipv4.totalLength;
    } else if (version === 6) {
      if (parseIpv6(bytes, s, n, this.v6) !== WireStatus.Ok) return EspStatus.Malformed;
      packetLength = IPV6_HEADER_BYTES + this.v6.payloadLength;
      if (walkIpv6Extensions(bytes, s, packetLength, this.walk) !== WireStatus.Ok) return EspStatus.Malformed;
      // An atomic fragment (offset 0, M clear) is a whole datagram (RFC 4303 erratum 133).
      if (this.walk.fragmentOffset !== 0 || this.walk.moreFragments) return EspStatus.Fragment;
      insert = this.walk.espInsertOffset;
      nextHeaderByte = this.walk.espNextHeaderOffset;
    } else {
      return EspStatus.Malformed;
    }
    const payloadLength = s + packetLength - insert;
    const front = (sa.udpEncapsulated ? UDP_HEADER_BYTES : 0) + ESP_HEADER_BYTES;
    const newStart = s - front;
    const pad = espPadLength(payloadLength);
    const textLength = payloadLength + pad + ESP_TRAILER_BYTES;
    const espEnd = insert + textLength + ESP_ICV_BYTES;
    const status = this.checkRoom(sa, newStart, espEnd, lo, hi, version === 6);
    if (status !== EspStatus.Pending) return status;
    if (!this.assignSequence(sa)) return EspStatus.SeqOverflow;
    this.sad.raise(sa, sa.charge(packetLength));

    const nextHeader = bytes[nextHeaderByte];
    writeEspTrailer(bytes, insert + payloadLength, payloadLength, nextHeader);
    const total = espEnd - newStart;
    copyBytes(bytes, newStart, bytes, s, insert - s);
    const esp = insert - ESP_HEADER_BYTES;
    const seqHigh = this.writeEspHeader(sa, bytes, esp);
    const protocol = this.writeUdp(sa, bytes, esp, espEnd);
    if (version === 4) {
      setIpv4LengthAndProtocol(bytes, newStart, total, protocol);
    } else {
      bytes[nextHeaderByte - front] = protocol;
      writeU16(bytes, newStart + IPV6_PAYLOAD_LENGTH, total - IPV6_HEADER_BYTES);
    }
    return this.queue(sa, i, newStart, total, esp, textLength, seqHigh);
  }

  /** Next sequence number into sa.lastSeq. RFC 4303 §3.3.3: when they run out, expire the SA for rekey. */
  private assignSequence(sa: SecurityAssociation): boolean {
    if (sa.advanceSequence()) return true;
    sa.counters[SaCounter.SeqOverflowDrops]++;
    this.sad.raise(sa, sa.lifetime.expireNow());
    return false;
  }

  /** Whether the result [first, end) fits the slot [lo, hi) and the IP length field; Pending means yes. */
  private checkRoom(sa: SecurityAssociation, first: number, end: number, lo: number, hi: number, ipv6: boolean): EspStatus {
    if (first < lo || end > hi) {
      sa.counters[SaCounter.NoRoomDrops]++;
      return EspStatus.NoRoom;
    }
    // The IPv4 total length and the IPv6 payload length are 16-bit fields.
    if (end - first - (ipv6 ? IPV6_HEADER_BYTES : 0) > 0xffff) return EspStatus.TooBig;
    return EspStatus.Pending;
  }

  /**
   * SPI, low 32 bits of sa.lastSeq, and the IV: the full 64-bit sequence number (RFC 4106 §3.1:
   * unique per key). 32-bit values go out as int32 bit patterns so V8 never boxes them. Returns
   * the high half of the sequence number, which the AEAD op needs too (ESN, RFC 4106 §5).
   */
  private writeEspHeader(sa: SecurityAssociation, bytes: Uint8Array, esp: number): number {
    const seq = sa.lastSeq;
    const low = seq | 0;
    const high = sequenceHigh(seq);
    writeEspHeader(bytes, esp, sa.spi | 0, low);
    writeU32(bytes, esp + ESP_SPI_SEQUENCE_BYTES, high);
    writeU32(bytes, esp + ESP_SPI_SEQUENCE_BYTES + 4, low);
    return high;
  }

  /** Writes the RFC 3948 §2.1 UDP header in front of the ESP header if the SA uses it; returns the IP protocol. */
  private writeUdp(sa: SecurityAssociation, bytes: Uint8Array, esp: number, espEnd: number): number {
    if (!sa.udpEncapsulated) return IpProtocol.Esp;
    const udp = esp - UDP_HEADER_BYTES;
    // Zero checksum over IPv4 (RFC 3948 §2.1); IPv6 gets one after sealing.
    writeUdpHeader(bytes, udp, sa.udpSourcePort, sa.udpDestinationPort, espEnd - udp);
    return IpProtocol.Udp;
  }

  /** Adds the AEAD op and points packet i at its ESP packet. */
  private queue(sa: SecurityAssociation, i: number, outer: number, total: number, esp: number, textLength: number, seqHigh: number): EspStatus {
    const k = this.runs.add(i, sa.handle, esp, textLength, seqHigh);
    this.opOuter[k] = outer;
    this.opUdpChecksum[k] = sa.udpEncapsulated && (this.packets.bytes[outer] >>> 4) === 6 ? esp - UDP_HEADER_BYTES : -1;
    this.opSa[k] = sa;
    this.packets.start[i] = outer;
    this.packets.length[i] = total;
    this.runs.added();
    return EspStatus.Pending;
  }
}
