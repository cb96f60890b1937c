import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DropCounters, DropReason } from '../../src/dataplane/drop-reason.js';
import {
  Ipv4NeighborTable, Ipv6NeighborTable, NeighborSend, NeighborState, type NeighborTableOptions,
} from '../../src/link/neighbor-table.js';
import { LinkTransmitQueue } from '../../src/link/transmit-queue.js';

const OPTIONS: NeighborTableOptions = {
  capacity: 8,
  pendingPerNeighbor: 3,
  pendingFrames: 16,
  frameCapacity: 256,
  retransmitMs: 1000,
  maxSolicitations: 3,
  reachableMs: 30_000,
};

function setup(options: Partial<NeighborTableOptions> = {}, transmitFrames = 32) {
  const transmit = new LinkTransmitQueue({ count: transmitFrames, slotSize: 256 });
  const drops = new DropCounters();
  const table = new Ipv4NeighborTable({ ...OPTIONS, ...options }, transmit, drops);
  const solicitations: { address: number; unicastMac: number }[] = [];
  table.attach({ solicit: (entry, unicastMac) => solicitations.push({ address: table.addressOf(entry), unicastMac }) });
  return { transmit, drops, table, solicitations };
}

const A = 0xc0000201;
const frame = (marker: number) => Uint8Array.from({ length: 64 }, (_, i) => (i < 6 ? 0 : marker));

describe('NeighborTable', () => {
  it('creates STALE entries from unsolicited addresses and updates a changed MAC (RFC 4861 §7.2.3)', () => {
    const { table } = setup();
    table.learn(A, 0x0200_0000_0001, 0);
    const e = table.lookup(A);
    expect(table.stateOf(e)).toBe(NeighborState.Stale);
    table.learn(A, 0x0200_0000_0002, 1);
    expect(table.macOf(table.lookup(A))).toBe(0x0200_0000_0002);
    expect(table.counters.addressChanges).toBe(1);
  });

  it('keys an IPv4 address the same as u32 and as int32 bit pattern', () => {
    const { table } = setup();
    table.learn(A | 0, 0x0200_0000_0001, 0);
    expect(table.lookup(A)).toBe(table.lookup(A | 0));
    expect(table.addressOf(table.lookup(A | 0))).toBe(A);
    expect(table.send(frame(1), 0, 64, A | 0, 1)).toBe(NeighborSend.Addressed);
  });

  it('applies the Override flag (RFC 4861 §7.2.5): O clear keeps the MAC and downgrades REACHABLE to STALE', () => {
    const { table } = setup();
    table.send(frame(1), 0, 64, A, 0);
    table.confirm(A, 0x0200_0000_0001, true, false, 0);
    expect(table.stateOf(table.lookup(A))).toBe(NeighborState.Reachable);
    table.confirm(A, 0x0200_0000_0009, true, false, 10);
    expect(table.stateOf(table.lookup(A))).toBe(NeighborState.Stale);
    expect(table.macOf(table.lookup(A))).toBe(0x0200_0000_0001);
    table.confirm(A, 0x0200_0000_0009, false, true, 20);
    expect(table.macOf(table.lookup(A))).toBe(0x0200_0000_0009);
    expect(table.stateOf(table.lookup(A))).toBe(NeighborState.Stale);
  });

  it('ignores an advertisement without a link-layer address for an INCOMPLETE entry', () => {
    const { table } = setup();
    table.send(frame(1), 0, 64, A, 0);
    table.confirm(A, -1, true, true, 1);
    expect(table.stateOf(table.lookup(A))).toBe(NeighborState.Incomplete);
  });

  it('evicts the least recently used STALE entry for new information, never a REACHABLE one', () => {
    const { table } = setup({ capacity: 4 });
    for (let i = 0; i < 4; i++) table.learn(A + i, 0x0200_0000_0000 + i, i);
    table.send(frame(1), 0, 64, A + 1, 10); // touches A+1
    table.learn(A + 10, 0x0200_0000_0010, 20);
    expect(table.lookup(A)).toBe(-1);
    expect(table.lookup(A + 1)).toBeGreaterThanOrEqual(0);
    expect(table.lookup(A + 10)).toBeGreaterThanOrEqual(0);

    const full = setup({ capacity: 2 });
    for (let i = 0; i < 2; i++) {
      full.table.send(frame(1), 0, 64, A + i, 0);
      full.table.confirm(A + i, 0x0200_0000_0000 + i, true, true, 0);
    }
    full.table.learn(A + 5, 0x0200_0000_0005, 1);
    expect(full.table.lookup(A + 5)).toBe(-1);
    expect(full.table.size).toBe(2);
  });

  it('lets at most a quarter of the table be INCOMPLETE (RFC 6583 §7.1), dropping the oldest resolution', () => {
    const { table, drops } = setup({ capacity: 8 });
    expect(table.send(frame(1), 0, 64, A, 0)).toBe(NeighborSend.Queued);
    expect(table.send(frame(2), 0, 64, A + 1, 1)).toBe(NeighborSend.Queued);
    expect(table.send(frame(3), 0, 64, A + 2, 2)).toBe(NeighborSend.Queued);
    expect(table.lookup(A)).toBe(-1);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(1);
    expect(table.counters.evicted).toBe(1);
  });

  it('drops new frames when the shared pool is exhausted', () => {
    const { table, drops } = setup({ pendingFrames: 2, pendingPerNeighbor: 3 });
    expect(table.send(frame(1), 0, 64, A, 0)).toBe(NeighborSend.Queued);
    expect(table.send(frame(2), 0, 64, A, 0)).toBe(NeighborSend.Queued);
    expect(table.send(frame(3), 0, 64, A, 0)).toBe(NeighborSend.Dropped);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(1);
    expect(table.queuedFrames(table.lookup(A))).toBe(2);
  });

  it('drops frames larger than the pool slots', () => {
    const { table, drops } = setup();
    expect(table.send(new Uint8Array(300), 0, 300, A, 0)).toBe(NeighborSend.Dropped);
    expect(drops.counts[DropReason.NeighborUnresolved]).toBe(1);
  });

  it('counts released frames that find the transmit queue full as TxError', () => {
    const { table, drops, transmit } = setup({}, 2);
    table.send(frame(1), 0, 64, A, 0); // the solicitation goes to the fake solicitor, not the queue
    table.send(frame(2), 0, 64, A, 0);
    table.send(frame(3), 0, 64, A, 0);
    table.confirm(A, 0x0200_0000_0001, true, true, 1);
    expect(transmit.blackCount).toBe(2);
    expect(drops.counts[DropReason.TxError]).toBe(1);
  });

  it('solicits by multicast while INCOMPLETE and by unicast to the cached MAC for a STALE entry in use', () => {
    const { table, solicitations } = setup();
    table.send(frame(1), 0, 64, A, 0);
    expect(solicitations).toEqual([{ address: A, unicastMac: -1 }]);
    table.confirm(A, 0x0200_0000_0001, true, true, 100);
    table.poll(30_100); // REACHABLE -> STALE
    expect(table.stateOf(table.lookup(A))).toBe(NeighborState.Stale);
    expect(table.send(frame(1), 0, 64, A, 30_200)).toBe(NeighborSend.Addressed);
    table.poll(35_200);
    expect(solicitations.at(-1)).toEqual({ address: A, unicastMac: 0x0200_0000_0001 });
  });

  it('lists entries for status output', () => {
    const transmit = new LinkTransmitQueue({ count: 4 });
    const table = new Ipv6NeighborTable(OPTIONS, transmit, new DropCounters());
    table.attach({ solicit: () => {} });
    const address = Uint8Array.from(Buffer.from('20010db8000100000000000000000200', 'hex'));
    table.learn(address, 0, 0x00005e0053bb, 0);
    table.send(frame(1), 0, 64, Uint8Array.from(Buffer.from('20010db8000100000000000000000300', 'hex')), 0, 0);
    expect(table.snapshot()).toEqual([
      { address: '2001:db8:1::200', mac: '00:00:5e:00:53:bb', state: 'stale', queuedFrames: 0 },
      { address: '2001:db8:1::300', mac: '', state: 'incomplete', queuedFrames: 1 },
    ]);
  });

  it('keeps every entry findable through any sequence of learning, resolution, eviction and expiry', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('learn' as const), address: fc.integer({ min: 0, max: 40 }), mac: fc.integer({ min: 1, max: 5 }) }),
      fc.record({ kind: fc.constant('send' as const), address: fc.integer({ min: 0, max: 40 }) }),
      fc.record({ kind: fc.constant('confirm' as const), address: fc.integer({ min: 0, max: 40 }), mac: fc.integer({ min: 1, max: 5 }), solicited: fc.boolean(), override: fc.boolean() }),
      fc.record({ kind: fc.constant('advance' as const), ms: fc.integer({ min: 0, max: 40_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
        const { table, transmit } = setup({ capacity: 8, pendingFrames: 6 });
        let now = 0;
        for (const o of ops) {
          if (o.kind === 'learn') table.learn(A + o.address, o.mac, now);
          else if (o.kind === 'send') table.send(frame(1), 0, 64, A + o.address, now);
          else if (o.kind === 'confirm') table.confirm(A + o.address, o.mac, o.solicited, o.override, now);
          else {
            now += o.ms;
            table.poll(now);
          }
          transmit.clear();
          const rows = table.snapshot();
          expect(rows.length).toBe(table.size);
          expect(table.size).toBeLessThanOrEqual(8);
          for (let address = 0; address <= 40; address++) {
            const e = table.lookup(A + address);
            if (e >= 0) expect(table.addressOf(e)).toBe(A + address);
          }
          let found = 0;
          for (let address = 0; address <= 40; address++) if (table.lookup(A + address) >= 0) found++;
          expect(found).toBe(table.size);
          const incomplete = rows.filter((r) => r.state === 'incomplete').length;
          expect(incomplete).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: 200 },
    );
  });
});
