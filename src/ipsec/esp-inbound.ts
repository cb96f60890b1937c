/**
 * Inbound ESP (RFC 4303 §3.4) in place inside frame slots, in phases so one AEAD call opens a
 * whole batch:
 *   begin(packets, now); prepare(i) for each packet; open().
 * `prepare` parses the outer header (plain ESP or ESP-in-UDP on port 4500, RFC 3948), looks the
 * SA up by SPI and destination (§3.4.2), runs the anti-replay check (§3.4.3) and fills one AEAD
 * op. `open` runs the AEAD batch, then per packet: ICV result (§3.4.4), window update, trailer
 * checks (§2.4), dummy packets (§2.6), and strips ESP: tunnel mode yields the inner packet (its
 * own length drops TFC padding, §2.7; ECN per RFC 6040), transport mode restores the IP header.
 * The caller then checks the inner packet against `saOf[i]`'s selectors (RFC 4301 §5.2 step 4).
 *
 * The outer IPv4 header must have a good checksum (the data plane verifies it once, on ingress,
 * RFC 1812 §5.2.2): it is not summed again, and transport mode updates it incrementally. An
 * inner IPv4 header (tunnel mode) arrives here for the first time and is verified.
 *
 * Not handled (status Unsupported): transport mode over IPv6 when a header that RFC 4303
 * §3.1.1 lets follow ESP (a Destination Options header without Home Address) precedes it.
 * Transport mode over UDP does not fix inner TCP/UDP checksums for NAT (RFC 3948 §3.1.2).
 */
import { AEAD_OP_STRIDE, AeadOp, AeadStatus, ESP_HEADER_BYTES, ESP_ICV_BYTES } from '../crypto/aead.js';
import { AeadRuns } from './aead-runs.js';
import { copyBytes, writeU16 } from '../wire/bytes.js';
import {
  IPV4_DST, IPV4_PROTOCOL, Ipv4Header, isIpv4Fragment, parseIpv4, readIpv4Ecn, reparseIpv4, setIpv4LengthAndProtocol, writeIpv4Ecn,
} from '../wire/ipv4.js';
import {
  IPV6_ADDRESS_BYTES, IPV6_HEADER_BYTES, IPV6_PAYLOAD_LENGTH, Ipv6ExtensionWalk, Ipv6Header, parseIpv6,
  readIpv6Ecn, walkIpv6Extensions, writeIpv6Ecn,
} from '../wire/ipv6.js';
import { IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { UdpHeader, parseUdp, verifyUdpChecksumIpv6 } from '../wire/udp.js';
import { ECN_DROP, innerEcnOnDecapsulation } from '../tunnel/ecn-tunneling.js';
import { ESP_MIN_OVERHEAD, EspStatus, NO_ESP_PACKETS, sequenceHigh, type EspPackets } from './esp.js';
import { ESP_IN_UDP_PORT, EspHeader, EspTrailer, UdpEncapsulated, classifyEspInUdp, parseEsp, parseEspTrailer } from '../wire/esp.js';
import type { SecurityAssociationDatabase } from './sad.js';
import { SaCounter, type SecurityAssociation } from './security-association.js';

const IPV4_ADDRESS_BYTES = 4;

export class EspDecryptor {
  /** The SA that prepared packet i in the current batch (null if none): for the selector check. */
  readonly saOf: (SecurityAssociation | null)[];
  private readonly runs: AeadRuns;
  /** Per op: full sequence number, IP header start, end of the headers before ESP/UDP, and the byte naming ESP/UDP. */
  private readonly opSeq: Float64Array;
  private readonly opIpStart: Int32Array;
  private readonly opHeadersEnd: Int32Array;
  private readonly opNextHeaderByte: Int32Array;
  private packets: EspPackets = NO_ESP_PACKETS;
  private readonly v4 = new Ipv4Header();
  private readonly v6 = new Ipv6Header();
  private readonly walk = new Ipv6ExtensionWalk();
  private readonly udp = new UdpHeader();
  private readonly esp = new EspHeader();
  private readonly trailer = new EspTrailer();
  private readonly inner4 = new Ipv4Header();
  private readonly inner6 = new Ipv6Header();

  /** `capacity`: the most packets one batch may hold and the largest packet index + 1 (e.g. FrameSlots.count). */
  constructor(private readonly sad: SecurityAssociationDatabase, capacity: number) {
    this.saOf = new Array<SecurityAssociation | null>(capacity).fill(null);
    this.runs = new AeadRuns(sad.backend, false, capacity);
    this.opSeq = new Float64Array(capacity);
    this.opIpStart = new Int32Array(capacity);
    this.opHeadersEnd = new Int32Array(capacity);
    this.opNextHeaderByte = new Int32Array(capacity);
  }

  /** Starts a batch over `packets`; `now` (ms, monotonic) drives the SAs' time lifetimes. */
  begin(packets: EspPackets, now: number): void {
    this.packets = packets;
    this.runs.begin(packets.bytes);
    this.sad.clock(now);
  }

  /**
   * Checks packet i (the IP packet at start[i], length[i]) and queues it for opening (Pending).
   * `ipv4`: its outer IPv4 header when the caller has it parsed already (not parsed again).
   * Any other status is final and leaves the packet untouched. Also written to status[i].
   */
  prepare(i: number, ipv4: Ipv4Header | null = null): EspStatus {
    this.saOf[i] = null;
    const status = this.classify(i, ipv4);
    this.packets.status[i] = status;
    return status;
  }

  /** Opens every queued packet and finishes each (statuses in status[i]), then delivers SA events. */
  open(): void {
    this.openAll();
    for (let k = 0; k < this.runs.count; k++) this.result(this.runs.packet[k]);
    this.end();
  }

  /**
   * Hands the rest of the queued packets to the AEAD backend. Their outcomes then come from
   * `result`, packet by packet in the order they were queued, so the caller can go on with the
   * first ones while the backend's crypto thread opens the later ones; `end` closes the batch.
   */
  openAll(): void {
    this.runs.submitRest();
  }

  /**
   * The final status of packet i, the next queued one (also written to status[i]): waits for its
   * run of the AEAD batch, then checks the anti-replay window and the trailer (finish).
   */
  result(i: number): EspStatus {
    const k = this.runs.take(i);
    const result = this.finish(k, i, this.packets.bytes);
    if (result !== EspStatus.Ok) this.saOf[i] = null;
    this.packets.status[i] = result;
    return result;
  }

  /** Ends the batch: delivers the SA events its packets raised. */
  end(): void {
    this.runs.end();
    this.sad.deliverEvents();
  }

  private classify(i: number, ipv4: Ipv4Header | null): EspStatus {
    if (this.runs.full) return EspStatus.BatchFull;
    const { bytes, start, length } = this.packets;
    const s = start[i];
    const n = length[i];
    if (s < 0 || n < 1 || s + n > bytes.length) return EspStatus.Malformed;
    let protocol: number;
    let upper: number;
    let end: number;
    let dst: number;
    let addressLength: number;
    let nextHeaderByte: number;
    const version = bytes[s] >>> 4;
    if (version === 4) {
      const h = ipv4 ?? (reparseIpv4(bytes, s, n, this.v4) === WireStatus.Ok ? this.v4 : null);
      if (h === null) return EspStatus.Malformed;
      // RFC 4303 §3.4.1: reassembly happens before ESP processing, not here.
      if (isIpv4Fragment(h)) return EspStatus.Fragment;
      protocol = h.protocol;
      upper = h.payloadOffset;
      end = s + h.totalLength;
      dst = s + IPV4_DST;
      addressLength = IPV4_ADDRESS_BYTES;
      nextHeaderByte = s + IPV4_PROTOCOL;
    } else if (version === 6) {
      if (parseIpv6(bytes, s, n, this.v6) !== WireStatus.Ok) return EspStatus.Malformed;
      end = s + IPV6_HEADER_BYTES + this.v6.payloadLength;
      if (walkIpv6Extensions(bytes, s, end - s, this.walk) !== WireStatus.Ok) return EspStatus.Malformed;
      // An atomic fragment (offset 0, M clear) is a whole datagram (RFC 4303 erratum 133).
      if (this.walk.fragmentOffset !== 0 || this.walk.moreFragments) return EspStatus.Fragment;
      protocol = this.walk.upperProtocol;
      upper = this.walk.upperOffset;
      dst = this.v6.dstOffset;
      addressLength = IPV6_ADDRESS_BYTES;
      // The byte naming ESP/UDP is known when every header before it is one that precedes ESP.
      nextHeaderByte = this.walk.espInsertOffset === upper ? this.walk.espNextHeaderOffset : -1;
    } else {
      return EspStatus.Malformed;
    }

    let esp: number;
    let udpEncapsulated = false;
    if (protocol === IpProtocol.Esp) {
      esp = upper;
    } else if (protocol === IpProtocol.Udp) {
      if (parseUdp(bytes, upper, end - upper, this.udp) !== WireStatus.Ok) return EspStatus.Malformed;
      if (this.udp.dstPort !== ESP_IN_UDP_PORT) return EspStatus.NotEsp;
      // RFC 8200 §8.1: over IPv6 the UDP checksum is mandatory (IPv4's is zero, RFC 3948 §2.1).
      if (version === 6 && verifyUdpChecksumIpv6(bytes, upper, end - upper, this.v6.srcOffset, this.v6.dstOffset) !== WireStatus.Ok) return EspStatus.Malformed;
      esp = this.udp.payloadOffset;
      end = esp + this.udp.payloadLength;
      switch (classifyEspInUdp(bytes, esp, end - esp)) {
        case UdpEncapsulated.Keepalive: return EspStatus.Keepalive;
        case UdpEncapsulated.Ike: return EspStatus.NotEsp;
        case UdpEncapsulated.Invalid: return EspStatus.Malformed;
      }
      udpEncapsulated = true;
    } else {
      return EspStatus.NotEsp;
    }
    const espLength = end - esp;
    if (espLength < ESP_MIN_OVERHEAD) return EspStatus.Malformed;
    // RFC 4303 §2.1: SPIs 0..255 are never assigned, so no SA can match them.
    if (parseEsp(bytes, esp, espLength, this.esp) !== WireStatus.Ok) return EspStatus.NoSa;

    const sa = this.sad.lookupInbound(this.esp.spi | 0, bytes, dst, addressLength);
    if (sa === null) return EspStatus.NoSa;
    if (sa.udpEncapsulated !== udpEncapsulated) return EspStatus.EncapsulationMismatch;
    if (sa.mode === 'transport' && nextHeaderByte < 0) return EspStatus.Unsupported;
    if (!sa.usable) {
      sa.counters[SaCounter.ExpiredDrops]++;
      return EspStatus.Expired;
    }
    const replay = sa.replay!;
    if (!replay.check(this.esp.sequence | 0)) {
      sa.counters[SaCounter.ReplayDrops]++;
      return EspStatus.Replay;
    }
    const seq = replay.checked;

    const k = this.runs.add(i, sa.handle, esp, espLength - ESP_HEADER_BYTES - ESP_ICV_BYTES, sequenceHigh(seq));
    this.opSeq[k] = seq;
    this.opIpStart[k] = s;
    this.opHeadersEnd[k] = udpEncapsulated ? upper : esp;
    this.opNextHeaderByte[k] = nextHeaderByte;
    this.saOf[i] = sa;
    this.runs.added();
    return EspStatus.Pending;
  }

  private finish(k: number, i: number, bytes: Uint8Array): EspStatus {
    const sa = this.saOf[i] as SecurityAssociation;
    const c = sa.counters;
    const aead = this.runs.status[k];
    if (aead === AeadStatus.AuthFailed) {
      c[SaCounter.IcvFailures]++;
      return EspStatus.AuthFailed;
    }
    if (aead !== AeadStatus.Ok) {
      c[SaCounter.BackendErrors]++;
      return EspStatus.BackendError;
    }
    // RFC 4303 §3.4.3: the window moves only for authenticated packets; this also catches a
    // duplicate that passed `check` earlier in the same batch.
    const o = k * AEAD_OP_STRIDE;
    const ops = this.runs.ops;
    if (!sa.replay!.update(ops[o + AeadOp.SeqHigh], this.opSeq[k] | 0)) {
      c[SaCounter.ReplayDrops]++;
      return EspStatus.Replay;
    }
    const text = ops[o + AeadOp.EspOffset] + ESP_HEADER_BYTES;
    const textLength = ops[o + AeadOp.TextLength];
    // RFC 4303 §2.4: the pad length fits and the padding bytes are 1, 2, 3, ...
    if (parseEspTrailer(bytes, text, textLength, this.trailer) !== WireStatus.Ok) {
      c[SaCounter.PadErrors]++;
      return EspStatus.BadPadding;
    }
    const { payloadLength, nextHeader } = this.trailer;
    if (nextHeader === IpProtocol.NoNextHeader) {
      c[SaCounter.DummyDrops]++;
      return EspStatus.Dummy;
    }
    const status = sa.mode === 'tunnel'
      ? this.detunnel(i, bytes, k, text, payloadLength, nextHeader)
      : this.restoreTransport(i, bytes, k, text, payloadLength, nextHeader);
    if (status !== EspStatus.Ok) {
      c[status === EspStatus.EcnDrop ? SaCounter.EcnDrops : SaCounter.MalformedDrops]++;
      return status;
    }
    this.sad.raise(sa, sa.charge(this.packets.length[i]));
    return EspStatus.Ok;
  }

  /** Tunnel mode: the payload is one IPv4 (4) or IPv6 (41) packet (RFC 4303 §2.3); the rest is TFC padding. */
  private detunnel(i: number, bytes: Uint8Array, k: number, inner: number, available: number, nextHeader: number): EspStatus {
    const outer = this.opIpStart[k];
    const outerEcn = bytes[outer] >>> 4 === 4 ? readIpv4Ecn(bytes, outer) : readIpv6Ecn(bytes, outer);
    let innerLength: number;
    let innerEcn: number;
    if (nextHeader === IpProtocol.Ipv4) {
      if (parseIpv4(bytes, inner, available, this.inner4) !== WireStatus.Ok) return EspStatus.BadInnerPacket;
      innerLength = this.inner4.totalLength;
      innerEcn = readIpv4Ecn(bytes, inner);
    } else if (nextHeader === IpProtocol.Ipv6) {
      if (parseIpv6(bytes, inner, available, this.inner6) !== WireStatus.Ok) return EspStatus.BadInnerPacket;
      innerLength = IPV6_HEADER_BYTES + this.inner6.payloadLength;
      innerEcn = readIpv6Ecn(bytes, inner);
    } else {
      return EspStatus.BadNextHeader;
    }
    const ecn = innerEcnOnDecapsulation(outerEcn, innerEcn);
    if (ecn === ECN_DROP) return EspStatus.EcnDrop;
    if (ecn !== innerEcn) {
      if (nextHeader === IpProtocol.Ipv4) writeIpv4Ecn(bytes, inner, ecn);
      else writeIpv6Ecn(bytes, inner, ecn);
    }
    this.packets.start[i] = inner;
    this.packets.length[i] = innerLength;
    return EspStatus.Ok;
  }

  /**
   * Transport mode (RFC 4303 §3.1.1): move the IP header (IPv6: with the headers before ESP) up
   * to the payload, put the trailer's Next Header where ESP/UDP was named, fix the lengths.
   */
  private restoreTransport(i: number, bytes: Uint8Array, k: number, payload: number, payloadLength: number, nextHeader: number): EspStatus {
    const ipStart = this.opIpStart[k];
    const headersEnd = this.opHeadersEnd[k];
    const headerBytes = headersEnd - ipStart;
    const shift = payload - headersEnd;
    const newStart = ipStart + shift;
    copyBytes(bytes, newStart, bytes, ipStart, headerBytes);
    const total = headerBytes + payloadLength;
    if (bytes[newStart] >>> 4 === 4) {
      setIpv4LengthAndProtocol(bytes, newStart, total, nextHeader);
    } else {
      bytes[this.opNextHeaderByte[k] + shift] = nextHeader;
      writeU16(bytes, newStart + IPV6_PAYLOAD_LENGTH, total - IPV6_HEADER_BYTES);
    }
    this.packets.start[i] = newStart;
    this.packets.length[i] = total;
    return EspStatus.Ok;
  }
}
