import { describe, expect, it } from 'vitest';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { LinkPort, LinkTransmitQueue } from '../../src/link/transmit-queue.js';
import { writeU48 } from '../../src/wire/bytes.js';

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

  it('takes the red frames addressed to the router itself into other slots, leaving the rest in order', () => {
    const self = 0x02000000000a;
    const q = new LinkTransmitQueue({ count: 4, slotSize: 256 });
    const queue = (port: typeof LinkPort.Red | typeof LinkPort.Black, dst: number, length: number) => {
      const off = q.claim();
      writeU48(q.slots.bytes, off, dst);
      q.slots.bytes[off + 14] = length;
      q.commit(port, length);
    };
    queue(LinkPort.Red, 0x020000000a10, 60);
    queue(LinkPort.Red, self, 70);
    queue(LinkPort.Black, self, 80);
    queue(LinkPort.Red, self, 90);
    const local = new FrameSlots({ count: 8, slotSize: 256, headroom: 64 });
    expect(q.takeAddressedTo(self, local)).toBe(2);
    expect(Array.from(q.red.subarray(0, q.redCount))).toEqual([0]);
    expect(Array.from(q.black.subarray(0, q.blackCount))).toEqual([2]);
    expect([local.start[0], local.length[0], local.bytes[local.start[0] + 14]]).toEqual([64, 70, 70]);
    expect([local.start[1], local.length[1], local.bytes[local.start[1] + 14]]).toEqual([256 + 64, 90, 90]);
  });
});
