/**
 * The transparent protector in memory (RFC 4891 §5.1, RFC 3884): two appliances built from the
 * lab fixtures protect router A's own 6in4 packets to router B with ESP transport mode, keeping
 * the routers' addresses and MACs, and answer an oversized DF packet with Fragmentation Needed.
 */
import { describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { loadConfigFile } from '../../src/config/load-config.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { dataplaneSettings } from '../../src/daemon/appliance.js';
import { DropCounters } from '../../src/dataplane/drop-reason.js';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { Pipeline, Port } from '../../src/dataplane/pipeline.js';
import { SecurityAssociationDatabase } from '../../src/ipsec/sad.js';
import { IcmpErrorSender } from '../../src/link/icmp-errors.js';
import { compileTransparentIcmpSettings } from '../../src/link/link-config.js';
import { LinkTransmitQueue } from '../../src/link/transmit-queue.js';
import { packageRoot } from '../../src/platform/package-root.js';
import { readU16, readU32 } from '../../src/wire/bytes.js';
import { NO_VLAN, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { Ipv4Header, parseIpv4, writeIpv4Header } from '../../src/wire/ipv4.js';
import { WireStatus } from '../../src/wire/status.js';
import { Ipv6Header, writeIpv6Header } from '../../src/wire/ipv6.js';
import { ipv6Bytes } from '../link/link-fixture.js';
import { ADDR, frameOf, loadSlot } from './gateway-fixture.js';
import { blackFramesOut, evenCuts, fillIpv4HeaderChecksum, fragmentIpv4Frame } from './fragment-fixture.js';

const ROUTER_A = 0xc0000201;
const ROUTER_B = 0xc0000202;
const MAC_ROUTER_A = 0x02000000a001;
const MAC_ROUTER_B = 0x02000000b001;

/** A protector from a lab fixture, on links of `mtu.black` and `mtu.red` bytes (default 1500 each). */
function protector(file: string, mtu: { black?: number; red?: number } = {}) {
  const { config } = loadConfigFile(join(packageRoot(), 'test', 'fixtures', 'lab', file));
  const backend = new NobleAeadBackend();
  const sad = new SecurityAssociationDatabase({ backend, warn: () => {} });
  for (const sa of config.manualSecurityAssociations()) sad.installManual(sa, 0);
  const transmit = new LinkTransmitQueue();
  const icmpErrors = new IcmpErrorSender(compileTransparentIcmpSettings('02:00:00:00:0a:01', '02:00:00:00:0a:02'), transmit);
  const drops = new DropCounters();
  const pipeline = new Pipeline({ settings: dataplaneSettings(config, mtu.black ?? 1500, mtu.red ?? 1500), spd: config.spd, sad, link: null, icmpErrors, transmit, drops, batchCapacity: 8 });
  return { pipeline, transmit };
}

/** Router A's own 6in4 packet to router B (a frame from A's MAC to B's), IPv6 payload of `payload` bytes; DF set unless `dontFragment` is false. */
function sixInFourFrame(payload: number, innerSource = ipv6Bytes('2001:db8:a::1'), dontFragment = true): Uint8Array {
  const ipv6Length = 40 + payload;
  const buf = new Uint8Array(14 + 20 + ipv6Length);
  writeEthernetHeader(buf, 0, MAC_ROUTER_B, MAC_ROUTER_A, NO_VLAN, 0x0800);
  const outer = new Ipv4Header();
  outer.totalLength = 20 + ipv6Length;
  outer.dontFragment = dontFragment;
  outer.ttl = 64;
  outer.protocol = 41;
  outer.src = ROUTER_A;
  outer.dst = ROUTER_B;
  writeIpv4Header(buf, 14, outer);
  const inner = new Ipv6Header();
  inner.payloadLength = payload;
  inner.nextHeader = 59;
  inner.hopLimit = 64;
  writeIpv6Header(buf, 34, inner, innerSource, 0, ADDR.hostB, 0);
  for (let k = 0; k < payload; k++) buf[74 + k] = k & 0xff;
  return buf;
}

/** `frame` (Ethernet + IPv4 without options) with `options` (a multiple of 4 bytes) added to its IPv4 header. */
function withOptions(frame: Uint8Array, options: number[]): Uint8Array {
  const out = new Uint8Array(frame.length + options.length);
  out.set(frame.subarray(0, 34), 0);
  out.set(options, 34);
  out.set(frame.subarray(34), 34 + options.length);
  out[14] = 0x40 | ((20 + options.length) / 4);
  const total = readU16(out, 16) + options.length;
  out[16] = total >>> 8;
  out[17] = total & 0xff;
  fillIpv4HeaderChecksum(out.subarray(14, 34 + options.length));
  return out;
}

/** A frame from router A to `dst` (router B) of IP `protocol`: 8 bytes that read as SPI `spi` and sequence 1 for ESP, then `body` counting bytes. */
function routerAToB(protocol: number, spi: number, body: number, dst = ROUTER_B): Uint8Array {
  const frame = new Uint8Array(14 + 20 + 8 + body);
  writeEthernetHeader(frame, 0, MAC_ROUTER_B, MAC_ROUTER_A, NO_VLAN, 0x0800);
  const outer = new Ipv4Header();
  outer.totalLength = frame.length - 14;
  outer.ttl = 64;
  outer.protocol = protocol;
  outer.src = ROUTER_A;
  outer.dst = dst;
  writeIpv4Header(frame, 14, outer);
  frame.set([0, 0, spi >>> 8, spi & 0xff, 0, 0, 0, 1], 34);
  for (let k = 42; k < frame.length; k++) frame[k] = k;
  return frame;
}

describe('transparent protector pipeline (RFC 3884 IIPtran)', () => {
  it('seals router A 6in4 in place (addresses and MACs kept) and router B side restores it byte for byte', () => {
    const a = protector('transparent-6in4-a.yaml');
    const b = protector('transparent-6in4-b.yaml');
    const original = sixInFourFrame(200);
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, original);
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    const wire = frameOf(red, a.pipeline.txBlack.slots[0]);
    expect(wire.subarray(0, 12)).toEqual(original.subarray(0, 12));
    expect(wire[14 + 9]).toBe(50);
    expect([readU32(wire, 26), readU32(wire, 30)]).toEqual([ROUTER_A, ROUTER_B]);

    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, wire);
    b.pipeline.processBatch(Port.Black, black, 1, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    const restored = frameOf(black, b.pipeline.txRed.slots[0]);
    // Transport mode leaves the router's own IPv4 header as it was: the frame comes out unchanged.
    expect(restored).toEqual(original);
  });

  it('bridges ESP of an SA it does not hold untouched, when the SPD bypasses it (the routers\' own IPsec)', () => {
    const b = protector('transparent-6in4-b.yaml');
    const frame = routerAToB(50, 0x9999, 40);
    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, frame);
    b.pipeline.processBatch(Port.Black, black, 1, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.txRed.count).toBe(1);
    expect(frameOf(black, b.pipeline.txRed.slots[0])).toEqual(frame);
  });

  it('reassembles ESP between its SA\'s endpoints that a router on the path fragmented, then restores the router\'s packet', () => {
    const a = protector('transparent-6in4-a.yaml');
    const b = protector('transparent-6in4-b.yaml');
    const original = sixInFourFrame(1200);
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, original);
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    const wire = frameOf(red, a.pipeline.txBlack.slots[0]);
    const fragments = fragmentIpv4Frame(wire, evenCuts(wire.length - 34, 640));
    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, fragments[1]);
    loadSlot(black, 1, fragments[0]);
    b.pipeline.processBatch(Port.Black, black, 2, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.txRed.count).toBe(1);
    expect(frameOf(black, b.pipeline.txRed.slots[0])).toEqual(original);
    expect(b.pipeline.reassembly.reassembled).toBe(1);
  });

  it('passes other fragments between the routers on untouched, and drops a datagram reassembled between its SA\'s endpoints that is not ESP it holds', () => {
    const b = protector('transparent-6in4-b.yaml');
    const fragmented = (protocol: number, spi: number, dst = ROUTER_B) => fragmentIpv4Frame(routerAToB(protocol, spi, 400, dst), evenCuts(408, 208));
    const black = new FrameSlots({ count: 8 });
    // ICMP, and UDP (its SAs are not UDP-encapsulated), between the routers, which the SPD
    // bypasses: the fragments cross as they are.
    for (const protocol of [1, 17]) {
      const other = fragmented(protocol, 0);
      other.forEach((f, k) => loadSlot(black, k, f));
      b.pipeline.processBatch(Port.Black, black, other.length, 0);
      expect(b.pipeline.txRed.count).toBe(2);
      other.forEach((f, k) => expect(frameOf(black, b.pipeline.txRed.slots[k])).toEqual(f));
    }
    // ESP from router A to another address is no SA's either: not reassembled (and no policy lets it through).
    const elsewhere = fragmented(50, 0x4001, 0xc0000209);
    elsewhere.forEach((f, k) => loadSlot(black, k, f));
    b.pipeline.processBatch(Port.Black, black, elsewhere.length, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'no-policy': 2 });
    expect(b.pipeline.reassembly.fragments).toBe(0);
    b.pipeline.drops.counts.fill(0);
    // Router A -> router B with an SPI it does not hold: reassembled, then dropped as a fragment.
    const foreign = fragmented(50, 0x9999);
    foreign.forEach((f, k) => loadSlot(black, k, f));
    b.pipeline.processBatch(Port.Black, black, foreign.length, 0);
    expect(b.pipeline.txRed.count).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({ fragment: 1 });
    expect(b.pipeline.reassembly.fragmentsReassembled).toBe(2);
  });

  it('drops an inner source outside the peer prefixes after decryption (ingress filter)', () => {
    const a = protector('transparent-6in4-a.yaml');
    const b = protector('transparent-6in4-b.yaml');
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, sixInFourFrame(40, ipv6Bytes('2001:db8:c::1')));
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, frameOf(red, a.pipeline.txBlack.slots[0]));
    b.pipeline.processBatch(Port.Black, black, 1, 0);
    expect(b.pipeline.txRed.count).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'ingress-filter': 1 });
  });

  it('answers an oversized DF packet with Fragmentation Needed from the invoking destination, never clearing DF', () => {
    const a = protector('transparent-6in4-a.yaml');
    const red = new FrameSlots({ count: 8 });
    // 1500-byte IPv4 packet: with ESP (16 + 2 + pad + 16) it no longer fits 1500.
    loadSlot(red, 0, sixInFourFrame(1500 - 20 - 40));
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.txBlack.count).toBe(0);
    expect(a.pipeline.drops.snapshot()).toEqual({ 'dont-fragment': 1 });
    const t = a.transmit;
    expect(t.redCount).toBe(1);
    const slot = t.red[0];
    const icmp = t.slots.bytes.subarray(t.slots.start[slot], t.slots.start[slot] + t.slots.length[slot]);
    expect(icmp[14 + 9]).toBe(1); // ICMPv4
    expect(readU32(icmp, 26)).toBe(ROUTER_B); // from the invoking destination: the appliance has no address
    expect(readU32(icmp, 30)).toBe(ROUTER_A);
    expect([icmp[34], icmp[35]]).toEqual([3, 4]);
    // 20 (IPv4) + 16 (ESP header, IV) + payload + pad + 2 + 16 (ICV) <= 1500 -> 1466.
    expect(readU16(icmp, 34 + 6)).toBe(1466);
  });
});

describe('packets too big once sealed, DF clear (RFC 4303 §3.3.4: fragmentation after ESP)', () => {
  it('sends the sealed packet as IPv4 fragments within the black MTU, which the far side reassembles into the router\'s packet', () => {
    const a = protector('transparent-6in4-a.yaml');
    const b = protector('transparent-6in4-b.yaml');
    const original = sixInFourFrame(1500 - 20 - 40, ipv6Bytes('2001:db8:a::1'), false);
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, original);
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    expect(a.pipeline.counters).toMatchObject({ sealed: 1, fragmented: 1, toBlack: 2 });
    const frames = blackFramesOut(a.pipeline, red, a.transmit);
    expect(frames).toHaveLength(2);
    const header = new Ipv4Header();
    let payload = 0;
    for (const [k, f] of frames.entries()) {
      expect(f.subarray(0, 12)).toEqual(original.subarray(0, 12));
      expect(parseIpv4(f, 14, f.length - 14, header)).toBe(WireStatus.Ok);
      expect(header.totalLength).toBeLessThanOrEqual(1500);
      expect([header.protocol, header.src, header.dst, header.id, header.dontFragment]).toEqual([50, ROUTER_A, ROUTER_B, 0, false]);
      expect([header.fragmentOffset, header.moreFragments]).toEqual([payload, k === 0]);
      payload += header.payloadLength;
    }
    expect(frames[0].length).toBe(14 + 1500 - ((1500 - 20) % 8));

    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, frames[1]);
    loadSlot(black, 1, frames[0]);
    b.pipeline.processBatch(Port.Black, black, 2, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.reassembly.reassembled).toBe(1);
    expect(frameOf(black, b.pipeline.txRed.slots[0])).toEqual(original);
  });

  it('cuts at 8-byte boundaries under any MTU, and gives later fragments only the copied options (RFC 791 §3.1, §3.2)', () => {
    const a = protector('transparent-6in4-a.yaml', { black: 1497 });
    const b = protector('transparent-6in4-b.yaml');
    // Record Route (type 7, not copied), No Operation, Stream ID (type 0x88, copied): 12 bytes.
    const original = withOptions(sixInFourFrame(1500 - 32 - 40, ipv6Bytes('2001:db8:a::1'), false), [7, 7, 4, 0, 0, 0, 0, 1, 0x88, 4, 0x12, 0x34]);
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, original);
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    const frames = blackFramesOut(a.pipeline, red, a.transmit);
    expect(frames).toHaveLength(2);
    const header = new Ipv4Header();
    let payload = 0;
    for (const [k, f] of frames.entries()) {
      expect(parseIpv4(f, 14, f.length - 14, header)).toBe(WireStatus.Ok);
      expect(header.totalLength).toBeLessThanOrEqual(1497);
      expect(header.fragmentOffset).toBe(payload);
      if (header.moreFragments) expect(header.payloadLength % 8).toBe(0);
      // The first keeps all options; the later one only Stream ID, padded to 32 bits.
      expect(header.headerLength).toBe(k === 0 ? 32 : 24);
      if (k > 0) expect([...f.subarray(34, 38)]).toEqual([0x88, 4, 0x12, 0x34]);
      payload += header.payloadLength;
    }
    expect(frames[0].length - 14).toBe(32 + ((1497 - 32) & ~7));
    const black = new FrameSlots({ count: 8 });
    frames.forEach((f, k) => loadSlot(black, k, f));
    b.pipeline.processBatch(Port.Black, black, 2, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(frameOf(black, b.pipeline.txRed.slots[0])).toEqual(original);
  });

  it('drops what it opens but red\'s MTU cannot take under mtu (a reassembled datagram may be larger than any frame)', () => {
    const a = protector('transparent-6in4-a.yaml');
    const b = protector('transparent-6in4-b.yaml', { red: 1280 });
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, sixInFourFrame(1280 - 20 - 40));
    loadSlot(red, 1, sixInFourFrame(1281 - 20 - 40));
    a.pipeline.processBatch(Port.Red, red, 2, 0);
    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, frameOf(red, a.pipeline.txBlack.slots[0]));
    loadSlot(black, 1, frameOf(red, a.pipeline.txBlack.slots[1]));
    b.pipeline.processBatch(Port.Black, black, 2, 0);
    expect(b.pipeline.txRed.count).toBe(1);
    expect(b.pipeline.drops.snapshot()).toEqual({ mtu: 1 });
  });

  it('drops it under tx-error when the link queue has no room for the later fragments', () => {
    const a = protector('transparent-6in4-a.yaml');
    while (a.transmit.free > 0) {
      a.transmit.claim();
      a.transmit.commit(0, 60);
    }
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, sixInFourFrame(1500 - 20 - 40, ipv6Bytes('2001:db8:a::1'), false));
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.txBlack.count).toBe(0);
    expect(a.pipeline.drops.snapshot()).toEqual({ 'tx-error': 1 });
    expect(a.transmit.overflows).toBe(1);
  });
});

describe('QinQ frames in the transparent role', () => {
  it('are not sealed: the L2 rewrite keeps at most one tag, so they drop as unsupported', () => {
    const a = protector('transparent-6in4-a.yaml');
    const plain = sixInFourFrame(40);
    const tagged = new Uint8Array(plain.length + 8);
    tagged.set(plain.subarray(0, 12), 0);
    tagged.set([0x88, 0xa8, 0x00, 0x0a, 0x81, 0x00, 0x00, 0x14], 12); // S-tag 10, C-tag 20
    tagged.set(plain.subarray(12), 20);
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, tagged);
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.txBlack.count).toBe(0);
    expect(a.pipeline.drops.snapshot()).toEqual({ unsupported: 1 });
  });
});
