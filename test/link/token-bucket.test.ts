import { describe, expect, it } from 'vitest';
import { TokenBucket } from '../../src/link/token-bucket.js';

describe('TokenBucket', () => {
  it('allows a burst, then refills at the configured rate up to the burst', () => {
    const bucket = new TokenBucket(2, 3);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(499)).toBe(false);
    expect(bucket.take(500)).toBe(true);
    // A long pause refills only up to the burst.
    const taken = [];
    for (let i = 0; i < 5; i++) taken.push(bucket.take(100_000));
    expect(taken).toEqual([true, true, true, false, false]);
  });

  it('does not refill when the clock goes backwards', () => {
    const bucket = new TokenBucket(1000, 1);
    expect(bucket.take(10_000)).toBe(true);
    expect(bucket.take(5000)).toBe(false);
    expect(bucket.take(10_000)).toBe(false);
    expect(bucket.take(10_001)).toBe(true);
  });
});
