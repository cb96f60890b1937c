/**
 * What crossed the black side, by class, from a pcap of Ethernet frames. Headers are read with
 * the project's codecs in src/wire. Only protected traffic and its control plane may cross the
 * untrusted network: ESP (RFC 4303), ESP-in-UDP, IKE and NAT-keepalives (RFC 3948, RFC 7296 §2.23),
 * ARP for the tunnel endpoints, and IPv4 that policy bypasses (RFC 4301 §4.4.1 BYPASS) when the
 * caller names its prefix. Anything else is a violation: above all clear protocol 41 (6in4 that
 * should have been protected, RFC 4891 §3) and IPv6 of any kind.
 */
import { classifyEspInUdp, ESP_IN_UDP_PORT, UdpEncapsulated } from '../wire/esp.js';
import { ArpPacket, parseArp } from '../wire/arp.js';
import { EthernetHeader, parseEthernet } from '../wire/ethernet.js';
import { Ipv4Header, isIpv4Fragment, parseIpv4 } from '../wire/ipv4.js';
import { EtherType, IpProtocol } from '../wire/protocol.js';
import { WireStatus } from '../wire/status.js';
import { parseUdp, UdpHeader } from '../wire/udp.js';
import { parseAddressRange } from '../policy/address-text.js';
import { LINKTYPE_ETHERNET, readPcap } from './pcap.js';

/** IKE's own port (RFC 7296 §2). */
const IKE_PORT = 500;

export const FRAME_CLASSES = [
  'esp',
  'espInUdp',
  'ike',
  'natKeepalive',
  'arp',
  'bypassIpv4',
  'clearIpv6InIpv4',
  'clearIpv4InIpv4',
  'ipv6',
  'otherIpv4',
  'other',
] as const;
export type FrameClass = (typeof FRAME_CLASSES)[number];

export const FRAME_CLASS_LABELS: Readonly<Record<FrameClass, string>> = Object.freeze({
  esp: 'ESP',
  espInUdp: 'ESP-in-UDP (4500)',
  ike: 'IKE (500, 4500 marker 0)',
  natKeepalive: 'NAT-keepalive (4500)',
  arp: 'ARP',
  bypassIpv4: 'bypassed IPv4',
  clearIpv6InIpv4: 'clear IPv4 protocol 41',
  clearIpv4InIpv4: 'clear IPv4 protocol 4',
  ipv6: 'IPv6',
  otherIpv4: 'other IPv4',
  other: 'other',
});

export interface WireSummaryOptions {
  /** IPv4 prefix ("198.51.100.0/24") whose internal traffic policy bypasses; it may cross in clear. */
  bypass4?: string;
}

export interface WireViolation {
  /** Frame number in the capture, from 1 (as tshark and Wireshark count). */
  readonly frame: number;
  readonly frameClass: FrameClass;
  /** Length on the wire. */
  readonly length: number;
}

export interface WireSummary {
  readonly frames: number;
  readonly counts: Readonly<Record<FrameClass, number>>;
  /** Classes that may cross the wire. */
  readonly allowed: readonly FrameClass[];
  /** Frames of any other class. */
  readonly violations: number;
  /** The first few violations, for a look with tshark. */
  readonly firstViolations: readonly WireViolation[];
}

export class WireSummaryError extends Error {
  override readonly name = 'WireSummaryError';
}

const MAX_LISTED_VIOLATIONS = 10;

/** Sorts frames into classes; one instance reuses its header objects for every frame. */
export class FrameClassifier {
  private readonly ethernet = new EthernetHeader();
  private readonly arp = new ArpPacket();
  private readonly ipv4 = new Ipv4Header();
  private readonly udp = new UdpHeader();
  private readonly bypassLo: number;
  private readonly bypassHi: number;

  constructor(options: WireSummaryOptions = {}) {
    if (options.bypass4 === undefined) {
      this.bypassLo = 1;
      this.bypassHi = 0;
      return;
    }
    const range = parseAddressRange(options.bypass4);
    if (typeof range === 'string' || range.family !== 4) {
      throw new WireSummaryError(`wire summary: bypass4 "${options.bypass4}" ${typeof range === 'string' ? range : 'is IPv6'}; give an IPv4 prefix such as "198.51.100.0/24"`);
    }
    this.bypassLo = Number(range.lo);
    this.bypassHi = Number(range.hi);
  }

  /** The class of the Ethernet frame of `len` bytes at `off`. */
  classify(bytes: Uint8Array, off: number, len: number): FrameClass {
    const eth = this.ethernet;
    if (parseEthernet(bytes, off, len, eth) !== WireStatus.Ok) return 'other';
    const l3Length = off + len - eth.l3Offset;
    switch (eth.etherType) {
      case EtherType.Arp:
        return parseArp(bytes, eth.l3Offset, l3Length, this.arp) === WireStatus.Ok ? 'arp' : 'other';
      case EtherType.Ipv6:
        return 'ipv6';
      case EtherType.Ipv4:
        return this.classifyIpv4(bytes, eth.l3Offset, l3Length);
      default:
        return 'other';
    }
  }

  private classifyIpv4(bytes: Uint8Array, off: number, len: number): FrameClass {
    const ip = this.ipv4;
    if (parseIpv4(bytes, off, len, ip) !== WireStatus.Ok) return 'other';
    switch (ip.protocol) {
      case IpProtocol.Ipv6:
        return 'clearIpv6InIpv4';
      case IpProtocol.Ipv4:
        return 'clearIpv4InIpv4';
      case IpProtocol.Esp:
        return 'esp';
      case IpProtocol.Udp:
        // Ports and the RFC 3948 marker are only visible in whole datagrams.
        if (isIpv4Fragment(ip)) return 'otherIpv4';
        return this.classifyUdp(bytes, ip.payloadOffset, ip.payloadLength) ?? this.bypassOrOther();
      default:
        return this.bypassOrOther();
    }
  }

  private classifyUdp(bytes: Uint8Array, off: number, len: number): FrameClass | null {
    const udp = this.udp;
    if (parseUdp(bytes, off, len, udp) !== WireStatus.Ok) return 'otherIpv4';
    if (udp.srcPort === IKE_PORT || udp.dstPort === IKE_PORT) return 'ike';
    if (udp.srcPort !== ESP_IN_UDP_PORT && udp.dstPort !== ESP_IN_UDP_PORT) return null;
    switch (classifyEspInUdp(bytes, udp.payloadOffset, udp.payloadLength)) {
      case UdpEncapsulated.Esp:
        return 'espInUdp';
      case UdpEncapsulated.Ike:
        return 'ike';
      case UdpEncapsulated.Keepalive:
        return 'natKeepalive';
      default:
        return 'otherIpv4';
    }
  }

  private bypassOrOther(): FrameClass {
    const { src, dst } = this.ipv4;
    const inside = (a: number): boolean => a >= this.bypassLo && a <= this.bypassHi;
    return inside(src) && inside(dst) ? 'bypassIpv4' : 'otherIpv4';
  }
}

/** Classes that may cross the black side under these options. */
export function allowedFrameClasses(options: WireSummaryOptions = {}): FrameClass[] {
  const allowed: FrameClass[] = ['esp', 'espInUdp', 'ike', 'natKeepalive', 'arp'];
  if (options.bypass4 !== undefined) allowed.push('bypassIpv4');
  return allowed;
}

/** The frames of each class that may not cross, by label: "2 IPv6, 1 clear IPv4 protocol 41". */
export function describeViolations(summary: WireSummary): string {
  return FRAME_CLASSES.filter((c) => !summary.allowed.includes(c) && summary.counts[c] > 0)
    .map((c) => `${summary.counts[c]} ${FRAME_CLASS_LABELS[c]}`)
    .join(', ');
}

/** Classifies every frame of a pcap (Ethernet link type) and counts the violations. */
export function summarizeCapture(pcapBytes: Uint8Array, options: WireSummaryOptions = {}): WireSummary {
  const pcap = readPcap(pcapBytes);
  if (pcap.linkType !== LINKTYPE_ETHERNET) {
    throw new WireSummaryError(`wire summary: the capture's link type is ${pcap.linkType}; capture on an Ethernet interface (link type 1), not "any"`);
  }
  const classifier = new FrameClassifier(options);
  const allowed = allowedFrameClasses(options);
  const counts = Object.fromEntries(FRAME_CLASSES.map((c) => [c, 0])) as Record<FrameClass, number>;
  const firstViolations: WireViolation[] = [];
  let violations = 0;
  pcap.records.forEach((record, index) => {
    const frameClass = classifier.classify(pcapBytes, record.offset, record.capturedLength);
    counts[frameClass]++;
    if (allowed.includes(frameClass)) return;
    violations++;
    if (firstViolations.length < MAX_LISTED_VIOLATIONS) {
      firstViolations.push({ frame: index + 1, frameClass, length: record.originalLength });
    }
  });
  return { frames: pcap.records.length, counts, allowed, violations, firstViolations };
}
