import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/wire/checksum.js';
import { Ecn } from '../../src/wire/ecn.js';
import {
  decrementIpv4Ttl,
  Ipv4Header,
  isIpv4Fragment,
  parseIpv4,
  parseIpv4Quote,
  readIpv4Ecn,
  copyIpv4LaterFragmentHeader,
  setIpv4Fragment,
  setIpv4LengthAndProtocol,
  writeIpv4Ecn,
  writeIpv4Header,
} from '../../src/wire/ipv4.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** scapy: IP(src=192.0.2.1, dst=198.51.100.7, id=0x1234, DF, ttl=64, tos=0xb9, options=[RR(0.0.0.0), NOP]) / UDP(4500, 4500) / 0xff */
const WITH_OPTIONS = '47b90025 1234 4000 4011 2e97 c0000201 c6336407 07070400 00000001 1194 1194 0009 f176 ff';
/** scapy: IP(src=192.0.2.1, dst=203.0.113.9, id=0xabcd, MF, frag=185, ttl=1, proto=17) / 16 x 'A' */
const FRAGMENT = '45000024 abcd 20b9 0111 ef37 c0000201 cb007109' + '41'.repeat(16);

/** Re-seals the header checksum after a test mutates a field. */
function reseal(b: Uint8Array, off = 0): void {
  const ihl = (b[off] & 0x0f) * 4;
  b[off + 10] = 0;
  b[off + 11] = 0;
  const sum = internetChecksum(b, off, ihl);
  b[off + 10] = sum >>> 8;
  b[off + 11] = sum & 0xff;
}

describe('parseIpv4', () => {
  it('parses a header with options', () => {
    const b = hex(WITH_OPTIONS);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({
      headerLength: 28,
      tos: 0xb9,
      totalLength: 37,
      id: 0x1234,
      dontFragment: true,
      moreFragments: false,
      fragmentOffset: 0,
      ttl: 64,
      protocol: 17,
      checksum: 0x2e97,
      src: 0xc0000201,
      dst: 0xc6336407,
      payloadOffset: 28,
      payloadLength: 9,
    });
    expect(readIpv4Ecn(b, 0)).toBe(Ecn.Ect1);
    expect(isIpv4Fragment(h)).toBe(false);
  });

  it('parses at an offset and ignores link padding after total length', () => {
    const packet = hex(WITH_OPTIONS);
    const b = new Uint8Array(14 + packet.length + 9);
    b.set(packet, 14);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 14, b.length - 14, h)).toBe(WireStatus.Ok);
    expect(h.payloadOffset).toBe(14 + 28);
    expect(h.payloadLength).toBe(9);
  });

  it('reads fragment fields', () => {
    const b = hex(FRAGMENT);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h.moreFragments).toBe(true);
    expect(h.dontFragment).toBe(false);
    expect(h.fragmentOffset).toBe(185 * 8);
    expect(h.ttl).toBe(1);
    expect(isIpv4Fragment(h)).toBe(true);
  });

  it('reports every truncation as Truncated', () => {
    const b = hex(WITH_OPTIONS);
    const h = new Ipv4Header();
    for (let len = 0; len < b.length; len++) expect(parseIpv4(b, 0, len, h), `len ${len}`).toBe(WireStatus.Truncated);
  });

  it('rejects a range outside the buffer', () => {
    const b = hex(WITH_OPTIONS);
    const h = new Ipv4Header();
    expect(parseIpv4(b, -1, 20, h)).toBe(WireStatus.BadRange);
    expect(parseIpv4(b, 1, b.length, h)).toBe(WireStatus.BadRange);
    expect(parseIpv4(b, Number.NaN, 20, h)).toBe(WireStatus.BadRange);
  });

  it('rejects a wrong version', () => {
    const b = hex(WITH_OPTIONS);
    b[0] = 0x67;
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.BadVersion);
  });

  it('rejects IHL below 5', () => {
    const b = hex(WITH_OPTIONS);
    b[0] = 0x44;
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.BadHeaderLength);
  });

  it('rejects a total length shorter than the header', () => {
    const b = hex(WITH_OPTIONS);
    b[3] = 27;
    reseal(b);
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.BadTotalLength);
  });

  it('rejects a total length beyond the buffer as Truncated', () => {
    const b = hex(WITH_OPTIONS);
    b[3] = 38;
    reseal(b);
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.Truncated);
  });

  it('rejects a bad header checksum', () => {
    const b = hex(WITH_OPTIONS);
    b[11] ^= 1;
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.BadChecksum);
  });

  it('rejects malformed options', () => {
    const zeroLength = hex(WITH_OPTIONS);
    zeroLength[21] = 0; // RR option length 0
    reseal(zeroLength);
    expect(parseIpv4(zeroLength, 0, zeroLength.length, new Ipv4Header())).toBe(WireStatus.BadOption);
    const pastEnd = hex(WITH_OPTIONS);
    pastEnd[21] = 9; // 9 bytes from offset 20 run past the 28-byte header
    reseal(pastEnd);
    expect(parseIpv4(pastEnd, 0, pastEnd.length, new Ipv4Header())).toBe(WireStatus.BadOption);
    const lengthByteMissing = hex(WITH_OPTIONS);
    lengthByteMissing[27] = 0x44; // timestamp option type in the last byte, no room for its length
    reseal(lengthByteMissing);
    expect(parseIpv4(lengthByteMissing, 0, lengthByteMissing.length, new Ipv4Header())).toBe(WireStatus.BadOption);
  });

  it('stops at End of Option List', () => {
    const b = hex(WITH_OPTIONS);
    b[20] = 0; // EOL: the rest of the area is not examined
    b[21] = 0;
    reseal(b);
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.Ok);
  });

  it('rejects a fragment that would end past 65535 bytes', () => {
    const b = hex(FRAGMENT);
    b[6] = 0x3f; // MF + offset 0x1fff * 8 = 65528, plus 16 bytes of payload
    b[7] = 0xff;
    reseal(b);
    expect(parseIpv4(b, 0, b.length, new Ipv4Header())).toBe(WireStatus.BadFragment);
  });
});

describe('parseIpv4Quote', () => {
  it('accepts a header quoted with only 8 payload bytes', () => {
    const full = hex(WITH_OPTIONS);
    full[3] = 200; // the original datagram was longer than the quote
    const h = new Ipv4Header();
    expect(parseIpv4Quote(full, 0, 28 + 8, h)).toBe(WireStatus.Ok);
    expect(h.totalLength).toBe(200);
    expect(h.payloadLength).toBe(8);
    expect(parseIpv4(full, 0, 28 + 8, h)).toBe(WireStatus.Truncated);
  });

  it('still needs the whole header', () => {
    const b = hex(WITH_OPTIONS);
    expect(parseIpv4Quote(b, 0, 27, new Ipv4Header())).toBe(WireStatus.Truncated);
  });
});

describe('writeIpv4Header', () => {
  it('round-trips an option-less header byte for byte', () => {
    const b = hex(FRAGMENT);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    const out = new Uint8Array(24);
    expect(writeIpv4Header(out, 4, h)).toBe(20);
    expect(out.subarray(4)).toEqual(b.subarray(0, 20));
  });

  it('writes a fresh outer header that parses back', () => {
    const h = new Ipv4Header();
    h.tos = 0x02;
    h.totalLength = 20 + 60;
    h.id = 0xbeef;
    h.dontFragment = true;
    h.ttl = 64;
    h.protocol = 50;
    h.src = 0xcb007101; // 203.0.113.1
    h.dst = 0xc6336401; // 198.51.100.1
    const b = new Uint8Array(80);
    expect(writeIpv4Header(b, 0, h)).toBe(20);
    // scapy: IP(tos=2, len=80, id=0xbeef, flags=DF, ttl=64, proto=50, src=203.0.113.1, dst=198.51.100.1)
    expect(b.subarray(0, 20)).toEqual(hex('4502 0050 beef 4000 4032 1554 cb007101 c6336401'));
    const back = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, back)).toBe(WireStatus.Ok);
    expect(back).toMatchObject({ tos: 2, totalLength: 80, id: 0xbeef, dontFragment: true, ttl: 64, protocol: 50, src: 0xcb007101, dst: 0xc6336401 });
  });

  it('writes nothing when the header does not fit', () => {
    const b = new Uint8Array(19);
    expect(writeIpv4Header(b, 0, new Ipv4Header())).toBe(0);
    expect(b).toEqual(new Uint8Array(19));
  });
});

describe('TTL and ECN updates', () => {
  it('decrements the TTL and keeps the checksum valid', () => {
    const b = hex(WITH_OPTIONS);
    expect(decrementIpv4Ttl(b, 0)).toBe(WireStatus.Ok);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h.ttl).toBe(63);
  });

  it('refuses to forward TTL 1 and leaves the packet untouched', () => {
    const b = hex(FRAGMENT);
    expect(decrementIpv4Ttl(b, 0)).toBe(WireStatus.TtlExceeded);
    expect(b).toEqual(hex(FRAGMENT));
  });

  it('keeps the checksum valid for any header it decrements', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 2, max: 255 }), (b, ttl) => {
        b[0] = 0x45;
        b[2] = 0;
        b[3] = 20;
        b[6] &= 0x40; // no fragment offset
        b[8] = ttl;
        reseal(b);
        expect(decrementIpv4Ttl(b, 0)).toBe(WireStatus.Ok);
        expect(internetChecksum(b, 0, 20)).toBe(0);
        expect(b[8]).toBe(ttl - 1);
      }),
    );
  });

  it('sets Total Length and Protocol of any header and keeps the checksum valid (RFC 1624 §3)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 20, max: 0xffff }), fc.integer({ min: 0, max: 255 }), (b, total, protocol) => {
        b[0] = 0x45;
        reseal(b);
        const before = b.slice();
        setIpv4LengthAndProtocol(b, 0, total, protocol);
        expect(internetChecksum(b, 0, 20)).toBe(0);
        expect([(b[2] << 8) | b[3], b[9]]).toEqual([total, protocol]);
        // Nothing else changed.
        for (const k of [0, 1, 4, 5, 6, 7, 8, 12, 13, 14, 15, 16, 17, 18, 19]) expect(b[k]).toBe(before[k]);
      }),
    );
  });

  it('sets ECN CE without touching DSCP and keeps the checksum valid', () => {
    const b = hex(WITH_OPTIONS);
    writeIpv4Ecn(b, 0, Ecn.Ce);
    expect(readIpv4Ecn(b, 0)).toBe(Ecn.Ce);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h.tos).toBe(0xbb);
  });
});

describe('fragment headers (RFC 791 §3.2)', () => {
  /** A header with Record Route (not copied), NOP, and Stream ID (type 0x88: copied), then 8 payload bytes. */
  const ROUTED = '48000028 4242 0000 4032 0000 c0000201 c0000202 07070400 000000 01 88041234' + '00'.repeat(8);

  it('sets the fragment fields of a header, keeps DF and options, and the checksum verifies', () => {
    const b = hex(WITH_OPTIONS);
    setIpv4Fragment(b, 0, 0x25, 1480, true);
    const h = new Ipv4Header();
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect([h.moreFragments, h.fragmentOffset, h.dontFragment, h.headerLength]).toEqual([true, 1480, true, 28]);
    setIpv4Fragment(b, 0, 0x25, 0, false);
    expect(parseIpv4(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(isIpv4Fragment(h)).toBe(false);
    expect(b).toEqual(hex(WITH_OPTIONS));
  });

  it('copies only the options with the copied flag into a later fragment\'s header, padded to 32 bits', () => {
    const src = hex(ROUTED);
    reseal(src);
    expect(copyIpv4LaterFragmentHeader(null, 0, src, 0)).toBe(24);
    const dst = new Uint8Array(40).fill(0xee);
    expect(copyIpv4LaterFragmentHeader(dst, 4, src, 0)).toBe(24);
    expect(dst[4]).toBe(0x46);
    expect(dst.subarray(5, 24)).toEqual(src.subarray(1, 20));
    expect(dst.subarray(24, 28)).toEqual(hex('88041234'));
    expect(dst[28]).toBe(0xee);
    // Without copied options only the fixed header remains.
    expect(copyIpv4LaterFragmentHeader(null, 0, hex(WITH_OPTIONS), 0)).toBe(20);
    // A copied option of odd length is padded with End of Option List.
    const odd = hex('47000020 0001 0000 4032 0000 c0000201 c0000202 01 830304 00000000');
    expect(copyIpv4LaterFragmentHeader(dst, 0, odd, 0)).toBe(24);
    expect(dst.subarray(20, 24)).toEqual(hex('83030400'));
    setIpv4Fragment(dst, 0, 24, 8, false);
    const h = new Ipv4Header();
    expect(parseIpv4(dst, 0, 24, h)).toBe(WireStatus.Ok);
    expect([h.headerLength, h.fragmentOffset, h.totalLength]).toEqual([24, 8, 24]);
  });
});
