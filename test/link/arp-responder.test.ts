import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from '../../src/dataplane/drop-reason.js';
import { ArpResponder } from '../../src/link/arp-responder.js';
import { compileLinkSettings } from '../../src/link/link-config.js';
import { NeighborSend, NeighborState } from '../../src/link/neighbor-table.js';
import { LinkPort, LinkTransmitQueue } from '../../src/link/transmit-queue.js';
import { inReceiveSlot, LINK_CONFIG_WITH_NEXT_HOP, sentOn } from './link-fixture.js';

// Reference frames from scapy 2.5 (Ether()/ARP(), padded replies with Padding(b'\0' * 18)).
const ARP_REQUEST_FOR_TEP = 'ffffffffffff00005e0053aa0806000108000604000100005e0053aac000020a000000000000c0000201';
const ARP_REPLY_FROM_TEP = '00005e0053aa00005e0053020806000108000604000200005e005302c000020100005e0053aac000020a000000000000000000000000000000000000';
const ARP_REQUEST_FOR_OTHER = 'ffffffffffff00005e0053aa0806000108000604000100005e0053aac000020a000000000000c0000263';
const ARP_ANNOUNCEMENT = 'ffffffffffff00005e0053020806000108000604000100005e005302c0000201000000000000c0000201000000000000000000000000000000000000';
const ARP_REQUEST_FOR_NEXT_HOP = 'ffffffffffff00005e0053020806000108000604000100005e005302c0000201000000000000c00002fe000000000000000000000000000000000000';
const ARP_REPLY_FROM_NEXT_HOP = '00005e00530200005e0053cc0806000108000604000200005e0053ccc00002fe00005e005302c0000201';
const ARP_CONFLICT = 'ffffffffffff00005e0053aa0806000108000604000100005e0053aac0000201000000000000c0000201';

const HOST_MAC = 0x00005e0053aa;
const GATEWAY_MAC = 0x00005e0053cc;
const HOST = 0xc000020a; // 192.0.2.10
const GATEWAY = 0xc00002fe; // 192.0.2.254

function setup() {
  const transmit = new LinkTransmitQueue({ count: 16 });
  const drops = new DropCounters();
  const arp = new ArpResponder(compileLinkSettings(LINK_CONFIG_WITH_NEXT_HOP), transmit, drops);
  return { transmit, drops, arp };
}

function feed(arp: ArpResponder, hex: string, now: number): number {
  return arp.receive(...inReceiveSlot(hex), now);
}

/** An IPv4 frame waiting for its next hop, with a placeholder destination MAC. */
function dataFrame(marker: number): Uint8Array {
  const frame = new Uint8Array(100);
  frame.fill(0xee, 0, 6);
  frame.set([0x00, 0x00, 0x5e, 0x00, 0x53, 0x02, 0x08, 0x00], 6);
  frame[50] = marker;
  return frame;
}

describe('ArpResponder', () => {
  it('answers a request for the TEP with a reply to the requester (RFC 826)', () => {
    const { transmit, arp } = setup();
    expect(feed(arp, ARP_REQUEST_FOR_TEP, 0)).toBe(-1);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_REPLY_FROM_TEP]);
    expect(sentOn(transmit, LinkPort.Red)).toEqual([]);
    expect(arp.counters.requestsAnswered).toBe(1);
  });

  it('learns the sender of a request for the TEP as a STALE neighbor', () => {
    const { arp } = setup();
    feed(arp, ARP_REQUEST_FOR_TEP, 0);
    const entry = arp.neighbors.lookup(HOST);
    expect(arp.neighbors.stateOf(entry)).toBe(NeighborState.Stale);
    expect(arp.neighbors.macOf(entry)).toBe(HOST_MAC);
  });

  it('ignores requests for other addresses: no reply, nothing learned', () => {
    const { transmit, arp } = setup();
    expect(feed(arp, ARP_REQUEST_FOR_OTHER, 0)).toBe(-1);
    expect(transmit.blackCount).toBe(0);
    expect(arp.neighbors.lookup(HOST)).toBe(-1);
    expect(arp.counters.notForUs).toBe(1);
  });

  it('sends two announcements two seconds apart at start (RFC 5227 §3)', () => {
    const { transmit, arp } = setup();
    arp.start(1000);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_ANNOUNCEMENT]);
    transmit.clear();
    arp.poll(2999);
    expect(transmit.blackCount).toBe(0);
    arp.poll(3000);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_ANNOUNCEMENT]);
    transmit.clear();
    arp.poll(60_000);
    expect(transmit.blackCount).toBe(0);
    expect(arp.counters.announcementsSent).toBe(2);
  });

  it('resolves the next hop: queues the frame, broadcasts a request, releases the frame on the reply', () => {
    const { transmit, drops, arp } = setup();
    const frame = dataFrame(0x5a);
    expect(arp.resolve(frame, 0, frame.length, GATEWAY, 0)).toBe(NeighborSend.Queued);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_REQUEST_FOR_NEXT_HOP]);
    transmit.clear();

    expect(feed(arp, ARP_REPLY_FROM_NEXT_HOP, 200)).toBe(-1);
    const released = sentOn(transmit, LinkPort.Black);
    expect(released).toHaveLength(1);
    const expected = Buffer.from(frame);
    expected.writeUIntBE(GATEWAY_MAC, 0, 6);
    expect(released[0]).toBe(expected.toString('hex'));
    expect(drops.total()).toBe(0);

    // Now REACHABLE: the next frame is addressed in place.
    const next = dataFrame(0x5b);
    expect(arp.resolve(next, 0, next.length, GATEWAY, 300)).toBe(NeighborSend.Addressed);
    expect(Buffer.from(next.subarray(0, 6)).readUIntBE(0, 6)).toBe(GATEWAY_MAC);
  });

  it('drops the queued frame as NeighborUnresolved after three unanswered requests', () => {
    const { transmit, drops, arp } = setup();
    const frame = dataFrame(1);
    arp.resolve(frame, 0, frame.length, GATEWAY, 0);
    for (const t of [999, 1000, 2000, 2999]) arp.poll(t);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_REQUEST_FOR_NEXT_HOP, ARP_REQUEST_FOR_NEXT_HOP, ARP_REQUEST_FOR_NEXT_HOP]);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(0);
    arp.poll(3000);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(1);
    expect(arp.neighbors.lookup(GATEWAY)).toBe(-1);
    expect(arp.neighbors.counters.resolutionFailures).toBe(1);
  });

  it('ignores an unsolicited reply for an unknown neighbor (no cache poisoning)', () => {
    const { arp } = setup();
    expect(feed(arp, ARP_REPLY_FROM_NEXT_HOP, 0)).toBe(-1);
    expect(arp.neighbors.lookup(GATEWAY)).toBe(-1);
  });

  it('defends the TEP against a conflicting sender at most once per 10 s (RFC 5227 §2.4)', () => {
    const { transmit, arp } = setup();
    feed(arp, ARP_CONFLICT, 0);
    feed(arp, ARP_CONFLICT, 5000);
    expect(sentOn(transmit, LinkPort.Black)).toEqual([ARP_ANNOUNCEMENT]);
    feed(arp, ARP_CONFLICT, 10_000);
    expect(transmit.blackCount).toBe(2);
    expect(arp.counters.addressConflicts).toBe(3);
    expect(arp.neighbors.lookup(0xc0000201)).toBe(-1);
  });

  it('counts truncated and non-Ethernet/IPv4 ARP as Malformed', () => {
    const { transmit, arp } = setup();
    expect(feed(arp, ARP_REQUEST_FOR_TEP.slice(0, 60), 0)).toBe(DropReason.Malformed);
    const ipx = ARP_REQUEST_FOR_TEP.slice(0, 32) + '8137' + ARP_REQUEST_FOR_TEP.slice(36);
    expect(feed(arp, ipx, 0)).toBe(DropReason.Malformed);
    expect(transmit.blackCount).toBe(0);
    expect(arp.counters.malformed).toBe(2);
  });
});
