import { describe, expect, it } from 'vitest';
import { readU48 } from '../../src/wire/bytes.js';
import { fillIcmpv6Checksum, Icmpv6Message, Icmpv6Type, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { Ipv6Header, parseIpv6, writeIpv6Header } from '../../src/wire/ipv6.js';
import {
  NA_FLAG_OVERRIDE,
  NA_FLAG_SOLICITED,
  NdpMessage,
  NdpOption,
  parseNdp,
  PREFIX_FLAG_AUTONOMOUS,
  PREFIX_FLAG_ON_LINK,
  writeLinkLayerOption,
  writeMtuOption,
  writeNeighborAdvertisement,
  writeNeighborSolicitation,
  writePrefixOption,
  writeRouterAdvertisement,
} from '../../src/wire/ndp.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const MAC1 = 0x020000000001;
const MAC2 = 0x020000000002;
const LL1 = 'fe800000000000000000000000000001';
const LL2 = 'fe800000000000000000000000000002';
const GLOBAL = '20010db8000000000000000000000001';
const SOLICITED = 'ff0200000000000000000001ff000001';
const ALL_NODES = 'ff020000000000000000000000000001';
const ALL_ROUTERS = 'ff020000000000000000000000000002';
const P1 = '20010db8000100000000000000000000';
const P2 = '20010db8000200000000000000000000';

// All from scapy, hop limit 255.
const NS = `6000000000203aff ${LL2} ${SOLICITED} 8700 4b5f 00000000 ${GLOBAL} 0101 020000000002`;
const NA = `6000000000203aff ${GLOBAL} ${LL2} 8800 b9ab 60000000 ${GLOBAL} 0201 020000000001`;
const RS = `6000000000103aff ${LL2} ${ALL_ROUTERS} 8500 7a2a 00000000 0101 020000000002`;
const RA =
  `6000000000603aff ${LL1} ${ALL_NODES} 8600 4da8 40 48 0708 00007530 000003e8` +
  ` 0101 020000000001 0501 0000 000005c8` +
  ` 0304 40 c0 00015180 00003840 00000000 ${P1}` +
  ` 0304 30 80 00000258 0000012c 00000000 ${P2}`;

function parse(hexText: string, mutate?: (b: Uint8Array) => void): { status: number; m: NdpMessage; b: Uint8Array; ip: Ipv6Header } {
  const b = hex(hexText);
  mutate?.(b);
  const ip = new Ipv6Header();
  expect(parseIpv6(b, 0, b.length, ip)).toBe(WireStatus.Ok);
  const m = new NdpMessage();
  return { status: parseNdp(b, 40, ip.payloadLength, ip, m), m, b, ip };
}

describe('parseNdp', () => {
  it('parses a Neighbor Solicitation with its source link-layer address', () => {
    const { status, m, b, ip } = parse(NS);
    expect(status).toBe(WireStatus.Ok);
    expect(parseIcmpv6(b, 40, ip.payloadLength, ip.srcOffset, ip.dstOffset, new Icmpv6Message())).toBe(WireStatus.Ok);
    expect(m).toMatchObject({ type: Icmpv6Type.NeighborSolicitation, flags: 0, targetOffset: 48, targetMacOffset: -1 });
    expect(b.subarray(48, 64)).toEqual(hex(GLOBAL));
    expect(readU48(b, m.sourceMacOffset)).toBe(MAC2);
  });

  it('parses a Neighbor Advertisement with flags and target link-layer address', () => {
    const { status, m, b } = parse(NA);
    expect(status).toBe(WireStatus.Ok);
    expect(m.type).toBe(Icmpv6Type.NeighborAdvertisement);
    expect(m.flags).toBe(NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE);
    expect(m.sourceMacOffset).toBe(-1);
    expect(readU48(b, m.targetMacOffset)).toBe(MAC1);
  });

  it('parses a Router Solicitation', () => {
    const { status, m, b } = parse(RS);
    expect(status).toBe(WireStatus.Ok);
    expect(m.type).toBe(Icmpv6Type.RouterSolicitation);
    expect(m.targetOffset).toBe(-1);
    expect(readU48(b, m.sourceMacOffset)).toBe(MAC2);
  });

  it('accepts a Router Advertisement with MTU and two prefixes, keeping its source link-layer address', () => {
    const { status, m, b } = parse(RA);
    expect(status).toBe(WireStatus.Ok);
    expect(m).toMatchObject({ type: Icmpv6Type.RouterAdvertisement, flags: 0, targetOffset: -1, targetMacOffset: -1 });
    expect(readU48(b, m.sourceMacOffset)).toBe(MAC1);
  });

  it('requires hop limit 255 and code 0', () => {
    expect(parse(NS, (b) => (b[7] = 254)).status).toBe(WireStatus.BadHopLimit);
    expect(parse(NS, (b) => (b[41] = 1)).status).toBe(WireStatus.BadCode);
  });

  it('rejects short messages and foreign types', () => {
    const b = hex(NS);
    const ip = new Ipv6Header();
    parseIpv6(b, 0, b.length, ip);
    for (let len = 0; len < 24; len++) expect(parseNdp(b, 40, len, ip, new NdpMessage()), `len ${len}`).toBe(WireStatus.Truncated);
    expect(parse(NS, (b) => (b[40] = Icmpv6Type.EchoRequest)).status).toBe(WireStatus.UnsupportedType);
  });

  it('rejects a multicast target', () => {
    expect(parse(NA, (b) => (b[48] = 0xff)).status).toBe(WireStatus.BadTarget);
  });

  it('rejects the whole message for a zero-length, overrunning or wrongly sized option', () => {
    expect(parse(NS, (b) => (b[65] = 0)).status).toBe(WireStatus.BadOption);
    expect(parse(NS, (b) => (b[65] = 2)).status).toBe(WireStatus.BadOption);
    expect(parse(RA, (b) => (b[65] = 0)).status).toBe(WireStatus.BadOption); // MTU option of length 0
    expect(parse(RA, (b) => (b[65] = 2)).status).toBe(WireStatus.BadOption); // MTU option of 16 bytes
    expect(parse(RA, (b) => (b[73] = 3)).status).toBe(WireStatus.BadOption); // prefix option of 24 bytes
    expect(parse(RA, (b) => (b[74] = 129)).status).toBe(WireStatus.BadOption); // prefix length 129
    expect(parse(RA, (b) => (b[106] = 128)).status).toBe(WireStatus.Ok); // prefix length 128
  });

  it('ignores unknown options, even one of odd size', () => {
    expect(parse(NS, (b) => (b[64] = 200)).status).toBe(WireStatus.Ok);
    // The MTU option turned into an unknown option of 40 bytes, spanning the first prefix.
    expect(parse(RA, (b) => b.set([200, 5], 64)).status).toBe(WireStatus.Ok);
  });

  it('enforces the address rules of RFC 4861 §6.1.2 and §7.1', () => {
    // RA from a global address.
    expect(parse(RA, (b) => b.set(hex(GLOBAL), 8)).status).toBe(WireStatus.BadAddress);
    // DAD probe (unspecified source) must not carry a source link-layer address...
    expect(parse(NS, (b) => b.fill(0, 8, 24)).status).toBe(WireStatus.BadOption);
    // ...and must go to a solicited-node group.
    const dadToUnicast = `6000000000183aff ${'00'.repeat(16)} ${GLOBAL} 8700 0000 00000000 ${GLOBAL}`;
    expect(parse(dadToUnicast).status).toBe(WireStatus.BadAddress);
    const dad = `6000000000183aff ${'00'.repeat(16)} ${SOLICITED} 8700 0000 00000000 ${GLOBAL}`;
    expect(parse(dad).status).toBe(WireStatus.Ok);
    // A solicited advertisement cannot go to a multicast group.
    expect(parse(NA, (b) => b.set(hex(ALL_NODES), 24)).status).toBe(WireStatus.BadFlags);
  });
});

describe('NDP writers', () => {
  function frame(src: string, dst: string, build: (b: Uint8Array) => number): Uint8Array {
    const b = new Uint8Array(200);
    const length = build(b);
    const h = new Ipv6Header();
    h.payloadLength = length;
    h.nextHeader = 58;
    h.hopLimit = 255;
    writeIpv6Header(b, 0, h, hex(src), 0, hex(dst), 0);
    fillIcmpv6Checksum(b, 40, length, 8, 24);
    return b.subarray(0, 40 + length);
  }

  it('rebuild the reference NS and NA', () => {
    const target = hex(GLOBAL);
    const ns = frame(LL2, SOLICITED, (b) => {
      const n = writeNeighborSolicitation(b, 40, target, 0);
      return n + writeLinkLayerOption(b, 40 + n, NdpOption.SourceLinkLayerAddress, MAC2);
    });
    expect(ns).toEqual(hex(NS));
    const na = frame(GLOBAL, LL2, (b) => {
      const n = writeNeighborAdvertisement(b, 40, NA_FLAG_SOLICITED | NA_FLAG_OVERRIDE, target, 0);
      return n + writeLinkLayerOption(b, 40 + n, NdpOption.TargetLinkLayerAddress, MAC1);
    });
    expect(na).toEqual(hex(NA));
  });

  it('rebuild the reference RA with MTU and prefix options', () => {
    const ra = frame(LL1, ALL_NODES, (b) => {
      let n = writeRouterAdvertisement(b, 40, 64, 0x48, 1800, 30000, 1000);
      n += writeLinkLayerOption(b, 40 + n, NdpOption.SourceLinkLayerAddress, MAC1);
      n += writeMtuOption(b, 40 + n, 1480);
      n += writePrefixOption(b, 40 + n, hex(P1), 0, 64, PREFIX_FLAG_ON_LINK | PREFIX_FLAG_AUTONOMOUS, 86400, 14400);
      n += writePrefixOption(b, 40 + n, hex(P2), 0, 48, PREFIX_FLAG_ON_LINK, 600, 300);
      return n;
    });
    expect(ra).toEqual(hex(RA));
  });

  it('write nothing without room', () => {
    const target = hex(GLOBAL);
    expect(writeNeighborSolicitation(new Uint8Array(23), 0, target, 0)).toBe(0);
    expect(writeNeighborAdvertisement(new Uint8Array(23), 0, 0, target, 0)).toBe(0);
    expect(writeRouterAdvertisement(new Uint8Array(15), 0, 64, 0, 0, 0, 0)).toBe(0);
    expect(writeLinkLayerOption(new Uint8Array(7), 0, 1, MAC1)).toBe(0);
    expect(writeMtuOption(new Uint8Array(7), 0, 1280)).toBe(0);
    expect(writePrefixOption(new Uint8Array(31), 0, hex(P1), 0, 64, 0, 0, 0)).toBe(0);
  });
});
