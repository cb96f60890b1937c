import { describe, expect, it } from 'vitest';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { Port } from '../../src/dataplane/pipeline.js';
import { writeIcmpv4FragmentationNeeded } from '../../src/wire/icmpv4.js';
import { Ipv4Header, parseIpv4, writeIpv4Header } from '../../src/wire/ipv4.js';
import { WireStatus } from '../../src/wire/status.js';
import { ADDR, MAC, TEP_A, frameOf, gatewayPair, loadSlot, writePing6 } from './gateway-fixture.js';

const ETHERNET_HEADER_BYTES = 14;

/** The ESP packet (IPv4 header on) gateway A sends to B for one ping6 from its red host. */
function sealedByA(a: ReturnType<typeof gatewayPair>['a']): Uint8Array {
  const frame = new Uint8Array(256);
  const slots = new FrameSlots({ count: 1 });
  loadSlot(slots, 0, frame.subarray(0, writePing6(frame, 0, ADDR.hostA, ADDR.hostB, MAC.redA, MAC.hostA, 100)));
  a.pipeline.processBatch(Port.Red, slots, 1, 0);
  return frameOf(slots, a.pipeline.txBlack.slots[0]).slice(ETHERNET_HEADER_BYTES);
}

/** An IPv4 Fragmentation Needed (RFC 1191 §4) from a router on black to TEP A quoting `invoking`, and its parsed header. */
function fragmentationNeeded(invoking: Uint8Array, mtu: number): { bytes: Uint8Array; h: Ipv4Header } {
  const bytes = new Uint8Array(256);
  const icmpLength = writeIcmpv4FragmentationNeeded(bytes, 20, mtu, invoking, 0, invoking.length);
  const h = new Ipv4Header();
  h.totalLength = 20 + icmpLength;
  h.ttl = 64;
  h.protocol = 1;
  h.src = 0xc00002fe; // 192.0.2.254
  h.dst = TEP_A;
  writeIpv4Header(bytes, 0, h);
  expect(parseIpv4(bytes, 0, h.totalLength, h)).toBe(WireStatus.Ok);
  return { bytes, h };
}

describe('PeerPathMtu.report (RFC 1191 §6.2)', () => {
  it('ignores a Fragmentation Needed whose ICMP checksum fails (RFC 792), and takes the same report intact', () => {
    const { a } = gatewayPair();
    const pathMtu = a.pipeline.pathMtu;
    const report = fragmentationNeeded(sealedByA(a), 1400);
    report.bytes[20 + 2] ^= 0x01; // the ICMP checksum

    expect(pathMtu.report(report.bytes, report.h, 1000)).toBe(false);
    expect([pathMtu.mtu[0], pathMtu.updates]).toEqual([1500, 0]);

    report.bytes[20 + 2] ^= 0x01;
    expect(pathMtu.report(report.bytes, report.h, 1000)).toBe(true);
    expect([pathMtu.mtu[0], pathMtu.updates]).toEqual([1400, 1]);
  });
});
