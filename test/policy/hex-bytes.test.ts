import { describe, expect, it } from 'vitest';
import { decodeHex } from '../../src/policy/hex-bytes.js';

describe('decodeHex', () => {
  it('decodes an even number of hex digits of either case into fresh bytes', () => {
    expect(Array.from(decodeHex('00aBff10')!)).toEqual([0x00, 0xab, 0xff, 0x10]);
    const bytes = decodeHex('0102')!;
    expect(bytes).toBeInstanceOf(Uint8Array);
    expect([bytes.byteOffset, bytes.buffer.byteLength]).toEqual([0, 2]); // its own buffer, not a pooled one
  });

  it('refuses empty, odd and non-hex text (prefixes and separators are the caller\'s)', () => {
    for (const text of ['', 'abc', '0x01', '01 02', '01:02', 'zz']) expect(decodeHex(text)).toBeNull();
  });
});
