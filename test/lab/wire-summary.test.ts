import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { LINKTYPE_ETHERNET, readPcap } from '../../src/lab/pcap.js';
import { FRAME_CLASSES, FrameClassifier, summarizeCapture, WireSummaryError, type FrameClass } from '../../src/lab/wire-summary.js';

/**
 * 15 Ethernet frames written by scapy 2.5 (wrpcap, little-endian, microseconds), one per traffic
 * class of the wan summary; frame i has time 1700000000 + i * 0.25. Generated once with:
 *   frames = [Ether()/IP(proto=50)/ESP bytes, Ether()/IP()/UDP(4500,4500)/SPI..., UDP 500, UDP 4500 zero
 *   marker, ARP, IP()/IPv6()/ICMPv6EchoRequest(), IP()/IP()/ICMP(), IPv6 RS, IP()/ICMP() 192.0.2.x,
 *   IP()/ICMP() 198.51.100.x, LLDP, Dot1Q(vlan=7)/IP(proto=50), UDP 4500 b'\xff', IP(frag=100, proto=17),
 *   IP(chksum=0x1234)/UDP(4500)]
 */
const CLASSES_PCAP = Uint8Array.from(Buffer.from(
  '1MOyoQIABAAAAAAAAAAAAP//AAABAAAAAPFTZQAAAABSAAAAUgAAAAIAAAAACwIAAAAACggARQAARAABAABAMvaDwAACAcAAAgIAABAAAAAAAQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicA8VNlkNADAFoAAABaAAAAAgAAAAALAgAAAAAKCABFAABMAAEAAEAR9pzAAAIBwAACAhGUEZQAOMq+AAAQAAAAAAIAAQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnAPFTZSChBwBGAAAARgAAAAIAAAAACwIAAAAACggARQAAOAABAABAEfawwAACAcAAAgIB9AH0ACSy5wECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwA8VNlsHELAEoAAABKAAAAAgAAAAALAgAAAAAKCABFAAA8AAEAAEAR9qzAAAIBwAACAhGUEZQAKJOfAAAAAAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwB8VNlAAAAACoAAAAqAAAA////////AgAAAAAKCAYAAQgABgQAAQIAAAAACsAAAgEAAAAAAADAAAICAfFTZZDQAwBSAAAAUgAAAAIAAAAACwIAAAAACggARQAARAABAABAKfaMwAACAcAAAgJgAAAAAAg6QCABDbgACgAAAAAAAAAAABAgAQ24AAsAAAAAAAAAAAAQgAAkFgAAAAAB8VNlIKEHAD4AAAA+AAAAAgAAAAALAgAAAAAKCABFAAAwAAEAAEAE9sXAAAIBwAACAkUAABwAAQAAQAEmW8YzZArGM2QUCAD3/wAAAAAB8VNlsHELAD4AAAA+AAAAMzMAAAACAgAAAAAKht1gAAAAAAg6//6AAAAAAAAAAAAAAAAAAAH/AgAAAAAAAAAAAAAAAAAChQB9NgAAAAAC8VNlAAAAACoAAAAqAAAAAgAAAAALAgAAAAAKCABFAAAcAAEAAEAB9tzAAAIBwAACAggA9/8AAAAAAvFTZZDQAwAqAAAAKgAAAAIAAAAACwIAAAAACggARQAAHAABAABAASZbxjNkCsYzZBQIAPf/AAAAAALxU2UgoQcAPAAAADwAAAABgMIAAA4CAAAAAAqIzAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAC8VNlsHELAFYAAABWAAAAAgAAAAALAgAAAAAKgQAABwgARQAARAABAABAMvaDwAACAcAAAgIAABAAAAAAAwABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4fICEiIyQlJicD8VNlAAAAACsAAAArAAAAAgAAAAALAgAAAAAKCABFAAAdAAEAAEAR9svAAAIBwAACAhGUEZQACVmv/wPxU2WQ0AMASgAAAEoAAAACAAAAAAsCAAAAAAoIAEUAADwAAQBkQBH2SMAAAgHAAAICAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAPxU2UgoQcAMgAAADIAAAACAAAAAAsCAAAAAAoIAEUAACQAAQAAQBESNMAAAgHAAAICEZQRlAAQSJ4AABAAAAAABA==',
  'base64',
));

/** Frame lengths of CLASSES_PCAP as tshark shows them. */
const CLASSES_PCAP_LENGTHS = [82, 90, 70, 74, 42, 82, 62, 62, 42, 42, 60, 86, 43, 74, 50];

/** What each frame of CLASSES_PCAP is, as tshark dissects it. */
const EXPECTED: readonly FrameClass[] = [
  'esp', // IPv4 protocol 50
  'espInUdp', // UDP 4500, SPI 0x1000
  'ike', // UDP 500
  'ike', // UDP 4500, non-ESP marker 0
  'arp',
  'clearIpv6InIpv4', // IPv4 protocol 41 carrying ICMPv6 echo
  'clearIpv4InIpv4', // IPv4 protocol 4
  'ipv6', // router solicitation
  'otherIpv4', // ICMP 192.0.2.1 -> 192.0.2.2
  'bypassIpv4', // ICMP 198.51.100.10 -> 198.51.100.20 (otherIpv4 without a bypass prefix)
  'other', // LLDP
  'esp', // ESP inside an 802.1Q tag
  'natKeepalive', // UDP 4500, one byte 0xff
  'otherIpv4', // non-first UDP fragment: ports unknown
  'other', // IPv4 header checksum wrong
];

describe('FrameClassifier', () => {
  it('puts each frame of a scapy capture into its class', () => {
    const pcap = readPcap(CLASSES_PCAP);
    expect(pcap.linkType).toBe(LINKTYPE_ETHERNET);
    const classifier = new FrameClassifier({ bypass4: '198.51.100.0/24' });
    expect(pcap.records.map((r) => r.capturedLength)).toEqual(CLASSES_PCAP_LENGTHS);
    expect(pcap.records.map((r) => classifier.classify(CLASSES_PCAP, r.offset, r.capturedLength))).toEqual(EXPECTED);
  });

  it('treats traffic between bypass addresses as other IPv4 when no bypass prefix is given', () => {
    const pcap = readPcap(CLASSES_PCAP);
    const bypass = pcap.records[9];
    expect(new FrameClassifier().classify(CLASSES_PCAP, bypass.offset, bypass.capturedLength)).toBe('otherIpv4');
    // One end outside the prefix: not bypassed.
    expect(new FrameClassifier({ bypass4: '198.51.100.16/28' }).classify(CLASSES_PCAP, bypass.offset, bypass.capturedLength)).toBe('otherIpv4');
  });

  it('classifies a frame cut short by the capture as other (never guesses)', () => {
    const esp = readPcap(CLASSES_PCAP).records[0];
    expect(new FrameClassifier().classify(CLASSES_PCAP, esp.offset, 30)).toBe('other');
  });

  it('rejects a bypass prefix that is not IPv4', () => {
    expect(() => new FrameClassifier({ bypass4: '2001:db8::/32' })).toThrow(WireSummaryError);
    expect(() => new FrameClassifier({ bypass4: '198.51.100.1/24' })).toThrow(/host bits are set/);
  });

  it('never throws and always returns a known class on arbitrary bytes', () => {
    const classifier = new FrameClassifier({ bypass4: '198.51.100.0/24' });
    const ethernetIpv4 = fc.uint8Array({ minLength: 0, maxLength: 120 }).map((tail) => Uint8Array.from([...new Uint8Array(12), 0x08, 0x00, ...tail]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 200 }), ethernetIpv4), (frame) => {
        expect(FRAME_CLASSES).toContain(classifier.classify(frame, 0, frame.length));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('summarizeCapture', () => {
  it('counts every class and flags what must not cross the black side', () => {
    const summary = summarizeCapture(CLASSES_PCAP, { bypass4: '198.51.100.0/24' });
    expect(summary.frames).toBe(15);
    expect(summary.counts).toEqual({
      esp: 2, espInUdp: 1, ike: 2, natKeepalive: 1, arp: 1, bypassIpv4: 1,
      clearIpv6InIpv4: 1, clearIpv4InIpv4: 1, ipv6: 1, otherIpv4: 2, other: 2,
    });
    expect(summary.violations).toBe(7);
    expect(summary.firstViolations.map((v) => [v.frame, v.frameClass])).toEqual([
      [6, 'clearIpv6InIpv4'], [7, 'clearIpv4InIpv4'], [8, 'ipv6'], [9, 'otherIpv4'], [11, 'other'], [14, 'otherIpv4'], [15, 'other'],
    ]);
    expect(summary.firstViolations[0].length).toBe(82);
  });

  it('counts bypassed IPv4 as a violation when no bypass prefix is given', () => {
    const summary = summarizeCapture(CLASSES_PCAP);
    expect(summary.allowed).not.toContain('bypassIpv4');
    expect(summary.counts.bypassIpv4).toBe(0);
    expect(summary.violations).toBe(8);
  });

  it('refuses captures that are not Ethernet', () => {
    const linuxCooked = Uint8Array.from(CLASSES_PCAP.subarray(0, 24));
    linuxCooked[20] = 113;
    expect(() => summarizeCapture(linuxCooked)).toThrow(/link type is 113/);
  });
});
