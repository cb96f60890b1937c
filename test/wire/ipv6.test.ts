import { describe, expect, it } from 'vitest';
import { Ecn } from '../../src/wire/ecn.js';
import {
  decrementHopLimit,
  IPV6_MAX_EXTENSION_HEADERS,
  IPV6_NO_UPPER_LAYER,
  Ipv6ExtensionWalk,
  Ipv6Header,
  isIpv6Multicast,
  parseIpv6,
  readIpv6Ecn,
  walkIpv6Extensions,
  writeIpv6Ecn,
  writeIpv6Header,
} from '../../src/wire/ipv6.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const A = '20010db8000000000000000000000001'; // 2001:db8::1
const B = '20010db8000000000000000000000002'; // 2001:db8::2
const COA = '20010db8000100000000000000000099'; // 2001:db8:1::99
const HOA = '20010db8000200000000000000000005'; // 2001:db8:2::5
const ESP = '00001001 00000007 0102030405060708';

// All packets below were generated with scapy and hardcoded.
/** IPv6(tc=0xb9, fl=0x12345) / UDP(5000, 6000) / "hi" */
const UDP = `6b912345 000a 11 40 ${A} ${B} 1388 1770 000a 1104 6869`;
/** RFC 3776 §3.1: IPv6 | DestOpt(HAO) | ESP */
const HAO_ESP = `60000000 0028 3c 40 ${COA} ${B} 32 02 0102 0000 c910 ${HOA} ${ESP}`;
/** IPv6 | DestOpt(HAO) | MH(Binding Update), before ESP is inserted */
const HAO_MH = `60000000 0028 3c 40 ${A} ${B} 87 02 0102 0000 c910 ${HOA} 3b01 0500 92e5 0001 d000 0003 0102 0000`;
/** RFC 3776 §3.1: IPv6 | RH2 | ESP */
const RH2_ESP = `60000000 0028 2b 40 ${A} ${COA} 32 02 02 01 00000000 ${HOA} ${ESP}`;
/** IPv6 | RH2 | MH(Binding Acknowledgement), before ESP is inserted (RFC 6275 §9.5.4) */
const RH2_MH = `60000000 0028 2b 40 ${A} ${COA} 87 02 02 01 00000000 ${HOA} 3b01 0600 616a 0080 0001 0000 0102 0000`;
/**
 * IPv6 | HBH(Router Alert) @40 | DestOpt @48 | RH type 0, Segments Left 0 @56 | Fragment(M, id 0xdeadbeef) @80
 * | DestOpt @88 | UDP(1000, 53) @96
 */
const LONG_CHAIN =
  `60000000 0041 00 40 ${A} ${B} 3c00 0502 0000 0100 2b00 0104 00000000 2c02 0000 00000000 ${COA}` +
  ` 3c00 0001 deadbeef 1100 0104 00000000 03e8 0035 0009 2f4a 71`;
/** IPv6 | Fragment(offset 800, id 42, next header UDP) | 8 bytes */
const NON_FIRST_FRAGMENT = `60000000 0010 2c 40 ${A} ${B} 11 00 0320 0000002a 7a7a7a7a7a7a7a7a`;
/** IPv6 with Next Header 59 and no payload */
const NO_NEXT = `60000000 0000 3b 40 ${A} ${B}`;

function walk(hexText: string, lead = 0): { status: number; w: Ipv6ExtensionWalk; b: Uint8Array } {
  const packet = hex(hexText);
  const b = new Uint8Array(lead + packet.length);
  b.set(packet, lead);
  const w = new Ipv6ExtensionWalk();
  return { status: walkIpv6Extensions(b, lead, packet.length, w), w, b };
}

describe('parseIpv6', () => {
  it('parses the fixed header', () => {
    const b = hex(UDP);
    const h = new Ipv6Header();
    expect(parseIpv6(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({
      trafficClass: 0xb9,
      flowLabel: 0x12345,
      payloadLength: 10,
      nextHeader: IpProtocol.Udp,
      hopLimit: 64,
      srcOffset: 8,
      dstOffset: 24,
      payloadOffset: 40,
    });
    expect(readIpv6Ecn(b, 0)).toBe(Ecn.Ect1);
  });

  it('accepts link padding after the payload', () => {
    const b = new Uint8Array(hex(UDP).length + 6);
    b.set(hex(UDP));
    expect(parseIpv6(b, 0, b.length, new Ipv6Header())).toBe(WireStatus.Ok);
  });

  it('reports every truncation as Truncated', () => {
    const b = hex(UDP);
    for (let len = 0; len < b.length; len++) expect(parseIpv6(b, 0, len, new Ipv6Header()), `len ${len}`).toBe(WireStatus.Truncated);
  });

  it('rejects a wrong version and a bad range', () => {
    const b = hex(UDP);
    expect(parseIpv6(b, 0, b.length + 1, new Ipv6Header())).toBe(WireStatus.BadRange);
    b[0] = 0x4b;
    expect(parseIpv6(b, 0, b.length, new Ipv6Header())).toBe(WireStatus.BadVersion);
  });
});

describe('writeIpv6Header', () => {
  it('round-trips byte for byte with addresses from other buffers', () => {
    const b = hex(UDP);
    const h = new Ipv6Header();
    expect(parseIpv6(b, 0, b.length, h)).toBe(WireStatus.Ok);
    const out = new Uint8Array(44);
    expect(writeIpv6Header(out, 4, h, b, h.srcOffset, b, h.dstOffset)).toBe(40);
    expect(out.subarray(4)).toEqual(b.subarray(0, 40));
  });

  it('writes into its own buffer when the addresses live there and refuses to overflow', () => {
    const b = hex(UDP);
    const h = new Ipv6Header();
    parseIpv6(b, 0, b.length, h);
    // Swap source and destination in place, as an echo reply would.
    const copy = hex(UDP);
    expect(writeIpv6Header(b, 0, h, copy, 24, copy, 8)).toBe(40);
    expect(b.subarray(8, 24)).toEqual(hex(B));
    expect(b.subarray(24, 40)).toEqual(hex(A));
    expect(writeIpv6Header(new Uint8Array(39), 0, h, copy, 8, copy, 24)).toBe(0);
  });
});

describe('hop limit, ECN and multicast', () => {
  it('decrements the hop limit and refuses 1', () => {
    const b = hex(UDP);
    expect(decrementHopLimit(b, 0)).toBe(WireStatus.Ok);
    expect(b[7]).toBe(63);
    b[7] = 1;
    expect(decrementHopLimit(b, 0)).toBe(WireStatus.TtlExceeded);
    expect(b[7]).toBe(1);
  });

  it('sets ECN without touching DSCP or the flow label', () => {
    const b = hex(UDP);
    writeIpv6Ecn(b, 0, Ecn.Ce);
    const h = new Ipv6Header();
    parseIpv6(b, 0, b.length, h);
    expect(h.trafficClass).toBe(0xbb);
    expect(h.flowLabel).toBe(0x12345);
    expect(readIpv6Ecn(b, 0)).toBe(Ecn.Ce);
  });

  it('recognises ff00::/8', () => {
    expect(isIpv6Multicast(hex('ff020000000000000000000000000001'), 0)).toBe(true);
    expect(isIpv6Multicast(hex(A), 0)).toBe(false);
  });
});

describe('walkIpv6Extensions', () => {
  it('finds the upper layer right after the fixed header', () => {
    const { status, w } = walk(UDP, 14);
    expect(status).toBe(WireStatus.Ok);
    expect(w).toMatchObject({
      upperProtocol: IpProtocol.Udp,
      upperOffset: 14 + 40,
      headerCount: 0,
      espInsertOffset: 14 + 40,
      espNextHeaderOffset: 14 + 6,
      homeAddressOffset: -1,
      routingAddressOffset: -1,
      fragmentHeaderOffset: -1,
    });
  });

  it('RFC 3776 §3.1 IPv6 | HAO DestOpt | ESP: ESP follows the Home Address option', () => {
    const { status, w, b } = walk(HAO_ESP);
    expect(status).toBe(WireStatus.Ok);
    expect(w.upperProtocol).toBe(IpProtocol.Esp);
    expect(w.upperOffset).toBe(64);
    expect(w.homeAddressOffset).toBe(48);
    expect(b.subarray(48, 64)).toEqual(hex(HOA));
    expect(w.espInsertOffset).toBe(64);
    expect(w.espNextHeaderOffset).toBe(40);
  });

  it('IPv6 | HAO DestOpt | MH: ESP goes between the DestOpt and the Mobility Header', () => {
    const { status, w, b } = walk(HAO_MH);
    expect(status).toBe(WireStatus.Ok);
    expect(w.upperProtocol).toBe(IpProtocol.Mobility);
    expect(w.upperOffset).toBe(64);
    expect(w.espInsertOffset).toBe(64);
    expect(w.espNextHeaderOffset).toBe(40);
    expect(b[w.espNextHeaderOffset]).toBe(IpProtocol.Mobility);
    expect(w.homeAddressOffset).toBe(48);
  });

  it('RFC 3776 §3.1 IPv6 | RH2 | ESP: reports the home address of the type 2 Routing header', () => {
    const { status, w, b } = walk(RH2_ESP);
    expect(status).toBe(WireStatus.Ok);
    expect(w.upperProtocol).toBe(IpProtocol.Esp);
    expect(w.upperOffset).toBe(64);
    expect(w.routingType).toBe(2);
    expect(w.segmentsLeft).toBe(1);
    expect(w.routingAddressOffset).toBe(48);
    expect(b.subarray(48, 64)).toEqual(hex(HOA));
    expect(w.espInsertOffset).toBe(64);
    expect(w.espNextHeaderOffset).toBe(40);
  });

  it('IPv6 | RH2 | MH: ESP goes after the Routing header', () => {
    const { status, w } = walk(RH2_MH);
    expect(status).toBe(WireStatus.Ok);
    expect(w.upperProtocol).toBe(IpProtocol.Mobility);
    expect(w.espInsertOffset).toBe(64);
    expect(w.espNextHeaderOffset).toBe(40);
  });

  it('HBH | DestOpt | RH | Fragment | DestOpt | UDP: ESP after the Fragment header, before the last DestOpt', () => {
    const { status, w } = walk(LONG_CHAIN);
    expect(status).toBe(WireStatus.Ok);
    expect(w).toMatchObject({
      upperProtocol: IpProtocol.Udp,
      upperOffset: 96,
      headerCount: 5,
      routingType: 0,
      segmentsLeft: 0,
      routingAddressOffset: -1,
      fragmentHeaderOffset: 80,
      fragmentOffset: 0,
      moreFragments: true,
      fragmentId: 0xdeadbeef,
      espInsertOffset: 88,
      espNextHeaderOffset: 80,
      homeAddressOffset: -1,
    });
  });

  it('a non-first fragment has no upper layer', () => {
    const { status, w } = walk(NON_FIRST_FRAGMENT);
    expect(status).toBe(WireStatus.Ok);
    expect(w.upperProtocol).toBe(IPV6_NO_UPPER_LAYER);
    expect(w.upperOffset).toBe(IPV6_NO_UPPER_LAYER);
    expect(w.fragmentOffset).toBe(800);
    expect(w.fragmentId).toBe(42);
    expect(w.moreFragments).toBe(false);
  });

  it('Next Header 59 means no upper layer', () => {
    const { status, w } = walk(NO_NEXT);
    expect(status).toBe(WireStatus.Ok);
    expect(w.upperProtocol).toBe(IPV6_NO_UPPER_LAYER);
    expect(w.espInsertOffset).toBe(40);
  });

  it('reports a truncated chain at every cut inside the extension headers', () => {
    const packet = hex(LONG_CHAIN);
    for (let len = 0; len < 96; len++) {
      const w = new Ipv6ExtensionWalk();
      expect(walkIpv6Extensions(packet, 0, len, w), `len ${len}`).toBe(WireStatus.Truncated);
    }
  });

  it('rejects Hop-by-Hop after another extension header', () => {
    const b = hex(LONG_CHAIN);
    b[48] = IpProtocol.HopByHop; // DestOpt's Next Header now names HBH
    expect(walkIpv6Extensions(b, 0, b.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadExtensionOrder);
  });

  it('rejects a second Routing or Fragment header', () => {
    const twoRouting = hex(`60000000 0010 2b 40 ${A} ${B} 2b00 0000 00000000 1100 0000 00000000`);
    expect(walkIpv6Extensions(twoRouting, 0, twoRouting.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadExtensionOrder);
    const twoFragments = hex(`60000000 0010 2c 40 ${A} ${B} 2c00 0000 00000001 1100 0000 00000001`);
    expect(walkIpv6Extensions(twoFragments, 0, twoFragments.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadExtensionOrder);
  });

  it('rejects a routing type other than 2 with segments left', () => {
    const b = hex(LONG_CHAIN);
    b[59] = 1; // type 0 Routing header, Segments Left 1
    expect(walkIpv6Extensions(b, 0, b.length, new Ipv6ExtensionWalk())).toBe(WireStatus.UnknownRoutingType);
  });

  it('rejects a type 2 Routing header with a wrong length or Segments Left', () => {
    const segments = hex(RH2_ESP);
    segments[43] = 2;
    expect(walkIpv6Extensions(segments, 0, segments.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadRoutingHeader);
    const length = hex(`60000000 0030 2b 40 ${A} ${COA} 32 04 02 01 00000000 ${HOA} ${HOA} ${ESP}`);
    expect(walkIpv6Extensions(length, 0, length.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadRoutingHeader);
  });

  it('rejects malformed options', () => {
    const overrun = hex(HAO_ESP);
    overrun[43] = 3; // PadN claims 3 bytes, swallowing the HAO type and length bytes
    expect(walkIpv6Extensions(overrun, 0, overrun.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadOption);
    const shortHao = hex(HAO_ESP);
    shortHao[47] = 15; // Home Address option must carry exactly 16 bytes
    expect(walkIpv6Extensions(shortHao, 0, shortHao.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadOption);
    const lastByte = hex(`60000000 0010 3c 40 ${A} ${B} 3b00 0000 0000 0005 ${'00'.repeat(8)}`);
    expect(walkIpv6Extensions(lastByte, 0, lastByte.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadOption);
  });

  it('rejects a second Home Address option', () => {
    const haoThenDestOpt = `3c 02 0102 0000 c910 ${HOA}`;
    const haoThenNothing = `3b 02 0102 0000 c910 ${HOA}`;
    const b = hex(`60000000 0030 3c 40 ${COA} ${B} ${haoThenDestOpt} ${haoThenNothing}`);
    expect(walkIpv6Extensions(b, 0, b.length, new Ipv6ExtensionWalk())).toBe(WireStatus.BadOption);
  });

  it('gives up on an over-long chain', () => {
    const count = IPV6_MAX_EXTENSION_HEADERS + 1;
    const destOpt = '3c00 0104 00000000';
    const b = hex(`60000000 ${(count * 8).toString(16).padStart(4, '0')} 3c 40 ${A} ${B} ${destOpt.repeat(count)}`);
    expect(walkIpv6Extensions(b, 0, b.length, new Ipv6ExtensionWalk())).toBe(WireStatus.ExtensionChainTooLong);
    const ok = hex(`60000000 ${(8 * 8).toString(16).padStart(4, '0')} 3c 40 ${A} ${B} ${destOpt.repeat(7)} 3b00 0104 00000000`);
    expect(walkIpv6Extensions(ok, 0, ok.length, new Ipv6ExtensionWalk())).toBe(WireStatus.Ok);
  });

  it('resets a reused result object', () => {
    const w = new Ipv6ExtensionWalk();
    const first = hex(HAO_ESP);
    walkIpv6Extensions(first, 0, first.length, w);
    const second = hex(UDP);
    expect(walkIpv6Extensions(second, 0, second.length, w)).toBe(WireStatus.Ok);
    expect(w.homeAddressOffset).toBe(-1);
    expect(w.headerCount).toBe(0);
    expect(w.espNextHeaderOffset).toBe(6);
  });
});
