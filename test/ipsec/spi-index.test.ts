import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpiIndex } from '../../src/ipsec/spi-index.js';

describe('SpiIndex', () => {
  it('behaves like a Map for any sequence of add/delete/get, including SPIs above 2^31', () => {
    const spi = fc.oneof(fc.integer({ min: 256, max: 300 }), fc.integer({ min: 0, max: 0xffff_ffff }));
    const op = fc.tuple(fc.constantFrom('add', 'delete', 'get'), spi);
    fc.assert(fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
      const index = new SpiIndex<string>();
      const model = new Map<number, string>();
      for (const [kind, s] of ops) {
        if (kind === 'add') {
          const fresh = !model.has(s);
          expect(index.add(s, `v${s}`)).toBe(fresh);
          if (fresh) model.set(s, `v${s}`);
        } else if (kind === 'delete') expect(index.delete(s)).toBe(model.delete(s));
        else expect(index.get(s)).toBe(model.get(s) ?? null);
        expect(index.size).toBe(model.size);
      }
      for (const [s, v] of model) expect(index.get(s)).toBe(v);
    }), { numRuns: 200 });
  });
});
