import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type Box, subtractBox, uncoveredPart } from '../../src/policy/selector-space.js';

const DIMS = 3;
const coord = fc.integer({ min: 0, max: 7 });
const box = fc.tuple(fc.array(fc.tuple(coord, coord), { minLength: DIMS, maxLength: DIMS }), fc.constantFrom<4 | 6>(4, 6)).map(([spans, family]): Box => ({
  family,
  lo: spans.map(([a, b]) => BigInt(Math.min(a, b))),
  hi: spans.map(([a, b]) => BigInt(Math.max(a, b))),
}));
const point = fc.tuple(fc.array(coord, { minLength: DIMS, maxLength: DIMS }), fc.constantFrom<4 | 6>(4, 6));

function contains(b: Box, [coords, family]: [number[], 4 | 6]): boolean {
  return b.family === family && coords.every((c, d) => BigInt(c) >= b.lo[d] && BigInt(c) <= b.hi[d]);
}

describe('box algebra', () => {
  it('a minus b holds exactly the points of a outside b, in disjoint pieces (property)', () => {
    fc.assert(
      fc.property(box, box, fc.array(point, { minLength: 1, maxLength: 30 }), (a, b, points) => {
        const pieces = subtractBox(a, b);
        for (const p of points) {
          const inside = pieces.filter((piece) => contains(piece, p)).length;
          expect(inside).toBe(contains(a, p) && !contains(b, p) ? 1 : 0);
        }
      }),
      { numRuns: 500 },
    );
  });

  it('uncoveredPart is empty exactly when the cutters cover the region (property)', () => {
    fc.assert(
      fc.property(box, fc.array(box, { maxLength: 5 }), (region, cutters) => {
        const rest = uncoveredPart([region], cutters);
        expect(rest).not.toBeNull();
        // Exhaustive check over the small grid.
        let uncovered = false;
        for (let x = 0; x < 8 && !uncovered; x++)
          for (let y = 0; y < 8 && !uncovered; y++)
            for (let z = 0; z < 8 && !uncovered; z++) {
              const p: [number[], 4 | 6] = [[x, y, z], region.family];
              if (contains(region, p) && !cutters.some((c) => contains(c, p))) uncovered = true;
            }
        expect(rest?.length === 0).toBe(!uncovered);
      }),
      { numRuns: 300 },
    );
  });

  it('gives up (null) instead of growing past the piece limit', () => {
    const region: Box = { family: 4, lo: [0n, 0n, 0n], hi: [1000n, 1000n, 1000n] };
    const holes: Box[] = Array.from({ length: 20 }, (_, i) => ({ family: 4, lo: [BigInt(i * 40 + 1), BigInt(i * 40 + 1), BigInt(i * 40 + 1)], hi: [BigInt(i * 40 + 2), BigInt(i * 40 + 2), BigInt(i * 40 + 2)] }));
    expect(uncoveredPart([region], holes, 50)).toBeNull();
    expect(uncoveredPart([region], holes)?.length).toBeGreaterThan(50);
  });
});
