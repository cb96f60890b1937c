import fc from 'fast-check';
import { isIPv6 } from 'node:net';
import { describe, expect, it } from 'vitest';
import {
  addressOfBytes,
  formatAddress,
  formatAddressBytes,
  formatAddressRange,
  parseAddressRange,
  parsePrefix,
  parsePrefixLength,
  parseIpv4,
  parseIpv6,
  readAddressWords,
  writeAddressWords,
} from '../../src/policy/address-text.js';

describe('IPv4 text', () => {
  it('parses dotted quads and rejects octets above 255, leading zeros and short forms', () => {
    expect(parseIpv4('192.0.2.1')).toBe(0xc0000201n);
    expect(parseIpv4('255.255.255.255')).toBe(0xffffffffn);
    expect(parseIpv4('192.0.2.256')).toBeNull();
    expect(parseIpv4('192.0.2.01')).toBeNull();
    expect(parseIpv4('192.0.2')).toBeNull();
    expect(parseIpv4(' 192.0.2.1')).toBeNull();
  });
});

describe('IPv6 text (RFC 4291 §2.2)', () => {
  it('parses full, compressed and dotted-quad forms', () => {
    expect(parseIpv6('2001:db8:0:0:0:0:0:1')).toBe(0x20010db8000000000000000000000001n);
    expect(parseIpv6('2001:db8::1')).toBe(0x20010db8000000000000000000000001n);
    expect(parseIpv6('::')).toBe(0n);
    expect(parseIpv6('::1')).toBe(1n);
    expect(parseIpv6('2001:db8::')).toBe(0x20010db8n << 96n);
    expect(parseIpv6('::ffff:192.0.2.1')).toBe(0xffffc0000201n);
    expect(parseIpv6('::192.0.2.1')).toBe(0xc0000201n);
    expect(parseIpv6('2001:db8:1:2:3:4:192.0.2.1')).toBe(0x20010db8000100020003000400000000n | 0xc0000201n);
  });

  it('rejects malformed text', () => {
    for (const bad of ['2001:db8::1::2', '2001:db8:::1', '1:2:3:4:5:6:7:8:9', '1:2:3:4:5:6:7', '12345::', 'g::1', ':1::', '1::2:', '::ffff:192.0.2.256', '1:2:3:4:5:6:7::8']) {
      expect(parseIpv6(bad), bad).toBeNull();
    }
  });

  it('formats canonically (RFC 5952 §4) and round-trips random addresses', () => {
    expect(formatAddress(6, 0x20010db8000000000000000000000001n)).toBe('2001:db8::1');
    expect(formatAddress(6, 0x20010db8000000010000000000000001n)).toBe('2001:db8:0:1::1');
    expect(formatAddress(6, 0x20010db8000100000001000000000000n)).toBe('2001:db8:1:0:1::');
    expect(formatAddress(6, 0n)).toBe('::');
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
        const text = formatAddress(6, v);
        expect(isIPv6(text)).toBe(true);
        expect(parseIpv6(text)).toBe(v);
      }),
    );
  });
});

describe('address ranges', () => {
  it('parses prefixes, ranges and single addresses', () => {
    expect(parseAddressRange('192.0.2.0/24')).toEqual({ family: 4, lo: 0xc0000200n, hi: 0xc00002ffn });
    expect(parseAddressRange('2001:db8::/32')).toEqual({ family: 6, lo: 0x20010db8n << 96n, hi: (0x20010db8n << 96n) | ((1n << 96n) - 1n) });
    expect(parseAddressRange('192.0.2.10-192.0.2.20')).toEqual({ family: 4, lo: 0xc000020an, hi: 0xc0000214n });
    expect(parseAddressRange('203.0.113.7')).toEqual({ family: 4, lo: 0xcb007107n, hi: 0xcb007107n });
  });

  it('explains what is wrong and how to fix it', () => {
    expect(parseAddressRange('2001:db8::/129')).toMatch(/^is not a valid IPv6 prefix: the length must be 0 to 128/);
    expect(parseAddressRange('192.0.2.0/33')).toMatch(/IPv4 prefix: the length must be 0 to 32/);
    expect(parseAddressRange('192.0.2.1/24')).toBe('is not a valid IPv4 prefix: host bits are set; use "192.0.2.0/24"');
    expect(parseAddressRange('192.0.2.9-192.0.2.1')).toMatch(/first address is above the last/);
    expect(parseAddressRange('192.0.2.1-2001:db8::1')).toMatch(/same family/);
    expect(parseAddressRange('example.com')).toMatch(/not a valid IPv4 or IPv6 address/);
  });

  it('parses prefixes with their length; the length rule is parsePrefixLength\'s', () => {
    expect(parsePrefix('2001:db8:b::/48')).toEqual({ range: parseAddressRange('2001:db8:b::/48'), length: 48 });
    expect(parsePrefix('0.0.0.0/0')).toEqual({ range: { family: 4, lo: 0n, hi: 0xffffffffn }, length: 0 });
    expect(parsePrefix('192.0.2.0')).toMatch(/IPv4 prefix: the length must be 0 to 32/);
    expect(parsePrefixLength('128', 6)).toBe(128);
    for (const [text, family] of [['33', 4], ['129', 6], ['024a', 4], ['', 6], ['+1', 4], ['1000', 6]] as const) {
      expect(parsePrefixLength(text, family)).toBeNull();
    }
  });

  it('formats a range back as an address, a prefix or first-last', () => {
    const text = (s: string) => {
      const r = parseAddressRange(s);
      if (typeof r === 'string') throw new Error(r);
      return formatAddressRange(r);
    };
    expect(text('192.0.2.0/24')).toBe('192.0.2.0/24');
    expect(text('192.0.2.0-192.0.2.255')).toBe('192.0.2.0/24');
    expect(text('192.0.2.1-192.0.2.255')).toBe('192.0.2.1-192.0.2.255');
    expect(text('2001:db8::/32')).toBe('2001:db8::/32');
    expect(text('2001:db8::5')).toBe('2001:db8::5');
  });
});

describe('address bytes', () => {
  it('reads 4 or 16 network-order bytes as the address and its text', () => {
    expect(addressOfBytes(Uint8Array.of(192, 0, 2, 1))).toBe(0xc0000201n);
    expect(formatAddressBytes(Uint8Array.of(192, 0, 2, 1))).toBe('192.0.2.1');
    expect(formatAddressBytes(Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1))).toBe('2001:db8::1');
  });
});

describe('address words', () => {
  it('round-trips through the u32 words the data plane compares', () => {
    const words = new Uint32Array(8);
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), fc.bigInt({ min: 0n, max: 0xffffffffn }), (v6, v4) => {
        writeAddressWords(6, v6, words, 4);
        writeAddressWords(4, v4, words, 0);
        expect(readAddressWords(6, words, 4)).toBe(v6);
        expect(readAddressWords(4, words, 0)).toBe(v4);
      }),
    );
  });
});
