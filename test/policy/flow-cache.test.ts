import { describe, expect, it } from 'vitest';
import { FlowCache } from '../../src/policy/flow-cache.js';
import { PacketSelectors } from '../../src/policy/packet-selectors.js';
import { PORT_OPAQUE } from '../../src/policy/selectors.js';

function selectors(remoteLow: number, port = 53): PacketSelectors {
  const p = new PacketSelectors();
  p.family = 6;
  p.local.set([0x20010db8, 0x000a0000, 0, 0x10]);
  p.remote.set([0x20010db8, 0x000b0000, 0xffffffff, remoteLow]);
  p.protocol = 17;
  p.localPort = 40000;
  p.remotePort = port;
  return p;
}

describe('FlowCache', () => {
  it('hands back the stored decision for the same selectors and context only', () => {
    const cache = new FlowCache(16);
    const p = selectors(0x10);
    expect(cache.find(p, 1)).toBe(-1);
    const e = cache.store(p, 1, 7, -1);
    expect(cache.find(p, 1)).toBe(e);
    expect([cache.first[e], cache.second[e]]).toEqual([7, -1]);
    // Any other key word, or another context, is a different flow.
    expect(cache.find(p, 2)).toBe(-1);
    expect(cache.find(selectors(0x11), 1)).toBe(-1);
    expect(cache.find(selectors(0x10, 54), 1)).toBe(-1);
    const opaque = selectors(0x10);
    opaque.remotePort = PORT_OPAQUE;
    expect(cache.find(opaque, 1)).toBe(-1);
    expect(cache.counters).toMatchObject({ hits: 1, misses: 5 });
  });

  // Pairs of flows that differ in one key field only: find a pair that lands in the same entry,
  // then the one stored first must miss (every key word tells flows apart).
  const variants: [string, (p: PacketSelectors) => void][] = [
    ['family', (p) => { p.family = 4; }],
    ...[0, 1, 2, 3].map((w): [string, (p: PacketSelectors) => void] => [`local word ${w}`, (p) => { p.local[w] ^= 1; }]),
    ...[0, 1, 2, 3].map((w): [string, (p: PacketSelectors) => void] => [`remote word ${w}`, (p) => { p.remote[w] ^= 0x100; }]),
    ['protocol', (p) => { p.protocol = 6; }],
    ['local port', (p) => { p.localPort = 40001; }],
    ['remote port', (p) => { p.remotePort = PORT_OPAQUE; }],
  ];
  it.each(variants)('a flow that differs only in %s and takes the same entry replaces it, never answers for it', (_, vary) => {
    const cache = new FlowCache(16);
    let collided = false;
    for (let base = 0; base < 1000 && !collided; base++) {
      const first = selectors(base);
      const second = selectors(base);
      vary(second);
      const e = cache.store(first, 0, 1, 0);
      if (cache.store(second, 0, 2, 0) !== e) continue;
      collided = true;
      expect(cache.find(first, 0)).toBe(-1);
      expect(cache.first[cache.find(second, 0)]).toBe(2);
    }
    expect(collided).toBe(true);
  });

  it('flows that differ only in context collide and stay apart', () => {
    const cache = new FlowCache(16);
    const p = selectors(0x10);
    for (let c = 0; c < 64; c++) cache.store(p, c, c, 0);
    for (let c = 0; c < 64; c++) {
      const e = cache.find(p, c);
      if (e >= 0) expect(cache.first[e]).toBe(c);
    }
  });

  it('never stores unfilled selectors', () => {
    const cache = new FlowCache(16);
    expect(cache.store(new PacketSelectors(), 0, 1, 1)).toBe(-1);
  });

  it('rejects a size that is not a power of two in range', () => {
    for (const bad of [0, 8, 100, 1 << 21, 1.5]) expect(() => new FlowCache(bad)).toThrow(/power of two from 16/);
  });
});
