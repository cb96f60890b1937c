import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { AeadBackend } from '../../src/crypto/aead.js';
import { NativeAeadBackend } from '../../src/crypto/native-backend.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { PATH_MTU_AGE_MS } from '../../src/dataplane/peer-path-mtu.js';
import { Port } from '../../src/dataplane/pipeline.js';
import { MIN_TUNNEL_PATH_MTU } from '../../src/tunnel/tunnel-mtu.js';
import { NO_VLAN, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { fillIcmpv6Checksum } from '../../src/wire/icmpv6.js';
import { writeIcmpv4FragmentationNeeded } from '../../src/wire/icmpv4.js';
import { Ipv4Header, writeIpv4Header } from '../../src/wire/ipv4.js';
import type { LinkTransmitQueue } from '../../src/link/transmit-queue.js';
import { linkLocalFromMac } from '../../src/link/link-addresses.js';
import { readU16, readU32, writeU16, writeU32 } from '../../src/wire/bytes.js';
import type { SpdEntryConfig } from '../../src/policy/spd.js';
import { ipv6Bytes } from '../link/link-fixture.js';
import { ADDR, MAC, TEP_A, TEP_B, frameOf, gatewayPair, loadSlot, writePing6, type Gateway } from './gateway-fixture.js';
import { blackFramesOut, evenCuts, fragmentIpv4Frame } from './fragment-fixture.js';

/** Frame k the link layer queued for red. */
function redFrame(t: LinkTransmitQueue, k: number): Uint8Array {
  const slot = t.red[k];
  return t.slots.bytes.subarray(t.slots.start[slot], t.slots.start[slot] + t.slots.length[slot]);
}

function ping6Frame(payload: number, hopLimit = 64): Uint8Array {
  const buf = new Uint8Array(2048);
  const n = writePing6(buf, 0, ADDR.hostA, ADDR.hostB, MAC.redA, MAC.hostA, payload, hopLimit);
  return buf.slice(0, n);
}

describe('gateway pipeline (RFC 4891 §5.1: 6in4 under ESP transport)', () => {
  it('red A -> black (ESP only) -> red B restores the IPv6 packet, each gateway a router hop', () => {
    const { a, b } = gatewayPair();
    const slotsA = new FrameSlots({ count: 64 });
    const original = ping6Frame(100);
    loadSlot(slotsA, 0, original);
    a.pipeline.processBatch(Port.Red, slotsA, 1, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    expect(a.pipeline.txBlack.count).toBe(1);
    const wire = frameOf(slotsA, a.pipeline.txBlack.slots[0]);
    // Ethernet to B's black MAC, IPv4 TEP A -> TEP B, protocol 50: no clear protocol 41 or IPv6.
    expect(readU16(wire, 12)).toBe(0x0800);
    expect(wire[14 + 9]).toBe(50);
    expect(readU32(wire, 14 + 12)).toBe(TEP_A);
    expect(readU32(wire, 14 + 16)).toBe(TEP_B);
    expect(readU32(wire, 14 + 20)).toBe(0x1001);
    // 14 + 20 + ESP(16) + inner IPv6 148 + pad + 2 + ICV 16
    expect(wire.length).toBe(14 + 20 + 16 + 148 + 2 + 2 + 16);

    const slotsB = new FrameSlots({ count: 64 });
    loadSlot(slotsB, 0, wire);
    b.pipeline.processBatch(Port.Black, slotsB, 1, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.txRed.count).toBe(1);
    const out = frameOf(slotsB, b.pipeline.txRed.slots[0]);
    expect(readU16(out, 12)).toBe(0x86dd);
    // IPv6 packet identical but for the hop limit, decremented by both routers.
    expect(out[14 + 7]).toBe(62);
    const expected = original.slice(14);
    expected[7] = 62;
    expect(out.slice(14)).toEqual(expected);
  });

  it('drops replays, tampering and clear 6in4 where policy requires ESP, each under its reason', () => {
    const { a, b } = gatewayPair();
    const slotsA = new FrameSlots({ count: 8 });
    loadSlot(slotsA, 0, ping6Frame(40));
    a.pipeline.processBatch(Port.Red, slotsA, 1, 0);
    const wire = frameOf(slotsA, a.pipeline.txBlack.slots[0]);

    const slotsB = new FrameSlots({ count: 8 });
    const tampered = wire.slice();
    tampered[tampered.length - 20] ^= 1;
    loadSlot(slotsB, 0, wire);
    loadSlot(slotsB, 1, wire);
    loadSlot(slotsB, 2, tampered);
    b.pipeline.processBatch(Port.Black, slotsB, 3, 0);
    expect(b.pipeline.txRed.count).toBe(1);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'icv-failure': 1, replay: 1 });
  });

  it('an inner source outside the peer prefixes is dropped after decryption (ingress filter)', () => {
    const { a, b } = gatewayPair();
    const slotsA = new FrameSlots({ count: 8 });
    const buf = new Uint8Array(2048);
    const spoofed = buf.slice(0, writePing6(buf, 0, ADDR.routerB, ADDR.hostB, MAC.redA, MAC.hostA, 10));
    loadSlot(slotsA, 0, spoofed);
    a.pipeline.processBatch(Port.Red, slotsA, 1, 0);
    expect(a.pipeline.txBlack.count).toBe(1);
    const slotsB = new FrameSlots({ count: 8 });
    loadSlot(slotsB, 0, frameOf(slotsA, a.pipeline.txBlack.slots[0]));
    b.pipeline.processBatch(Port.Black, slotsB, 1, 0);
    expect(b.pipeline.txRed.count).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'ingress-filter': 1 });
  });

  it('IPv6 with no route gets Destination Unreachable, hop limit 1 gets Time Exceeded; both are dropped and counted', () => {
    const { a } = gatewayPair();
    const slots = new FrameSlots({ count: 8 });
    const buf = new Uint8Array(2048);
    loadSlot(slots, 0, buf.slice(0, writePing6(buf, 0, ADDR.hostA, ADDR.routerA.map((x, k) => (k === 5 ? 0xc : x)), MAC.redA, MAC.hostA, 10)));
    loadSlot(slots, 1, ping6Frame(10, 1));
    a.pipeline.processBatch(Port.Red, slots, 2, 0);
    expect(a.pipeline.txBlack.count).toBe(0);
    expect(a.pipeline.drops.snapshot()).toEqual({ 'no-route': 1, 'ttl-exceeded': 1 });
    // RFC 4443 §3.1: Destination Unreachable, no route (type 1, code 0), then Time Exceeded
    // (type 3), each back to the host on red, from the router, quoting the packet.
    const unreachable = redFrame(a.link.transmit, 0);
    expect([unreachable[14 + 40], unreachable[14 + 41]]).toEqual([1, 0]);
    expect(unreachable.subarray(14 + 24, 14 + 40)).toEqual(ADDR.hostA);
    expect(unreachable.subarray(14 + 8, 14 + 24)).toEqual(ADDR.routerA);
    expect(unreachable[14 + 48]).toBe(0x60);
    expect(redFrame(a.link.transmit, 1)[14 + 40]).toBe(3);
    expect(a.link.icmpErrors.counters).toMatchObject({ destinationUnreachableSent: 1, timeExceededSent: 1 });
  });

  describe('the far gateway through the tunnel (its router address, its hop)', () => {
    /** Seals a red frame at B and opens it at A; returns A's slots after the black batch. */
    function throughTunnelToA(g: ReturnType<typeof gatewayPair>, frame: Uint8Array): void {
      const slotsB = new FrameSlots({ count: 8 });
      loadSlot(slotsB, 0, frame);
      g.b.pipeline.processBatch(Port.Red, slotsB, 1, 0);
      expect(g.b.pipeline.txBlack.count).toBe(1);
      const slotsA = new FrameSlots({ count: 8 });
      loadSlot(slotsA, 0, frameOf(slotsB, g.b.pipeline.txBlack.slots[0]));
      g.a.pipeline.processBatch(Port.Black, slotsA, 1, 0);
      expect(g.a.pipeline.txRed.count).toBe(0);
    }

    /** What A queued for routing goes through A's data plane (Port.Local), then B's: the frame host B gets. */
    function routedBackToB(g: ReturnType<typeof gatewayPair>): Uint8Array {
      const local = new FrameSlots({ count: 8 });
      expect(g.a.link.transmit.redCount).toBe(0);
      expect(g.a.link.transmit.takeLocal(local)).toBe(1);
      // Addressed to A's own red MAC, so A's data plane takes it as its own.
      expect(local.bytes.subarray(local.start[0], local.start[0] + 6)).toEqual(Uint8Array.of(2, 0, 0, 0, 0, 0xa));
      g.a.pipeline.processBatch(Port.Local, local, 1, 0);
      expect(g.a.pipeline.counters.originated).toBe(1);
      expect(g.a.pipeline.txBlack.count).toBe(1);
      const esp = frameOf(local, g.a.pipeline.txBlack.slots[0]);
      expect(esp[14 + 9]).toBe(50);
      const slotsB = new FrameSlots({ count: 8 });
      loadSlot(slotsB, 0, esp);
      g.b.pipeline.processBatch(Port.Black, slotsB, 1, 0);
      expect(g.b.pipeline.drops.snapshot()).toEqual({});
      expect(g.b.pipeline.txRed.count).toBe(1);
      return frameOf(slotsB, g.b.pipeline.txRed.slots[0]);
    }

    it('answers a ping to its router address from beyond the tunnel, routing the reply back into it (RFC 4443 §4.2)', () => {
      const g = gatewayPair();
      const buf = new Uint8Array(2048);
      throughTunnelToA(g, buf.slice(0, writePing6(buf, 0, ADDR.hostB, ADDR.routerA, MAC.redB, MAC.hostB, 32)));
      expect(g.a.link.echo.counters.repliesSent).toBe(1);
      const reply = routedBackToB(g);
      expect(reply.subarray(0, 6)).toEqual(Uint8Array.of(2, 0, 0, 0, 0xb, 0x10));
      expect(reply.subarray(14 + 8, 14 + 24)).toEqual(ADDR.routerA);
      expect(reply.subarray(14 + 24, 14 + 40)).toEqual(ADDR.hostB);
      expect(reply[14 + 40]).toBe(129); // Echo Reply
      // Sent with 64 by A (its own packet is not a hop), less B's hop.
      expect(reply[14 + 7]).toBe(63);
      expect(g.a.pipeline.drops.snapshot()).toEqual({});
    });

    it('answers hop limit exhaustion with Time Exceeded back through the tunnel (RFC 4443 §3.3), from its router address', () => {
      const g = gatewayPair();
      const buf = new Uint8Array(2048);
      // Hop limit 2: B forwards it with 1, A cannot.
      throughTunnelToA(g, buf.slice(0, writePing6(buf, 0, ADDR.hostB, ADDR.hostA, MAC.redB, MAC.hostB, 16, 2)));
      expect(g.a.pipeline.drops.snapshot()).toEqual({ 'ttl-exceeded': 1 });
      const error = routedBackToB(g);
      expect(error[14 + 40]).toBe(3);
      expect(error.subarray(14 + 8, 14 + 24)).toEqual(ADDR.routerA);
      expect(error.subarray(14 + 24, 14 + 40)).toEqual(ADDR.hostB);
      expect(error.subarray(14 + 48 + 24, 14 + 48 + 40)).toEqual(ADDR.hostA);
    });

    it('drops a packet of its own with no route without an ICMP error to itself, and refuses a non-IPv6 frame of its own', () => {
      const g = gatewayPair();
      const local = new FrameSlots({ count: 8 });
      const buf = new Uint8Array(2048);
      const noRoute = ipv6Bytes('2001:db8:c::1');
      loadSlot(local, 0, buf.slice(0, writePing6(buf, 0, ADDR.routerA, noRoute, MAC.redA, MAC.redA, 16)));
      const arp = new Uint8Array(60);
      writeEthernetHeader(arp, 0, MAC.redA, MAC.redA, NO_VLAN, 0x0806);
      loadSlot(local, 1, arp);
      g.a.pipeline.processBatch(Port.Local, local, 2, 0);
      expect(g.a.pipeline.drops.snapshot()).toEqual({ 'no-route': 1, unsupported: 1 });
      expect([g.a.pipeline.txRed.count, g.a.pipeline.txBlack.count, g.a.link.transmit.redCount]).toEqual([0, 0, 0]);
      expect(g.a.link.icmpErrors.counters.destinationUnreachableSent).toBe(0);
    });

    it('does not answer a ping to its link-local address that a peer routed through the tunnel (RFC 4291 §2.5.6)', () => {
      const g = gatewayPair({ bRoutesToA: '::/0' });
      const buf = new Uint8Array(2048);
      throughTunnelToA(g, buf.slice(0, writePing6(buf, 0, ADDR.hostB, linkLocalFromMac(MAC.redA), MAC.redB, MAC.hostB, 16)));
      expect(g.a.pipeline.drops.snapshot()).toEqual({ unsupported: 1 });
      expect(g.a.link.echo.counters.repliesSent).toBe(0);
      expect(g.a.link.transmit.takeLocal(new FrameSlots({ count: 8 }))).toBe(0);
    });

    it('takes nothing but Echo Requests from the tunnel: Neighbor Discovery stays link-scope (RFC 4861 §7.1)', () => {
      const g = gatewayPair();
      const buf = new Uint8Array(2048);
      const n = writePing6(buf, 0, ADDR.hostB, ADDR.routerA, MAC.redB, MAC.hostB, 16);
      buf[14 + 40] = 135; // a Neighbor Solicitation to A's router address
      writeU16(buf, 14 + 42, 0);
      fillIcmpv6Checksum(buf, 14 + 40, n - 54, 14 + 8, 14 + 24);
      throughTunnelToA(g, buf.slice(0, n));
      expect(g.a.link.transmit.redCount).toBe(0);
      expect(g.a.link.counters.otherIcmpv6).toBe(1);
      expect(g.a.pipeline.drops.snapshot()).toEqual({ unsupported: 1 });
    });
  });

  it('drops frames that come in with the gateway\'s own MAC as their source, on either NIC, under own-source-mac', () => {
    const { a } = gatewayPair();
    const slots = new FrameSlots({ count: 8 });
    const buf = new Uint8Array(2048);
    loadSlot(slots, 0, buf.slice(0, writePing6(buf, 0, ADDR.hostA, ADDR.hostB, MAC.redA, MAC.redA, 16)));
    a.pipeline.processBatch(Port.Red, slots, 1, 0);
    loadSlot(slots, 0, buf.slice(0, writePing6(buf, 0, ADDR.hostA, ADDR.hostB, MAC.blackA, MAC.blackA, 16)));
    a.pipeline.processBatch(Port.Black, slots, 1, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({ 'own-source-mac': 2 });
    expect([a.pipeline.txBlack.count, a.pipeline.txRed.count, a.link.transmit.redCount]).toEqual([0, 0, 0]);
  });

  it('an IPv6 packet too big for the tunnel gets Packet Too Big with the inner MTU 1446', () => {
    const { a } = gatewayPair();
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, ping6Frame(1446 - 48 + 1));
    loadSlot(slots, 1, ping6Frame(1446 - 48));
    a.pipeline.processBatch(Port.Red, slots, 2, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({ mtu: 1 });
    // ICMPv6 Packet Too Big (type 2) to the host, announcing 1446.
    expect(a.link.transmit.redCount).toBe(1);
    const err = redFrame(a.link.transmit, 0);
    expect(err[14 + 40]).toBe(2);
    expect(readU32(err, 14 + 44)).toBe(1446);
    expect(a.pipeline.txBlack.count).toBe(1);
    expect(slots.length[a.pipeline.txBlack.slots[0]]).toBe(14 + 1500);
  });

  it('where the SPD lets 6in4 go clear, the tunnel MTU is the path MTU less the 6in4 header: 1480', () => {
    const { a } = gatewayPair({ policy: [{ id: 9, name: 'sit-clear', local: '192.0.2.1/32', remote: '192.0.2.2/32', protocol: 41, action: 'bypass' }] });
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, ping6Frame(1480 - 48 + 1));
    loadSlot(slots, 1, ping6Frame(1480 - 48));
    a.pipeline.processBatch(Port.Red, slots, 2, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({ mtu: 1 });
    const err = redFrame(a.link.transmit, 0);
    expect(err[14 + 40]).toBe(2);
    expect(readU32(err, 14 + 44)).toBe(1480);
    // The quote is the host's IPv6 packet, not our 6in4 header.
    expect(err.subarray(14 + 48 + 8, 14 + 48 + 24)).toEqual(ADDR.hostA);
    expect(a.pipeline.txBlack.count).toBe(1);
    const sent = frameOf(slots, a.pipeline.txBlack.slots[0]);
    expect([sent.length, sent[14 + 9]]).toEqual([14 + 1500, 41]);
  });
});

describe('path MTU toward a peer (RFC 1191, RFC 4301 §8.2.1)', () => {
  /** An ICMPv4 Fragmentation Needed from a router on black to TEP A, quoting `invoking`. */
  function fragNeeded(invoking: Uint8Array, mtu: number): Uint8Array {
    const buf = new Uint8Array(256);
    const icmpLength = writeIcmpv4FragmentationNeeded(buf, 14 + 20, mtu, invoking, 14, invoking.length - 14);
    writeEthernetHeader(buf, 0, MAC.blackA, 0x02000000fe01, NO_VLAN, 0x0800);
    const h = new Ipv4Header();
    h.totalLength = 20 + icmpLength;
    h.ttl = 64;
    h.protocol = 1;
    h.src = 0xc00002fe; // 192.0.2.254, a router on the path
    h.dst = TEP_A;
    writeIpv4Header(buf, 14, h);
    return buf.slice(0, 14 + 20 + icmpLength);
  }

  function sealedFromA(a: ReturnType<typeof gatewayPair>['a']): Uint8Array {
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, ping6Frame(100));
    a.pipeline.processBatch(Port.Red, slots, 1, 0);
    return frameOf(slots, a.pipeline.txBlack.slots[0]);
  }

  it('lowers the path MTU only for reports that quote our own ESP, never below room for 1280-byte IPv6, and ages back', () => {
    const { a } = gatewayPair();
    const ours = sealedFromA(a);
    const forged = ours.slice();
    forged[14 + 20 + 3] ^= 0x55; // another SPI
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, fragNeeded(forged, 1400));
    a.pipeline.processBatch(Port.Black, slots, 1, 1000);
    expect(a.pipeline.pathMtu.mtu[0]).toBe(1500);

    loadSlot(slots, 0, fragNeeded(ours, 1400));
    a.pipeline.processBatch(Port.Black, slots, 1, 1000);
    expect(a.pipeline.pathMtu.mtu[0]).toBe(1400);
    expect(a.pipeline.pathMtu.updates).toBe(1);

    loadSlot(slots, 0, fragNeeded(ours, 576));
    a.pipeline.processBatch(Port.Black, slots, 1, 2000);
    expect(a.pipeline.pathMtu.mtu[0]).toBe(MIN_TUNNEL_PATH_MTU);

    a.pipeline.age(2000 + PATH_MTU_AGE_MS - 1);
    expect(a.pipeline.pathMtu.mtu[0]).toBe(MIN_TUNNEL_PATH_MTU);
    a.pipeline.age(2000 + PATH_MTU_AGE_MS);
    expect(a.pipeline.pathMtu.mtu[0]).toBe(1500);
  });

  it('drops a report whose ICMP checksum fails (RFC 792) without lowering the path MTU, and takes the same report intact', () => {
    const { a } = gatewayPair();
    const report = fragNeeded(sealedFromA(a), 1400);
    report[14 + 20 + 2] ^= 0x01; // the ICMP checksum
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, report);
    a.pipeline.processBatch(Port.Black, slots, 1, 1000);
    expect([a.pipeline.pathMtu.mtu[0], a.pipeline.pathMtu.updates, a.pipeline.drops.total()]).toEqual([1500, 0, 1]);

    report[14 + 20 + 2] ^= 0x01;
    loadSlot(slots, 0, report);
    a.pipeline.processBatch(Port.Black, slots, 1, 1000);
    expect([a.pipeline.pathMtu.mtu[0], a.pipeline.pathMtu.updates, a.pipeline.drops.total()]).toEqual([1400, 1, 1]);
  });
});

describe('bridging IPv4 the SPD bypasses (IEEE 802.1D learning)', () => {
  function ipv4Frame(srcMac: number, dstMac: number, src: number, dst: number): Uint8Array {
    const buf = new Uint8Array(14 + 28);
    writeEthernetHeader(buf, 0, dstMac, srcMac, NO_VLAN, 0x0800);
    const h = new Ipv4Header();
    h.totalLength = 28;
    h.ttl = 64;
    h.protocol = 1;
    h.src = src;
    h.dst = dst;
    writeIpv4Header(buf, 14, h);
    buf[34] = 8; // ICMP echo request (checksum irrelevant to the bridge)
    return buf;
  }
  const HOST1 = 0x020000000101;
  const HOST2 = 0x020000000102;
  const FAR = 0x020000000201;
  const ip = (last: number) => (198 << 24 | 51 << 16 | 100 << 8 | last) >>> 0;

  it('copies frames across untouched, but not between two stations on the same side', () => {
    const { a } = gatewayPair();
    const red = new FrameSlots({ count: 8 });
    const black = new FrameSlots({ count: 8 });
    // FAR is seen on black, HOST2 on red.
    loadSlot(black, 0, ipv4Frame(FAR, HOST1, ip(20), ip(10)));
    a.pipeline.processBatch(Port.Black, black, 1, 0);
    expect(a.pipeline.txRed.count).toBe(1);
    expect(frameOf(black, a.pipeline.txRed.slots[0])).toEqual(ipv4Frame(FAR, HOST1, ip(20), ip(10)));
    loadSlot(red, 0, ipv4Frame(HOST2, HOST1, ip(11), ip(10)));
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    // HOST1 -> FAR crosses; HOST1 -> HOST2 (both on red) stays on red.
    loadSlot(red, 0, ipv4Frame(HOST1, FAR, ip(10), ip(20)));
    loadSlot(red, 1, ipv4Frame(HOST1, HOST2, ip(10), ip(11)));
    a.pipeline.processBatch(Port.Red, red, 2, 0);
    expect(a.pipeline.txBlack.count).toBe(1);
    expect(frameOf(red, a.pipeline.txBlack.slots[0])).toEqual(ipv4Frame(HOST1, FAR, ip(10), ip(20)));
    expect(a.pipeline.counters.filtered).toBe(1);
    expect(a.pipeline.drops.snapshot()).toEqual({});
  });
});

describe('fragmented IPv4 from black (RFC 4303 §3.4.1: reassembly before ESP processing)', () => {
  /** A's ESP frame for a ping6 with `payload` bytes, and the IPv6 packet B must put out for it (both routers counted a hop). */
  function sealedPing(payload: number): { wire: Uint8Array; expected: Uint8Array; b: Gateway } {
    const { a, b } = gatewayPair();
    const slotsA = new FrameSlots({ count: 8 });
    const original = ping6Frame(payload);
    loadSlot(slotsA, 0, original);
    a.pipeline.processBatch(Port.Red, slotsA, 1, 0);
    expect(a.pipeline.txBlack.count).toBe(1);
    const wire = frameOf(slotsA, a.pipeline.txBlack.slots[0]);
    const expected = original.slice(14);
    expected[7] = 62;
    return { wire, expected, b };
  }

  it('opens ESP a router on the path cut into fragments, whatever their order and batches, and counts them', () => {
    const { wire, expected, b } = sealedPing(1300);
    const fragments = fragmentIpv4Frame(wire, evenCuts(wire.length - 34, 600));
    expect(fragments.length).toBe(3);
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, fragments[2]);
    loadSlot(slots, 1, fragments[1]);
    b.pipeline.processBatch(Port.Black, slots, 2, 0);
    expect(b.pipeline.txRed.count).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.reassembly.heldFragments).toBe(2);
    loadSlot(slots, 0, fragments[0]);
    b.pipeline.processBatch(Port.Black, slots, 1, 1);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.txRed.count).toBe(1);
    expect(frameOf(slots, b.pipeline.txRed.slots[0]).slice(14)).toEqual(expected);
    expect(b.pipeline.reassembly).toMatchObject({ fragments: 3, fragmentsReassembled: 3, reassembled: 1, heldFragments: 0 });
    expect(b.pipeline.counters.opened).toBe(1);
  });

  it('drops a duplicate fragment alone and explains every fragment; an unfinished datagram times out between batches', () => {
    const { wire, expected, b } = sealedPing(1300);
    const fragments = fragmentIpv4Frame(wire, evenCuts(wire.length - 34, 600));
    const slots = new FrameSlots({ count: 8 });
    loadSlot(slots, 0, fragments[1]);
    loadSlot(slots, 1, fragments[1]);
    loadSlot(slots, 2, fragments[0]);
    b.pipeline.processBatch(Port.Black, slots, 3, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'fragment-duplicate': 1 });
    const r = b.pipeline.reassembly;
    expect(r.fragments).toBe(r.fragmentsReassembled + r.heldFragments + b.pipeline.drops.total());
    loadSlot(slots, 0, fragments[2]);
    b.pipeline.processBatch(Port.Black, slots, 1, 10);
    expect(frameOf(slots, b.pipeline.txRed.slots[0]).slice(14)).toEqual(expected);
    // A datagram whose last fragment never comes is given up by age() after 30 s (RFC 791 §3.2).
    loadSlot(slots, 0, fragments[0]);
    b.pipeline.processBatch(Port.Black, slots, 1, 20);
    b.pipeline.age(20 + 29_999);
    expect(r.heldFragments).toBe(1);
    b.pipeline.age(20 + 30_000);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'fragment-duplicate': 1, 'fragment-timeout': 1 });
    expect(r.fragments).toBe(r.fragmentsReassembled + r.heldFragments + b.pipeline.drops.total());
  });

  it('does not give fragments for its TEP from a source that is no peer a place in the reassembly table', () => {
    const { wire, b } = sealedPing(1000);
    writeU32(wire, 14 + 12, 0xc000024d); // 192.0.2.77
    const fragments = fragmentIpv4Frame(wire, evenCuts(wire.length - 34, 512));
    const slots = new FrameSlots({ count: 8 });
    fragments.forEach((f, k) => loadSlot(slots, k, f));
    b.pipeline.processBatch(Port.Black, slots, fragments.length, 0);
    expect(b.pipeline.reassembly.fragments).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({ fragment: fragments.length });
  });

  it('checks the reassembled datagram like any other: a flipped bit in one fragment fails the ICV', () => {
    const { wire, b } = sealedPing(1000);
    const fragments = fragmentIpv4Frame(wire, evenCuts(wire.length - 34, 512));
    fragments[1][fragments[1].length - 1] ^= 0x10;
    const slots = new FrameSlots({ count: 8 });
    fragments.forEach((f, k) => loadSlot(slots, k, f));
    b.pipeline.processBatch(Port.Black, slots, fragments.length, 0);
    expect(b.pipeline.txRed.count).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({ 'icv-failure': 1 });
  });

  it('answers a packet out of the tunnel too big for red\'s MTU with Packet Too Big, routed back into the tunnel', () => {
    const { a, b } = gatewayPair({ redMtuB: 1280 });
    const slotsA = new FrameSlots({ count: 8 });
    // 1280 bytes of IPv6 fit red exactly; 1281 do not.
    loadSlot(slotsA, 0, ping6Frame(1280 - 48));
    loadSlot(slotsA, 1, ping6Frame(1281 - 48));
    a.pipeline.processBatch(Port.Red, slotsA, 2, 0);
    const slotsB = new FrameSlots({ count: 8 });
    loadSlot(slotsB, 0, frameOf(slotsA, a.pipeline.txBlack.slots[0]));
    b.pipeline.processBatch(Port.Black, slotsB, 1, 0);
    expect(b.pipeline.txRed.count).toBe(1);
    loadSlot(slotsB, 0, frameOf(slotsA, a.pipeline.txBlack.slots[1]));
    b.pipeline.processBatch(Port.Black, slotsB, 1, 0);
    expect(b.pipeline.txRed.count).toBe(0);
    expect(b.pipeline.drops.snapshot()).toEqual({ mtu: 1 });
    expect(b.link.icmpErrors.counters.packetTooBigSent).toBe(1);
    // The error goes to host A through the tunnel: B routes it as its own packet (Port.Local).
    const local = new FrameSlots({ count: 8 });
    expect(b.link.transmit.takeLocal(local)).toBe(1);
    b.pipeline.processBatch(Port.Local, local, 1, 0);
    expect(b.pipeline.txBlack.count).toBe(1);
    const slotsBack = new FrameSlots({ count: 8 });
    loadSlot(slotsBack, 0, frameOf(local, b.pipeline.txBlack.slots[0]));
    a.pipeline.processBatch(Port.Black, slotsBack, 1, 0);
    const error = frameOf(slotsBack, a.pipeline.txRed.slots[0]);
    // ICMPv6 Packet Too Big (type 2) with MTU 1280, to host A.
    expect([error[14 + 40], readU32(error, 14 + 44)]).toEqual([2, 1280]);
    expect(error.subarray(14 + 24, 14 + 40)).toEqual(ADDR.hostA);
  });

  it('bridges fragments that are not for its TEP untouched (IPv4 the SPD bypasses), without reassembling them', () => {
    const { a } = gatewayPair();
    const ip = new Uint8Array(20 + 1000);
    const h = new Ipv4Header();
    h.totalLength = ip.length;
    h.id = 77;
    h.ttl = 64;
    h.protocol = 17;
    h.src = 0xc6336414; // 198.51.100.20
    h.dst = 0xc633640a; // 198.51.100.10
    writeIpv4Header(ip, 0, h);
    const frame = new Uint8Array(14 + ip.length);
    writeEthernetHeader(frame, 0, 0x020000000101, 0x020000000201, NO_VLAN, 0x0800);
    frame.set(ip, 14);
    const fragments = fragmentIpv4Frame(frame, evenCuts(1000, 400));
    const slots = new FrameSlots({ count: 8 });
    fragments.forEach((f, k) => loadSlot(slots, k, f));
    a.pipeline.processBatch(Port.Black, slots, fragments.length, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    expect(a.pipeline.txRed.count).toBe(3);
    fragments.forEach((f, k) => expect(frameOf(slots, a.pipeline.txRed.slots[k])).toEqual(f));
    expect(a.pipeline.reassembly.fragments).toBe(0);
  });
});

describe('IPv4 the gateway bridges under transport-mode PROTECT (RFC 4303 §3.3.4: fragmentation after ESP)', () => {
  it('sends a DF-clear packet too big once sealed as fragments, which the far gateway reassembles and opens into the same frame', () => {
    // One entry for both gateways: both hosts lie in both ranges, so it holds either way.
    const hosts = { local: '198.51.100.0/27', remote: '198.51.100.0/27' };
    const { a, b } = gatewayPair({
      policy: [{ id: 3, name: 'hosts', ...hosts, action: 'protect', protect: { mode: 'transport', algorithms: ['aes-gcm-16-128'] } }],
    });
    const key = Uint8Array.from({ length: 20 }, (_, k) => 0x40 + k);
    const [h10, h20] = [Uint8Array.of(198, 51, 100, 10), Uint8Array.of(198, 51, 100, 20)];
    a.sad.installManual({ spi: 0x3001, direction: 'outbound', mode: 'transport', source: h10, destination: h20, algorithm: 'aes-gcm-16-128', keyAndSalt: key.slice(), policyId: 3 }, 0);
    b.sad.installManual({ spi: 0x3001, direction: 'inbound', mode: 'transport', source: h10, destination: h20, algorithm: 'aes-gcm-16-128', keyAndSalt: key.slice(), policyId: 3 }, 0);
    // A 1500-byte UDP datagram from host .10 on A's red side to .20, DF clear.
    const original = new Uint8Array(14 + 1500);
    writeEthernetHeader(original, 0, 0x020000000201, 0x020000000101, NO_VLAN, 0x0800);
    const h = new Ipv4Header();
    h.totalLength = 1500;
    h.id = 0x5151;
    h.ttl = 64;
    h.protocol = 17;
    h.src = 0xc633640a;
    h.dst = 0xc6336414;
    writeIpv4Header(original, 14, h);
    for (let k = 34; k < original.length; k++) original[k] = k & 0xff;
    const red = new FrameSlots({ count: 8 });
    loadSlot(red, 0, original);
    a.pipeline.processBatch(Port.Red, red, 1, 0);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    expect(a.pipeline.counters.fragmented).toBe(1);
    const frames = blackFramesOut(a.pipeline, red, a.link.transmit);
    expect(frames.map((f) => f.length - 14 <= 1500 && f[14 + 9] === 50)).toEqual([true, true]);
    const black = new FrameSlots({ count: 8 });
    loadSlot(black, 0, frames[1]);
    loadSlot(black, 1, frames[0]);
    b.pipeline.processBatch(Port.Black, black, 2, 0);
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(frameOf(black, b.pipeline.txRed.slots[0])).toEqual(original);
  });
});

describe('flow cache (RFC 4301 §4.4.1: a cache gives the ordered SPD\'s answer)', () => {
  // Overlapping and shadowed entries ahead of the fixture's sit PROTECT entry.
  const policy: SpdEntryConfig[] = [
    { id: 10, name: 'no-dns', local: '::/0', remote: '2001:db8:b::/64', protocol: 'udp', remotePort: 53, action: 'discard' },
    { id: 11, name: 'dns-shadowed', local: '2001:db8:a::/64', remote: '2001:db8:b::/64', protocol: 'udp', remotePort: 53, action: 'bypass' },
    { id: 12, name: 'no-ssh-from-20', local: '2001:db8:a::20/128', remote: '::/0', protocol: 'tcp', remotePort: '22', action: 'discard' },
    { id: 13, name: 'no-echo-reply', local: '::/0', remote: '::/0', protocol: 'icmpv6', icmp: { type: 129 }, action: 'discard' },
  ];
  const hostLow = fc.constantFrom(0x10, 0x20, 0x30);
  const flow = fc.record({
    src: fc.constantFrom('2001:db8:a::', '2001:db8:c::'),
    srcLow: hostLow,
    dst: fc.constantFrom('2001:db8:b::', '2001:db8:d::'),
    dstLow: hostLow,
    protocol: fc.constantFrom(6, 17, 58),
    port: fc.constantFrom(22, 53, 80, 128, 129),
  });

  function frame(f: { src: string; srcLow: number; dst: string; dstLow: number; protocol: number; port: number }): Uint8Array {
    const buf = new Uint8Array(200);
    const n = writePing6(buf, 0, ipv6Bytes(`${f.src}${f.srcLow.toString(16)}`), ipv6Bytes(`${f.dst}${f.dstLow.toString(16)}`), MAC.redA, MAC.hostA, 16);
    const ip = 14;
    buf[ip + 6] = f.protocol;
    // ICMPv6 type, or the destination port.
    if (f.protocol === 58) buf[ip + 40] = f.port;
    else writeU16(buf, ip + 42, f.port);
    return buf.slice(0, n);
  }

  it('random flows give the same frames and drops through a thrashing 16-entry cache as through the default one', () => {
    fc.assert(
      fc.property(fc.array(fc.array(flow, { minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 6 }), (batches) => {
        const small = gatewayPair({ policy, flowCacheEntries: 16 }).a;
        const large = gatewayPair({ policy }).a;
        for (const batch of batches) {
          const outputs = [small, large].map((g) => {
            const slots = new FrameSlots({ count: 64 });
            batch.forEach((f, i) => loadSlot(slots, i, frame(f)));
            g.pipeline.processBatch(Port.Red, slots, batch.length, 0);
            const tx = g.pipeline.txBlack;
            return Array.from(tx.slots.subarray(0, tx.count), (i) => frameOf(slots, i));
          });
          expect(outputs[0]).toEqual(outputs[1]);
          expect(small.pipeline.drops.snapshot()).toEqual(large.pipeline.drops.snapshot());
        }
      }),
      { numRuns: 40 },
    );
  });

  it('a flow decided once is answered from the cache, with the ordered list\'s answer each time', () => {
    const { a } = gatewayPair({ policy });
    const send = (f: Parameters<typeof frame>[0]) => {
      const slots = new FrameSlots({ count: 64 });
      loadSlot(slots, 0, frame(f));
      a.pipeline.processBatch(Port.Red, slots, 1, 0);
      return a.pipeline.txBlack.count;
    };
    const dns = { src: '2001:db8:a::', srcLow: 0x10, dst: '2001:db8:b::', dstLow: 0x10, protocol: 17, port: 53 };
    const web = { ...dns, port: 80 };
    expect([send(dns), send(dns), send(web), send(web)]).toEqual([0, 0, 1, 1]);
    expect(a.pipeline.drops.snapshot()).toEqual({ discard: 2 });
    expect(a.pipeline.decisions.flows.counters).toMatchObject({ hits: 2, misses: 2 });
  });
});

describe('AEAD on the crypto thread', () => {
  it('a batch larger than one submitted chunk seals and opens to the same frames as @noble/ciphers on the pipeline thread', () => {
    const native = new NativeAeadBackend();
    expect(native.setCryptoThread(true)).toBe(true);
    try {
      const run = (backend: AeadBackend) => {
        const { a, b } = gatewayPair({ backend });
        const slots = new FrameSlots({ count: 64 });
        for (let i = 0; i < 64; i++) loadSlot(slots, i, ping6Frame(i * 20));
        a.pipeline.processBatch(Port.Red, slots, 64, 0);
        const sealed = Array.from(a.pipeline.txBlack.slots.subarray(0, a.pipeline.txBlack.count), (i) => frameOf(slots, i));
        const back = new FrameSlots({ count: 64 });
        sealed.forEach((f, i) => loadSlot(back, i, f));
        b.pipeline.processBatch(Port.Black, back, sealed.length, 0);
        const opened = Array.from(b.pipeline.txRed.slots.subarray(0, b.pipeline.txRed.count), (i) => frameOf(back, i));
        return { sealed, opened, drops: [a.pipeline.drops.snapshot(), b.pipeline.drops.snapshot()] };
      };
      const threaded = run(native);
      expect(threaded.sealed).toHaveLength(64);
      expect(threaded.opened).toHaveLength(64);
      expect(threaded).toEqual(run(new NobleAeadBackend()));
    } finally {
      native.setCryptoThread(false);
    }
  });
});
