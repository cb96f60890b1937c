import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAC_AGEING_MS, MacLearningTable } from '../../src/dataplane/mac-learning.js';

describe('MAC learning (IEEE 802.1D)', () => {
  it('remembers the side a station was last seen on, and forgets it after the ageing time', () => {
    const t = new MacLearningTable(64);
    expect(t.sideOf(0x020000000001, 0)).toBe(-1);
    t.learn(0x020000000001, 0, 1000);
    t.learn(0x020000000002, 1, 1000);
    expect(t.sideOf(0x020000000001, 1000)).toBe(0);
    expect(t.sideOf(0x020000000002, 1000)).toBe(1);
    t.learn(0x020000000001, 1, 2000); // the station moved
    expect(t.sideOf(0x020000000001, 2000)).toBe(1);
    expect(t.sideOf(0x020000000001, 2000 + MAC_AGEING_MS)).toBe(-1);
  });

  it('agrees with a map for any sequence of learns within capacity', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 1, max: 2 ** 48 - 1 }), fc.integer({ min: 0, max: 1 })), { maxLength: 100 }), (ops) => {
        const t = new MacLearningTable(256);
        const model = new Map<number, number>();
        for (const [mac, side] of ops) {
          t.learn(mac, side, 0);
          model.set(mac, side);
        }
        for (const [mac, side] of model) if (t.sideOf(mac, 0) !== side && t.sideOf(mac, 0) !== -1) return false;
        return true;
      }),
    );
  });
});
