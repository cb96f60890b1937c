import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAC_AGEING_MS, MAC_REFRESH_MS, MacLearningTable } from '../../src/dataplane/mac-learning.js';

/** A 48-bit MAC as the table's halves: the first 2 bytes, and the last 4 as an int32 bit pattern. */
const hi = (mac: number) => Math.floor(mac / 2 ** 32);
const lo = (mac: number) => mac % 2 ** 32 | 0;
const learn = (t: MacLearningTable, mac: number, side: number, now: number) => t.learn(hi(mac), lo(mac), side, now);
const sideOf = (t: MacLearningTable, mac: number, now: number) => t.sideOf(hi(mac), lo(mac), now);

describe('MAC learning (IEEE 802.1D)', () => {
  it('remembers the side a station was last seen on, and forgets it after the ageing time', () => {
    const t = new MacLearningTable(64);
    expect(sideOf(t, 0x020000000001, 0)).toBe(-1);
    learn(t, 0x020000000001, 0, 1000);
    learn(t, 0x020000000002, 1, 1000);
    expect(sideOf(t, 0x020000000001, 1000)).toBe(0);
    expect(sideOf(t, 0x020000000002, 1000)).toBe(1);
    learn(t, 0x020000000001, 1, 2000); // the station moved
    expect(sideOf(t, 0x020000000001, 2000)).toBe(1);
    expect(sideOf(t, 0x020000000001, 2000 + MAC_AGEING_MS)).toBe(-1);
  });

  it('tells apart MACs that differ only in the high half, or only in the sign bit of the low half', () => {
    const t = new MacLearningTable(64);
    learn(t, 0x02000000_0001, 0, 0);
    learn(t, 0x03000000_0001, 1, 0);
    learn(t, 0x02008000_0001, 1, 0);
    expect(sideOf(t, 0x02000000_0001, 0)).toBe(0);
    expect(sideOf(t, 0x03000000_0001, 0)).toBe(1);
    expect(sideOf(t, 0x02008000_0001, 0)).toBe(1);
  });

  it('refreshes a steady station at most once per MAC_REFRESH_MS, but records a move at once', () => {
    const t = new MacLearningTable(64);
    const a = 0x020000000001;
    learn(t, a, 0, 0);
    learn(t, a, 0, MAC_REFRESH_MS - 1); // not re-recorded: the entry still dates from 0
    expect(sideOf(t, a, MAC_AGEING_MS)).toBe(-1);
    learn(t, a, 0, MAC_REFRESH_MS); // re-recorded
    expect(sideOf(t, a, MAC_AGEING_MS)).toBe(0);
    learn(t, a, 1, MAC_REFRESH_MS + 1);
    expect(sideOf(t, a, MAC_REFRESH_MS + 1)).toBe(1);
    learn(t, 0x020000000002, 0, MAC_REFRESH_MS + 2);
    learn(t, a, 0, MAC_REFRESH_MS + 3); // another station came in between: recorded
    expect(sideOf(t, a, MAC_REFRESH_MS + 3)).toBe(0);
  });

  it('agrees with a map for any sequence of learns within capacity', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 1 })), { maxLength: 100 }), (ops) => {
        const t = new MacLearningTable(256);
        const model = new Map<number, number>();
        for (const [mac, side] of ops) {
          learn(t, mac, side, 0);
          model.set(mac, side);
        }
        for (const [mac, side] of model) if (sideOf(t, mac, 0) !== side && sideOf(t, mac, 0) !== -1) return false;
        return true;
      }),
    );
  });
});
