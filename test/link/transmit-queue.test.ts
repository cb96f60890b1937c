import { describe, expect, it } from 'vitest';
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
});
