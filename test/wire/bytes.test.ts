import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { copyBytes, inRange, readU16, readU32, readU48, writeU16, writeU32, writeU48 } from '../../src/wire/bytes.js';

describe('big-endian fields', () => {
  it('reads network byte order, 32-bit values unsigned', () => {
    const b = new Uint8Array([0xc0, 0x00, 0x02, 0x01, 0xff, 0xee]);
    expect(readU16(b, 0)).toBe(0xc000);
    expect(readU32(b, 0)).toBe(0xc0000201);
    expect(readU48(b, 0)).toBe(0xc0000201ffee);
  });

  it('writes what it reads for every value', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffff }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 2 ** 48 - 1 }), (a, b, c) => {
        const buf = new Uint8Array(12);
        writeU16(buf, 0, a);
        writeU32(buf, 2, b);
        writeU48(buf, 6, c);
        expect([readU16(buf, 0), readU32(buf, 2), readU48(buf, 6)]).toEqual([a, b, c]);
      }),
    );
  });
});

describe('copyBytes', () => {
  it('copies between buffers and handles overlap inside one buffer in both directions', () => {
    const src = new Uint8Array([1, 2, 3, 4]);
    const dst = new Uint8Array(6);
    copyBytes(dst, 1, src, 0, 4);
    expect(dst).toEqual(new Uint8Array([0, 1, 2, 3, 4, 0]));
    const forward = new Uint8Array([1, 2, 3, 4, 5, 0, 0]);
    copyBytes(forward, 2, forward, 0, 5);
    expect(forward).toEqual(new Uint8Array([1, 2, 1, 2, 3, 4, 5]));
    const backward = new Uint8Array([0, 0, 1, 2, 3, 4, 5]);
    copyBytes(backward, 0, backward, 2, 5);
    expect(backward).toEqual(new Uint8Array([1, 2, 3, 4, 5, 4, 5]));
  });
});

describe('inRange', () => {
  it('accepts ranges inside the buffer only', () => {
    const b = new Uint8Array(10);
    expect(inRange(b, 0, 10)).toBe(true);
    expect(inRange(b, 10, 0)).toBe(true);
    expect(inRange(b, 1, 10)).toBe(false);
    expect(inRange(b, -1, 2)).toBe(false);
    expect(inRange(b, 0, -1)).toBe(false);
    expect(inRange(b, Number.NaN, 1)).toBe(false);
    expect(inRange(b, 0.5, 1)).toBe(false);
  });
});
