import { describe, expect, it } from 'vitest';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { LinkPort, LinkTransmitQueue } from '../../src/link/transmit-queue.js';

describe('LinkTransmitQueue', () => {
  it('hands out slots in order, keeps per-port lists, and reuses an uncommitted claim', () => {
    const q = new LinkTransmitQueue({ count: 3, slotSize: 256 });
    const a = q.claim();
    q.commit(LinkPort.Black, 60);
    const abandoned = q.claim();
    const b = q.claim();
    expect(b).toBe(abandoned);
    q.commit(LinkPort.Red, 100);
    expect([a, b]).toEqual([0, 256]);
    expect(Array.from(q.black.subarray(0, q.blackCount))).toEqual([0]);
    expect(Array.from(q.red.subarray(0, q.redCount))).toEqual([1]);
    expect([q.slots.start[1], q.slots.length[1]]).toEqual([256, 100]);
  });

  it('refuses claims when full and counts them, until cleared', () => {
    const q = new LinkTransmitQueue({ count: 1, slotSize: 256 });
    q.claim();
    q.commit(LinkPort.Red, 64);
    expect(q.claim()).toBe(-1);
    expect(q.overflows).toBe(1);
    q.clear();
    expect([q.redCount, q.blackCount]).toEqual([0, 0]);
    expect(q.claim()).toBe(0);
  });

  it('routes the red frames queued since a mark: takeLocal copies them out, in order, and clear forgets them', () => {
    const q = new LinkTransmitQueue({ count: 4, slotSize: 256 });
    const queue = (port: LinkPort, length: number) => {
      const off = q.claim();
      q.slots.bytes[off] = length;
      q.commit(port, length);
    };
    queue(LinkPort.Red, 60);
    const mark = q.redCount;
    queue(LinkPort.Black, 70);
    queue(LinkPort.Red, 80);
    queue(LinkPort.Red, 90);
    q.routeLocally(mark);
    expect(Array.from(q.red.subarray(0, q.redCount))).toEqual([0]);
    expect(Array.from(q.black.subarray(0, q.blackCount))).toEqual([1]);
    const local = new FrameSlots({ count: 8, slotSize: 256, headroom: 64 });
    expect(q.takeLocal(local)).toBe(2);
    expect([local.start[0], local.length[0], local.bytes[local.start[0]]]).toEqual([64, 80, 80]);
    expect([local.start[1], local.length[1], local.bytes[local.start[1]]]).toEqual([256 + 64, 90, 90]);
    expect(q.takeLocal(local)).toBe(0);
    q.routeLocally(0);
    q.clear();
    expect(q.takeLocal(local)).toBe(0);
  });

  it('counts a routed frame that does not fit the slots it is taken into as an overflow', () => {
    const q = new LinkTransmitQueue({ count: 2, slotSize: 256 });
    q.claim();
    q.commit(LinkPort.Red, 200);
    q.routeLocally(0);
    expect(q.takeLocal(new FrameSlots({ count: 1, slotSize: 256, headroom: 64 }))).toBe(0);
    expect(q.overflows).toBe(1);
  });
});
