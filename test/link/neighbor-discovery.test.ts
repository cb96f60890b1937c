import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from '../../src/dataplane/drop-reason.js';
import { compileLinkSettings, type LinkConfig } from '../../src/link/link-config.js';
import { LinkServices } from '../../src/link/link-services.js';
import { NeighborSend, NeighborState } from '../../src/link/neighbor-table.js';
import { LinkPort } from '../../src/link/transmit-queue.js';
import { inReceiveSlot, ipv6Bytes, LINK_CONFIG, sentOn } from './link-fixture.js';

// Reference frames from scapy 2.5: Ether()/IPv6()/ICMPv6ND_*()/ICMPv6NDOpt*(), checksums by scapy
// (the RA with prf=0: medium router preference, RFC 4191 §2.2).
const NS_FOR_ROUTER = '3333ff00000100005e0053aa86dd6000000000203aff20010db8000100000000000000000100ff0200000000000000000001ff00000187006b7e0000000020010db8000100000000000000000001010100005e0053aa';
const NA_FOR_ROUTER = '00005e0053aa00005e00530186dd6000000000203aff20010db800010000000000000000000120010db800010000000000000000010088005a71e000000020010db8000100000000000000000001020100005e005301';
const NS_FOR_LINK_LOCAL = '3333ff00530100005e0053aa86dd6000000000203afffe8000000000000002005efffe0053aaff0200000000000000000001ff0053018700134500000000fe8000000000000002005efffe005301010100005e0053aa';
const NA_FOR_LINK_LOCAL = '00005e0053aa00005e00530186dd6000000000203afffe8000000000000002005efffe005301fe8000000000000002005efffe0053aa8800d270e0000000fe8000000000000002005efffe005301020100005e005301';
const NS_HOP_LIMIT_254 = '3333ff00000100005e0053aa86dd6000000000203afe20010db8000100000000000000000100ff0200000000000000000001ff00000187006b7e0000000020010db8000100000000000000000001010100005e0053aa';
const NS_DAD = '3333ff00000100005e0053aa86dd6000000000183aff00000000000000000000000000000000ff0200000000000000000001ff00000187004cec0000000020010db8000100000000000000000001';
const NA_DAD_DEFENSE = '33330000000100005e00530186dd6000000000203aff20010db8000100000000000000000001ff0200000000000000000000000000018800ca27a000000020010db8000100000000000000000001020100005e005301';
const RS = '33330000000200005e0053aa86dd6000000000103afffe8000000000000002005efffe0053aaff020000000000000000000000000002850017d900000000010100005e0053aa';
const RA = '33330000000100005e00530186dd6000000000403afffe8000000000000002005efffe005301ff02000000000000000000000000000186008d4b400007080000000000000000010100005e0053010501000000000578030440c000278d0000093a800000000020010db8000100000000000000000000';
const NS_RESOLVE = '3333ff00020000005e00530186dd6000000000203aff20010db8000100000000000000000001ff0200000000000000000001ff000200870069280000000020010db8000100000000000000000200010100005e005301';
const NA_RESOLVE = '00005e00530100005e0053bb86dd6000000000203aff20010db800010000000000000000020020010db80001000000000000000000018800d6b86000000020010db8000100000000000000000200020100005e0053bb';
const NA_FOREIGN_CLAIM = '33330000000100005e0053bb86dd6000000000203aff20010db8000100000000000000000001ff0200000000000000000000000000018800496e2000000020010db8000100000000000000000001020100005e0053bb';
const NS_PROBE = '00005e0053bb00005e00530186dd6000000000203aff20010db800010000000000000000000120010db8000100000000000000000200870039730000000020010db8000100000000000000000200010100005e005301';

const NEIGHBOR = Uint8Array.from(Buffer.from('20010db8000100000000000000000200', 'hex')); // 2001:db8:1::200
const NEIGHBOR_MAC = 0x00005e0053bb;
const HOST = Uint8Array.from(Buffer.from('20010db8000100000000000000000100', 'hex'));
const HOST_MAC = 0x00005e0053aa;

function setup(config: Partial<LinkConfig> = {}, random = () => 0) {
  const drops = new DropCounters();
  const services = new LinkServices(compileLinkSettings({ ...LINK_CONFIG, ...config }), drops, { transmitFrames: 16, random });
  return { services, drops, transmit: services.transmit, nd: services.neighborDiscovery };
}

function feed(services: LinkServices, hex: string, now: number): number {
  return services.receiveRed(...inReceiveSlot(hex), now);
}

/** An IPv6 frame waiting for its next hop, with a placeholder destination MAC. */
function dataFrame(marker: number): Uint8Array {
  const frame = new Uint8Array(120);
  frame.fill(0xee, 0, 6);
  frame.set([0x00, 0x00, 0x5e, 0x00, 0x53, 0x01, 0x86, 0xdd], 6);
  frame[80] = marker;
  return frame;
}

function withDestination(frame: Uint8Array, mac: number): string {
  const copy = Buffer.from(frame);
  copy.writeUIntBE(mac, 0, 6);
  return copy.toString('hex');
}

describe('NeighborDiscovery: answering solicitations (RFC 4861 §7.2.4)', () => {
  it('answers an NS for the router address with a solicited NA (R, S, O, target link-layer option)', () => {
    const { services, transmit, nd } = setup();
    expect(feed(services, NS_FOR_ROUTER, 0)).toBe(-1);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([NA_FOR_ROUTER]);
    expect(nd.counters.solicitationsAnswered).toBe(1);
  });

  it('answers an NS for the EUI-64 link-local address from that address', () => {
    const { services, transmit } = setup();
    expect(feed(services, NS_FOR_LINK_LOCAL, 0)).toBe(-1);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([NA_FOR_LINK_LOCAL]);
  });

  it('learns the solicitor from its source link-layer option as STALE (§7.2.3)', () => {
    const { services, nd } = setup();
    feed(services, NS_FOR_ROUTER, 0);
    const entry = nd.neighbors.lookup(HOST, 0);
    expect(nd.neighbors.stateOf(entry)).toBe(NeighborState.Stale);
    expect(nd.neighbors.macOf(entry)).toBe(HOST_MAC);
  });

  it('ignores and counts an NS with hop limit 254 (§7.1.1)', () => {
    const { services, transmit, nd } = setup();
    expect(feed(services, NS_HOP_LIMIT_254, 0)).toBe(DropReason.Malformed);
    expect(transmit.redCount).toBe(0);
    expect(nd.counters.badHopLimit).toBe(1);
    expect(nd.neighbors.lookup(HOST, 0)).toBe(-1);
  });

  it('defends the router address against a DAD probe with an NA to all-nodes, S clear', () => {
    const { services, transmit, nd } = setup();
    expect(feed(services, NS_DAD, 0)).toBe(-1);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([NA_DAD_DEFENSE]);
    expect(nd.counters.duplicateAddressProbes).toBe(1);
  });

  it('drops an NS whose checksum is wrong', () => {
    const { services, transmit } = setup();
    const corrupt = NS_FOR_ROUTER.slice(0, 120) + 'ff' + NS_FOR_ROUTER.slice(122);
    expect(feed(services, corrupt, 0)).toBe(DropReason.Malformed);
    expect(transmit.redCount).toBe(0);
  });

  it('counts an NA from another node for an owned address as a duplicate', () => {
    const { services, nd } = setup();
    expect(feed(services, NA_FOREIGN_CLAIM, 0)).toBe(-1);
    expect(nd.counters.duplicateAddresses).toBe(1);
  });
});

describe('NeighborDiscovery: Router Advertisements (RFC 4861 §6.2)', () => {
  it('answers an RS with a multicast RA carrying the prefix (L, A) and the tunnel MTU', () => {
    const { services, transmit, nd } = setup({}, () => 0.5);
    expect(feed(services, RS, 1000)).toBe(-1);
    // §6.2.6: the answer waits a random 0..500 ms (here 250 ms).
    services.poll(1249);
    expect(transmit.redCount).toBe(0);
    services.poll(1250);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([RA]);
    expect(nd.counters.routerAdvertisementsSent).toBe(1);
  });

  it('sends at most one multicast RA per 3 s however many RS arrive', () => {
    const { services, transmit } = setup();
    feed(services, RS, 0);
    services.poll(0);
    expect(transmit.redCount).toBe(1);
    transmit.clear();
    feed(services, RS, 100);
    feed(services, RS, 200);
    services.poll(2999);
    expect(transmit.redCount).toBe(0);
    services.poll(3000);
    expect(transmit.redCount).toBe(1);
  });

  it('does not answer RS when answerSolicitations is false', () => {
    const { services, transmit, nd } = setup({ routerAdvertisements: { answerSolicitations: false } });
    feed(services, RS, 0);
    services.poll(10_000);
    expect(transmit.redCount).toBe(0);
    expect(nd.counters.routerSolicitations).toBe(1);
  });

  it('sends no unsolicited RA by default', () => {
    const { services, transmit } = setup();
    services.start(0);
    for (let t = 0; t <= 3_600_000; t += 60_000) services.poll(t);
    expect(transmit.redCount).toBe(0);
  });

  it('sends periodic RAs within [0.33 x interval, interval] when configured, the first at start', () => {
    const { services, transmit } = setup({ routerAdvertisements: { intervalSeconds: 600 } }, () => 1);
    services.start(0);
    services.poll(0);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([RA]);
    transmit.clear();
    // The timers after the first three RAs are capped at 16 s (MAX_INITIAL_RTR_ADVERT_INTERVAL, §6.2.4).
    services.poll(15_999);
    expect(transmit.redCount).toBe(0);
    services.poll(16_000);
    services.poll(32_000);
    services.poll(48_000);
    expect(transmit.redCount).toBe(3);
    transmit.clear();
    services.poll(48_000 + 599_999);
    expect(transmit.redCount).toBe(0);
    services.poll(48_000 + 600_000);
    expect(transmit.redCount).toBe(1);
  });

  it('sets A only for a /64 prefix and puts the router lifetime and MTU configured', () => {
    const { services, transmit } = setup({ routerPrefixLength: 56, routerAddress: ipv6Bytes('2001:db8:100::1'), tunnelInnerMtu: 1280, routerAdvertisements: { routerLifetimeSeconds: 0 } });
    feed(services, RS, 0);
    services.poll(0);
    const ra = Buffer.from(sentOn(transmit, LinkPort.Red)[0], 'hex');
    const icmp = 14 + 40;
    expect(ra.readUInt16BE(icmp + 6)).toBe(0); // router lifetime
    expect(ra.readUInt32BE(icmp + 16 + 8 + 4)).toBe(1280); // MTU option
    const prefix = icmp + 16 + 8 + 8;
    expect(ra[prefix + 2]).toBe(56);
    expect(ra[prefix + 3]).toBe(0x80); // on-link only
    expect(ra.subarray(prefix + 16, prefix + 32).toString('hex')).toBe('20010db8010000000000000000000000');
  });
});

describe('NeighborDiscovery: resolving next hops (RFC 4861 §7.2.2, §7.3.3)', () => {
  it('queues a frame, multicasts an NS to the solicited-node group, releases the frame after the NA', () => {
    const { services, transmit, drops, nd } = setup();
    const frame = dataFrame(0x77);
    expect(services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 0)).toBe(NeighborSend.Queued);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([NS_RESOLVE]);
    transmit.clear();

    expect(feed(services, NA_RESOLVE, 500)).toBe(-1);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([withDestination(frame, NEIGHBOR_MAC)]);
    expect(nd.neighbors.stateOf(nd.neighbors.lookup(NEIGHBOR, 0))).toBe(NeighborState.Reachable);
    expect(drops.total()).toBe(0);
  });

  it('keeps at most pendingFramesPerNeighbor frames, dropping the oldest', () => {
    const { services, transmit, drops } = setup({ neighborCache: { pendingFramesPerNeighbor: 2 } });
    const frames = [dataFrame(1), dataFrame(2), dataFrame(3)];
    for (const f of frames) services.resolveRed(f, 0, f.length, NEIGHBOR, 0, 0);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(1);
    transmit.clear();
    feed(services, NA_RESOLVE, 10);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([withDestination(frames[1], NEIGHBOR_MAC), withDestination(frames[2], NEIGHBOR_MAC)]);
  });

  it('drops queued frames as NeighborUnresolved when three NS go unanswered', () => {
    const { services, transmit, drops } = setup();
    const frame = dataFrame(9);
    services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 0);
    services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 10);
    services.poll(1000);
    services.poll(2000);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([NS_RESOLVE, NS_RESOLVE, NS_RESOLVE]);
    services.poll(2999);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(0);
    services.poll(3000);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(2);
    // An answer after the give-up creates nothing (§7.2.5: no entry, no update).
    feed(services, NA_RESOLVE, 3100);
    expect(services.neighborDiscovery.neighbors.lookup(NEIGHBOR, 0)).toBe(-1);
  });

  it('probes a STALE neighbor in use by unicast after 5 s and deletes it when unanswered', () => {
    const { services, transmit, nd } = setup();
    const frame = dataFrame(1);
    services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 0);
    feed(services, NA_RESOLVE, 0);
    transmit.clear();
    // REACHABLE for 30 s, then STALE; the first use starts the 5 s delay.
    services.poll(30_000);
    expect(services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 31_000)).toBe(NeighborSend.Addressed);
    services.poll(35_999);
    expect(transmit.redCount).toBe(0);
    services.poll(36_000);
    services.poll(37_000);
    services.poll(38_000);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([NS_PROBE, NS_PROBE, NS_PROBE]);
    services.poll(39_000);
    expect(nd.neighbors.lookup(NEIGHBOR, 0)).toBe(-1);
    expect(nd.neighbors.counters.probeFailures).toBe(1);
  });

  it('a solicited NA to a probe makes the neighbor REACHABLE again', () => {
    const { services, nd } = setup();
    const frame = dataFrame(1);
    services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 0);
    feed(services, NA_RESOLVE, 0);
    services.poll(30_000);
    services.resolveRed(frame, 0, frame.length, NEIGHBOR, 0, 30_000);
    services.poll(35_000);
    feed(services, NA_RESOLVE, 35_100);
    services.poll(60_000);
    expect(nd.neighbors.stateOf(nd.neighbors.lookup(NEIGHBOR, 0))).toBe(NeighborState.Reachable);
  });
});
