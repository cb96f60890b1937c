import { describe, expect, it } from 'vitest';
import { internetChecksum, ipv6PseudoHeaderSum } from '../../src/wire/checksum.js';
import { fillUdpChecksumIpv6, parseUdp, UdpHeader, verifyUdpChecksumIpv6, writeUdpHeader } from '../../src/wire/udp.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

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
  it('verifies the IPv6 reference, detects corruption and refuses a zero checksum (RFC 8200 §8.1)', () => {
    const b = hex(UDP6);
    expect(verifyUdpChecksumIpv6(b, 40, 10, 8, 24)).toBe(WireStatus.Ok);
    b[48] ^= 0x20;
    expect(verifyUdpChecksumIpv6(b, 40, 10, 8, 24)).toBe(WireStatus.BadChecksum);
    const zero = hex(UDP6);
    zero[46] = 0;
    zero[47] = 0;
    expect(verifyUdpChecksumIpv6(zero, 40, 10, 8, 24)).toBe(WireStatus.BadChecksum);
  });

  it('writes headers identical to the references: a zero checksum over IPv4 (RFC 768), a computed one over IPv6', () => {
    const b4 = hex(UDP4);
    b4.fill(0, 20, 28);
    expect(writeUdpHeader(b4, 20, 53, 1024, 11)).toBe(8);
    const reference4 = hex(UDP4);
    reference4[26] = 0;
    reference4[27] = 0;
    expect(b4).toEqual(reference4);
    const b6 = hex(UDP6);
    b6.fill(0, 40, 48);
    writeUdpHeader(b6, 40, 5000, 6000, 10);
    fillUdpChecksumIpv6(b6, 40, 10, 8, 24);
    expect(b6).toEqual(hex(UDP6));
  });

  it('sends a computed zero as 0xffff', () => {
    const b = hex(UDP6);
    b.fill(0, 46, 50); // the checksum and the payload word ("hi")
    // The checksum over a zero payload word, put in as that word, makes the sum 0xffff: a computed 0.
    const word = internetChecksum(b, 40, 10, ipv6PseudoHeaderSum(b, 8, 24, 17, 10));
    b[48] = word >>> 8;
    b[49] = word & 0xff;
    fillUdpChecksumIpv6(b, 40, 10, 8, 24);
    expect((b[46] << 8) | b[47]).toBe(0xffff);
    expect(verifyUdpChecksumIpv6(b, 40, 10, 8, 24)).toBe(WireStatus.Ok);
  });
});
