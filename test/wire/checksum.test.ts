import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checksumAdjust16, internetChecksum, ipv6PseudoHeaderSum } from '../../src/wire/checksum.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('internet checksum (RFC 1071)', () => {
  it('matches the RFC 1071 §3 numerical example (sum 0xddf2)', () => {
    const bytes = hex('0001 f203 f4f5 f6f7');
    expect(internetChecksum(bytes, 0, 8)).toBe(0x220d);
  });

  it('pads an odd final byte with zero and honours the range offset', () => {
    const bytes = hex('ff 0001 f203 f4f5 f6f7 ab');
    expect(internetChecksum(bytes, 1, 8)).toBe(0x220d);
    // 0xddf2 + 0xab00 = 0x188f2 -> 0x88f3, complemented 0x770c
    expect(internetChecksum(bytes, 1, 9)).toBe(0x770c);
  });

  it('chains ranges through the initial sum', () => {
    const bytes = hex('0001 f203 f4f5 f6f7');
    // 0x0001 + 0xf203: the sum of the first four bytes.
    expect(internetChecksum(bytes, 4, 4, 0xf204)).toBe(0x220d);
  });

  it('verifies to zero over a real IPv4 header (checksum 0xb861)', () => {
    const header = hex('4500 0073 0000 4000 4011 b861 c0a8 0001 c0a8 00c7');
    expect(internetChecksum(header, 0, 20)).toBe(0);
    header[10] = 0;
    header[11] = 0;
    expect(internetChecksum(header, 0, 20)).toBe(0xb861);
  });

  it('gives the UDP checksum scapy computed for IPv6 with the RFC 8200 §8.1 pseudo-header', () => {
    const packet = hex(
      '6b912345000a1140 20010db8000000000000000000000001 20010db8000000000000000000000002 13881770000a1104 6869',
    );
    const pseudo = ipv6PseudoHeaderSum(packet, 8, 24, 17, 10);
    expect(internetChecksum(packet, 40, 10, pseudo)).toBe(0);
    packet[46] = 0;
    packet[47] = 0;
    expect(internetChecksum(packet, 40, 10, pseudo)).toBe(0x1104);
  });
});

describe('incremental update (RFC 1624)', () => {
  it('reproduces the RFC 1624 §4 example', () => {
    expect(checksumAdjust16(0xdd2f, 0x5555, 0x3285)).toBe(0x0000);
  });

  const header = fc.uint8Array({ minLength: 20, maxLength: 20 }).map((b) => {
    b[0] = 0x45; // never all-zero, like every real header
    b[10] = 0;
    b[11] = 0;
    return b;
  });

  it('equals a full recomputation after any 16-bit change', () => {
    fc.assert(
      fc.property(header, fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 0xffff }), (b, word, value) => {
        if (word === 5) return; // the checksum word itself
        const before = internetChecksum(b, 0, 20);
        const old = (b[word * 2] << 8) | b[word * 2 + 1];
        b[word * 2] = value >>> 8;
        b[word * 2 + 1] = value & 0xff;
        expect(checksumAdjust16(before, old, value)).toBe(internetChecksum(b, 0, 20));
      }),
    );
  });
});
