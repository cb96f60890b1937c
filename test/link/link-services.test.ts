import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from '../../src/dataplane/drop-reason.js';
import { compileLinkSettings, type LinkConfig } from '../../src/link/link-config.js';
import { LinkServices } from '../../src/link/link-services.js';
import { NeighborSend } from '../../src/link/neighbor-table.js';
import { LinkPort } from '../../src/link/transmit-queue.js';
import { fillIcmpv6Checksum } from '../../src/wire/icmpv6.js';
import { LINK_CONFIG, LINK_CONFIG_WITH_NEXT_HOP, sentOn } from './link-fixture.js';

// Reference frames from scapy 2.5.
const ARP_REQUEST_FOR_TEP = 'ffffffffffff00005e0053aa0806000108000604000100005e0053aac000020a000000000000c0000201';
const ARP_REQUEST_FOR_NEXT_HOP = 'ffffffffffff00005e0053020806000108000604000100005e005302c0000201000000000000c00002fe000000000000000000000000000000000000';
const NS_FOR_ROUTER = '3333ff00000100005e0053aa86dd6000000000203aff20010db8000100000000000000000100ff0200000000000000000001ff00000187006b7e0000000020010db8000100000000000000000001010100005e0053aa';
const RS = '33330000000200005e0053aa86dd6000000000103afffe8000000000000002005efffe0053aaff020000000000000000000000000002850017d900000000010100005e0053aa';
const NA_RESOLVE = '00005e00530100005e0053bb86dd6000000000203aff20010db800010000000000000000020020010db80001000000000000000000018800d6b86000000020010db8000100000000000000000200020100005e0053bb';
const ECHO_REQUEST = '00005e00530100005e0053aa86dd6000000000113a4020010db800010000000000000000010020010db80001000000000000000000018000425a1234000770696e672d64617461';
const RED_SEEDS = [NS_FOR_ROUTER, RS, NA_RESOLVE, ECHO_REQUEST, '33330000000100005e00530186dd6000000000403afffe8000000000000002005efffe005301ff02000000000000000000000000000186008d4b400007080000000000000000010100005e0053010501000000000578030440c000278d0000093a800000000020010db8000100000000000000000000', '3333ff00000100005e0053aa86dd6000000000183aff00000000000000000000000000000000ff0200000000000000000001ff00000187004cec0000000020010db8000100000000000000000001'].map((h) => Buffer.from(h, 'hex'));
const SEEDS = [ARP_REQUEST_FOR_TEP, NS_FOR_ROUTER, RS, NA_RESOLVE, ECHO_REQUEST, '33330000000100005e00530186dd6000000000403afffe8000000000000002005efffe005301ff02000000000000000000000000000186008d4b400007080000000000000000010100005e0053010501000000000578030440c000278d0000093a800000000020010db8000100000000000000000000', '3333ff00000100005e0053aa86dd6000000000183aff00000000000000000000000000000000ff0200000000000000000001ff00000187004cec0000000020010db8000100000000000000000001'].map((h) => Buffer.from(h, 'hex'));

function setup(config: LinkConfig = LINK_CONFIG_WITH_NEXT_HOP) {
  const drops = new DropCounters();
  const services = new LinkServices(compileLinkSettings(config), drops, { transmitFrames: 8, random: () => 0 });
  return { services, drops, transmit: services.transmit };
}

function rx(hex: string): Uint8Array {
  return Uint8Array.from(Buffer.from(hex, 'hex'));
}

describe('LinkServices', () => {
  it('dispatches ARP from black and NDP and echo from red', () => {
    const { services, transmit } = setup();
    const arp = rx(ARP_REQUEST_FOR_TEP);
    expect(services.receiveBlack(arp, 0, arp.length, 0)).toBe(-1);
    const ns = rx(NS_FOR_ROUTER);
    expect(services.receiveRed(ns, 0, ns.length, 0)).toBe(-1);
    const echo = rx(ECHO_REQUEST);
    expect(services.receiveRed(echo, 0, echo.length, 0)).toBe(-1);
    expect([transmit.blackCount, transmit.redCount]).toEqual([1, 2]);
    expect(services.counterSnapshot()).toMatchObject({ 'arp.requestsAnswered': 1, 'nd.solicitationsAnswered': 1, 'echo.repliesSent': 1 });
  });

  it('ignores frames unicast to another MAC (the NICs are promiscuous)', () => {
    const { services, transmit } = setup();
    const echo = rx(ECHO_REQUEST);
    echo[5] = 0x99;
    expect(services.receiveRed(echo, 0, echo.length, 0)).toBe(DropReason.Unsupported);
    const arp = rx(ARP_REQUEST_FOR_TEP);
    arp.set([0, 0, 0x5e, 0, 0x53, 0x99], 0);
    expect(services.receiveBlack(arp, 0, arp.length, 0)).toBe(DropReason.Unsupported);
    expect(transmit.redCount + transmit.blackCount).toBe(0);
    expect(services.counters.notForUs).toBe(2);
  });

  it('counts red IPv6 that is not ICMPv6 as Unsupported and a runt as Malformed', () => {
    const { services } = setup();
    const echo = rx(ECHO_REQUEST);
    echo[14 + 6] = 17; // next header UDP
    expect(services.receiveRed(echo, 0, echo.length, 0)).toBe(DropReason.Unsupported);
    expect(services.receiveRed(echo, 0, 10, 0)).toBe(DropReason.Malformed);
    expect(services.receiveBlack(echo, 0, 10, 0)).toBe(DropReason.Malformed);
  });

  it('resolves off-subnet IPv4 destinations through the next hop', () => {
    const { services, transmit } = setup();
    const frame = new Uint8Array(80);
    expect(services.resolveBlack(frame, 0, frame.length, 0xcb007109 | 0, 0)).toBe(NeighborSend.Queued);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_REQUEST_FOR_NEXT_HOP]);
  });

  it('counts NoRoute for an off-subnet destination without a next hop', () => {
    const { services, drops } = setup(LINK_CONFIG);
    const frame = new Uint8Array(80);
    expect(services.resolveBlack(frame, 0, frame.length, 0xcb007109 | 0, 0)).toBe(NeighborSend.Dropped);
    expect(drops.counts[DropReason.NoRoute]).toBe(1);
    expect(services.transmit.blackCount).toBe(0);
  });

  it('lists both neighbor caches', () => {
    const { services } = setup();
    const arp = rx(ARP_REQUEST_FOR_TEP);
    services.receiveBlack(arp, 0, arp.length, 0);
    const ns = rx(NS_FOR_ROUTER);
    services.receiveRed(ns, 0, ns.length, 0);
    expect(services.neighborSnapshot()).toEqual({
      ipv4: [{ address: '192.0.2.10', mac: '00:00:5e:00:53:aa', state: 'stale', queuedFrames: 0 }],
      ipv6: [{ address: '2001:db8:1::100', mac: '00:00:5e:00:53:aa', state: 'stale', queuedFrames: 0 }],
    });
  });

  it('never throws on random bytes or mutated valid frames, and only ever returns -1 or a DropReason', () => {
    const reasons = new Set<number>(Object.values(DropReason));
    const frameArb = fc.oneof(
      fc.uint8Array({ minLength: 0, maxLength: 200 }),
      fc.record({
        seed: fc.integer({ min: 0, max: SEEDS.length - 1 }),
        flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
        cut: fc.nat(),
      }).map(({ seed, flips, cut }) => {
        const f = Uint8Array.from(SEEDS[seed]);
        for (const [at, value] of flips) f[at % f.length] = value;
        return f.subarray(0, f.length - (cut % 8));
      }),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(frameArb, fc.boolean()), { maxLength: 20 }), (frames) => {
        const { services, transmit } = setup();
        let now = 0;
        for (const [frame, red] of frames) {
          const buffer = new Uint8Array(frame.length + 16);
          buffer.set(frame, 16);
          const result = red ? services.receiveRed(buffer, 16, frame.length, now) : services.receiveBlack(buffer, 16, frame.length, now);
          expect(result === -1 || reasons.has(result)).toBe(true);
          now += 700;
          services.poll(now);
          transmit.clear();
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on NDP and echo messages with random bodies and valid checksums', () => {
    const reasons = new Set<number>(Object.values(DropReason));
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: RED_SEEDS.length - 1 }),
        fc.uint8Array({ minLength: 0, maxLength: 120 }),
        fc.integer({ min: 0, max: 255 }),
        (seed, body, type) => {
          const { services, transmit } = setup();
          const head = RED_SEEDS[seed].subarray(0, 54);
          const frame = new Uint8Array(54 + 4 + body.length);
          frame.set(head, 0);
          frame[54] = [133, 134, 135, 136, 128][type % 5];
          frame.set(body, 58);
          frame[18] = (frame.length - 54) >> 8;
          frame[19] = (frame.length - 54) & 0xff;
          fillIcmpv6Checksum(frame, 54, frame.length - 54, 22, 38);
          const result = services.receiveRed(frame, 0, frame.length, 0);
          expect(result === -1 || reasons.has(result)).toBe(true);
          services.poll(10_000);
          expect(transmit.redCount).toBeLessThanOrEqual(2);
        },
      ),
      { numRuns: 1000 },
    );
  });
});
