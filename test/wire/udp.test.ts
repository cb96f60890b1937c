import { describe, expect, it } from 'vitest';
import { onesComplementSum } from '../../src/wire/checksum.js';
import {
  fillUdpChecksumIpv4,
  fillUdpChecksumIpv6,
  parseUdp,
  UdpHeader,
  verifyUdpChecksumIpv4,
  verifyUdpChecksumIpv6,
  writeUdpHeader,
} from '../../src/wire/udp.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const SRC4 = 0xc0000201; // 192.0.2.1
const DST4 = 0xc0000202; // 192.0.2.2
/** scapy: IP(192.0.2.1 -> 192.0.2.2) / UDP(53 -> 1024) / "abc" */
const UDP4 = '4500001f000100004011f6c9c0000201c0000202 0035 0400 000b b33c 616263';
/** scapy: IPv6(2001:db8::1 -> 2001:db8::2) / UDP(5000 -> 6000) / "hi" */
const UDP6 =
  '6b912345000a1140 20010db8000000000000000000000001 20010db8000000000000000000000002 1388 1770 000a 1104 6869';

describe('parseUdp', () => {
  it('parses the header inside an IPv4 packet', () => {
    const b = hex(UDP4);
    const u = new UdpHeader();
    expect(parseUdp(b, 20, 11, u)).toBe(WireStatus.Ok);
    expect(u).toMatchObject({ srcPort: 53, dstPort: 1024, length: 11, checksum: 0xb33c, payloadOffset: 28, payloadLength: 3 });
  });

  it('rejects truncation and a bad length field', () => {
    const b = hex(UDP4);
    for (let len = 0; len < 11; len++) expect(parseUdp(b, 20, len, new UdpHeader()), `len ${len}`).toBe(WireStatus.Truncated);
    b[25] = 7;
    expect(parseUdp(b, 20, 11, new UdpHeader())).toBe(WireStatus.BadLength);
  });
});

describe('UDP checksums', () => {
  it('verifies the IPv4 reference and detects corruption', () => {
    const b = hex(UDP4);
    expect(verifyUdpChecksumIpv4(b, 20, 11, SRC4, DST4)).toBe(WireStatus.Ok);
    expect(verifyUdpChecksumIpv4(b, 20, 11, SRC4, DST4 + 1)).toBe(WireStatus.BadChecksum);
    b[30] ^= 0x20;
    expect(verifyUdpChecksumIpv4(b, 20, 11, SRC4, DST4)).toBe(WireStatus.BadChecksum);
  });

  it('accepts a zero checksum on IPv4 only (RFC 768, RFC 8200 §8.1)', () => {
    const b4 = hex(UDP4);
    b4[26] = 0;
    b4[27] = 0;
    expect(verifyUdpChecksumIpv4(b4, 20, 11, SRC4, DST4)).toBe(WireStatus.Ok);
    const b6 = hex(UDP6);
    expect(verifyUdpChecksumIpv6(b6, 40, 10, 8, 24)).toBe(WireStatus.Ok);
    b6[46] = 0;
    b6[47] = 0;
    expect(verifyUdpChecksumIpv6(b6, 40, 10, 8, 24)).toBe(WireStatus.BadChecksum);
  });

  it('writes header and checksum identical to the references', () => {
    const b4 = hex(UDP4);
    b4.fill(0, 20, 28);
    expect(writeUdpHeader(b4, 20, 53, 1024, 11)).toBe(8);
    expect(b4[26] | b4[27]).toBe(0);
    fillUdpChecksumIpv4(b4, 20, 11, SRC4, DST4);
    expect(b4).toEqual(hex(UDP4));
    const b6 = hex(UDP6);
    b6.fill(0, 40, 48);
    writeUdpHeader(b6, 40, 5000, 6000, 10);
    fillUdpChecksumIpv6(b6, 40, 10, 8, 24);
    expect(b6).toEqual(hex(UDP6));
  });

  it('sends a computed zero as 0xffff', () => {
    const b = hex(UDP4);
    // Choose the first payload word so that make the one's-complement sum 0xffff, i.e. a computed checksum of 0.
    b[26] = 0;
    b[27] = 0;
    b[28] = 0;
    b[29] = 0;
    const sum = onesComplementSum(b, 20, 11, (SRC4 >>> 16) + (SRC4 & 0xffff) + (DST4 >>> 16) + (DST4 & 0xffff) + 17 + 11);
    const word = 0xffff - sum;
    b[28] = word >>> 8;
    b[29] = word & 0xff;
    fillUdpChecksumIpv4(b, 20, 11, SRC4, DST4);
    expect((b[26] << 8) | b[27]).toBe(0xffff);
    expect(verifyUdpChecksumIpv4(b, 20, 11, SRC4, DST4)).toBe(WireStatus.Ok);
  });
});
