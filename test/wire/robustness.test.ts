/**
 * Property tests over every parser in src/wire: arbitrary bytes, offsets and lengths never make a
 * parser throw, and every offset a parser returns lies inside the range it was given.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArpPacket, parseArp } from '../../src/wire/arp.js';
import { classifyEspInUdp, EspHeader, EspTrailer, parseEsp, parseEspTrailer } from '../../src/wire/esp.js';
import { EthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { Icmpv4Message, parseIcmpv4, parseIcmpv4Quote } from '../../src/wire/icmpv4.js';
import { Icmpv6Message, parseIcmpv6 } from '../../src/wire/icmpv6.js';
import { decrementIpv4Ttl, Ipv4Header, parseIpv4, parseIpv4Quote, writeIpv4Ecn } from '../../src/wire/ipv4.js';
import { decrementHopLimit, IPV6_NO_UPPER_LAYER, Ipv6ExtensionWalk, Ipv6Header, parseIpv6, walkIpv6Extensions } from '../../src/wire/ipv6.js';
import { NdpMessage, parseNdp } from '../../src/wire/ndp.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';
import { parseUdp, UdpHeader, verifyUdpChecksumIpv6 } from '../../src/wire/udp.js';

const RUNS = { numRuns: 2000 };

/** A buffer with a range inside it, and sometimes a range that is not. */
const input = fc
  .record({
    bytes: fc.uint8Array({ minLength: 0, maxLength: 160 }),
    off: fc.integer({ min: -4, max: 170 }),
    len: fc.integer({ min: -4, max: 170 }),
    inside: fc.boolean(),
  })
  .map(({ bytes, off, len, inside }) => {
    if (!inside) return { bytes, off, len };
    const o = Math.min(Math.max(off, 0), bytes.length);
    return { bytes, off: o, len: Math.min(Math.max(len, 0), bytes.length - o) };
  });

/** `[start, start + size)` lies in `[off, off + len)`, or the field is absent (-1). */
function within(start: number, size: number, off: number, len: number): boolean {
  return start === -1 || (start >= off && start + size <= off + len);
}

/** IPv6 packets whose extension chains are well-formed often enough to reach every branch of the walk. */
const ipv6Chain = fc
  .record({
    kinds: fc.oneof(
      fc.array(fc.constantFrom(IpProtocol.HopByHop, IpProtocol.DestinationOptions, IpProtocol.Routing, IpProtocol.Fragment), { maxLength: 10 }),
      fc.array(fc.constant(IpProtocol.DestinationOptions), { minLength: 6, maxLength: 10 }),
    ),
    tidy: fc.boolean(),
    upper: fc.constantFrom(IpProtocol.Udp, IpProtocol.Esp, IpProtocol.Mobility, IpProtocol.NoNextHeader, IpProtocol.Icmpv6),
    units: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 10, maxLength: 10 }),
    fill: fc.array(fc.constantFrom('pad', 'hao', 'random'), { minLength: 10, maxLength: 10 }),
    routing: fc.array(fc.record({ type: fc.constantFrom(0, 2, 4), left: fc.integer({ min: 0, max: 2 }) }), { minLength: 10, maxLength: 10 }),
    noise: fc.uint8Array({ minLength: 256, maxLength: 256 }),
    tail: fc.integer({ min: 0, max: 24 }),
    cut: fc.integer({ min: 0, max: 400 }),
  })
  .map(({ kinds, tidy, upper, units, fill, routing, noise, tail, cut }) => {
    const parts: number[][] = [];
    kinds.forEach((kind, i) => {
      const next = i + 1 < kinds.length ? kinds[i + 1] : upper;
      if (kind === IpProtocol.Fragment) {
        parts.push([next, 0, noise[i] & 1 ? 0 : noise[i + 1], noise[i + 2], 0, 0, 0, i]);
        return;
      }
      const unitCount = kind === IpProtocol.Routing && routing[i].type === 2 ? 2 : units[i];
      const header = Array.from(noise.subarray(i * 20, i * 20 + (unitCount + 1) * 8));
      header[0] = next;
      header[1] = unitCount;
      if (kind === IpProtocol.Routing) {
        header[2] = routing[i].type;
        header[3] = routing[i].left;
      } else if (tidy || fill[i] === 'pad') {
        header.fill(0, 2);
      } else if (fill[i] === 'hao' && unitCount >= 2) {
        header.fill(0, 2);
        header[6] = 201;
        header[7] = 16;
      }
      parts.push(header);
    });
    const payload = parts.flat().concat(Array.from(noise.subarray(0, tail)));
    const packet = new Uint8Array(40 + payload.length);
    packet[0] = 0x60;
    packet[4] = payload.length >>> 8;
    packet[5] = payload.length & 0xff;
    packet[6] = kinds.length > 0 ? kinds[0] : upper;
    packet[7] = 64;
    packet.set(payload, 40);
    return { packet, len: Math.min(packet.length, cut + 40) };
  });

describe('parsers on arbitrary input', () => {
  it('link layer and ARP', () => {
    const eth = new EthernetHeader();
    const arp = new ArpPacket();
    fc.assert(
      fc.property(input, ({ bytes, off, len }) => {
        if (parseEthernet(bytes, off, len, eth) === WireStatus.Ok) {
          expect(within(eth.dstOffset, 6, off, len) && within(eth.srcOffset, 6, off, len)).toBe(true);
          expect(eth.l3Offset >= off && eth.l3Offset <= off + len).toBe(true);
        }
        if (parseArp(bytes, off, len, arp) === WireStatus.Ok) {
          expect(within(arp.senderMacOffset, 6, off, len) && within(arp.targetMacOffset, 6, off, len)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('IPv4, its quote, TTL and ECN updates', () => {
    const h = new Ipv4Header();
    fc.assert(
      fc.property(input, ({ bytes, off, len }) => {
        for (const parse of [parseIpv4, parseIpv4Quote]) {
          if (parse(bytes, off, len, h) === WireStatus.Ok) {
            expect(h.payloadOffset).toBe(off + h.headerLength);
            expect(within(h.payloadOffset, h.payloadLength, off, len)).toBe(true);
          }
        }
        decrementIpv4Ttl(bytes, off);
        writeIpv4Ecn(bytes, off, 3);
      }),
      RUNS,
    );
  });

  it('IPv6 fixed header and hop limit', () => {
    const h = new Ipv6Header();
    fc.assert(
      fc.property(input, ({ bytes, off, len }) => {
        if (parseIpv6(bytes, off, len, h) === WireStatus.Ok) {
          expect(within(h.srcOffset, 16, off, len) && within(h.dstOffset, 16, off, len)).toBe(true);
          expect(within(h.payloadOffset, h.payloadLength, off, len)).toBe(true);
        }
        decrementHopLimit(bytes, off);
      }),
      RUNS,
    );
  });

  function checkWalk(bytes: Uint8Array, off: number, len: number, w: Ipv6ExtensionWalk): number {
    const status = walkIpv6Extensions(bytes, off, len, w);
    if (status === WireStatus.Ok) {
      const end = off + len;
      expect(w.upperOffset === IPV6_NO_UPPER_LAYER || (w.upperOffset >= off + 40 && w.upperOffset <= end)).toBe(true);
      expect(w.upperProtocol === IPV6_NO_UPPER_LAYER).toBe(w.upperOffset === IPV6_NO_UPPER_LAYER);
      expect(within(w.homeAddressOffset, 16, off, len)).toBe(true);
      expect(within(w.routingAddressOffset, 16, off, len)).toBe(true);
      expect(within(w.fragmentHeaderOffset, 8, off, len)).toBe(true);
      expect(w.espInsertOffset >= off + 40 && w.espInsertOffset <= end).toBe(true);
      expect(within(w.espNextHeaderOffset, 1, off, len)).toBe(true);
      expect(w.espNextHeaderOffset).toBeLessThan(w.espInsertOffset);
      if (w.upperOffset !== IPV6_NO_UPPER_LAYER) expect(w.espInsertOffset).toBeLessThanOrEqual(w.upperOffset);
    }
    return status;
  }

  it('IPv6 extension walk on arbitrary bytes', () => {
    const w = new Ipv6ExtensionWalk();
    fc.assert(
      fc.property(input, ({ bytes, off, len }) => {
        checkWalk(bytes, off, len, w);
      }),
      RUNS,
    );
  });

  it('IPv6 extension walk on generated chains, cut anywhere', () => {
    const w = new Ipv6ExtensionWalk();
    const seen = new Set<number>();
    fc.assert(
      fc.property(ipv6Chain, ({ packet, len }) => {
        seen.add(checkWalk(packet, 0, len, w));
      }),
      RUNS,
    );
    // The generator must reach the interesting outcomes, or this property proves little.
    for (const status of [WireStatus.Ok, WireStatus.Truncated, WireStatus.BadOption, WireStatus.ExtensionChainTooLong, WireStatus.BadExtensionOrder, WireStatus.UnknownRoutingType, WireStatus.BadRoutingHeader]) {
      expect(seen.has(status), `status ${status}`).toBe(true);
    }
  });

  it('UDP and its IPv6 checksum', () => {
    const u = new UdpHeader();
    fc.assert(
      fc.property(input, fc.integer({ min: -2, max: 170 }), ({ bytes, off, len }, addr) => {
        if (parseUdp(bytes, off, len, u) === WireStatus.Ok) expect(within(u.payloadOffset, u.payloadLength, off, len)).toBe(true);
        verifyUdpChecksumIpv6(bytes, off, len, addr, addr);
      }),
      RUNS,
    );
  });

  it('ICMPv4 and its quote', () => {
    const m = new Icmpv4Message();
    const q = new Ipv4Header();
    fc.assert(
      fc.property(input, ({ bytes, off, len }) => {
        if (parseIcmpv4(bytes, off, len, m) === WireStatus.Ok) {
          expect(within(m.quoteOffset, m.quoteLength, off, len)).toBe(true);
          if (parseIcmpv4Quote(bytes, m, q) === WireStatus.Ok) expect(within(q.payloadOffset, q.payloadLength, off, len)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('ICMPv6 and NDP', () => {
    const m = new Icmpv6Message();
    const ndp = new NdpMessage();
    const ip = new Ipv6Header();
    fc.assert(
      fc.property(input, fc.integer({ min: -2, max: 170 }), fc.integer({ min: -2, max: 170 }), fc.boolean(), ({ bytes, off, len }, src, dst, hop255) => {
        if (parseIcmpv6(bytes, off, len, src, dst, m) === WireStatus.Ok) expect(within(m.quoteOffset, m.quoteLength, off, len)).toBe(true);
        ip.srcOffset = src;
        ip.dstOffset = dst;
        ip.hopLimit = hop255 ? 255 : 64;
        if (parseNdp(bytes, off, len, ip, ndp) === WireStatus.Ok) {
          expect(within(ndp.targetOffset, 16, off, len)).toBe(true);
          expect(within(ndp.sourceMacOffset, 6, off, len) && within(ndp.targetMacOffset, 6, off, len)).toBe(true);
        }
      }),
      RUNS,
    );
  });

  it('ESP and ESP-in-UDP', () => {
    const esp = new EspHeader();
    const trailer = new EspTrailer();
    fc.assert(
      fc.property(input, ({ bytes, off, len }) => {
        if (parseEsp(bytes, off, len, esp) === WireStatus.Ok) expect(within(esp.payloadOffset, esp.payloadLength, off, len)).toBe(true);
        if (parseEspTrailer(bytes, off, len, trailer) === WireStatus.Ok) {
          expect(trailer.payloadLength + trailer.padLength + 2).toBe(len);
        }
        classifyEspInUdp(bytes, off, len);
      }),
      RUNS,
    );
  });
});
