import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  classifyEspInUdp,
  EspHeader,
  EspTrailer,
  parseEsp,
  parseEspTrailer,
  UdpEncapsulated,
  writeEspHeader,
  writeEspTrailer,
} from '../../src/wire/esp.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

describe('ESP header', () => {
  it('reads SPI and sequence number', () => {
    const b = hex('00001001 00000007 0102030405060708 aabbcc');
    const h = new EspHeader();
    expect(parseEsp(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({ spi: 0x1001, sequence: 7, payloadOffset: 8, payloadLength: 11 });
  });

  it('reads a full 32-bit SPI and sequence as unsigned', () => {
    const b = hex('ffffffff fffffffe');
    const h = new EspHeader();
    expect(parseEsp(b, 0, 8, h)).toBe(WireStatus.Ok);
    expect(h.spi).toBe(0xffffffff);
    expect(h.sequence).toBe(0xfffffffe);
  });

  it('rejects truncation and the reserved SPIs 0..255 (RFC 4303 §2.1)', () => {
    const b = hex('00001001 00000007');
    for (let len = 0; len < 8; len++) expect(parseEsp(b, 0, len, new EspHeader())).toBe(WireStatus.Truncated);
    expect(parseEsp(hex('00000000 00000001'), 0, 8, new EspHeader())).toBe(WireStatus.BadSpi);
    expect(parseEsp(hex('000000ff 00000001'), 0, 8, new EspHeader())).toBe(WireStatus.BadSpi);
    expect(parseEsp(hex('00000100 00000001'), 0, 8, new EspHeader())).toBe(WireStatus.Ok);
  });

  it('writes what it reads', () => {
    const b = new Uint8Array(10);
    expect(writeEspHeader(b, 2, 0xc0ffee01, 0x80000001)).toBe(8);
    expect(b.subarray(2)).toEqual(hex('c0ffee01 80000001'));
    expect(writeEspHeader(b, 3, 1, 1)).toBe(0);
  });
});

describe('ESP trailer', () => {
  it('pads 1, 2, 3, ... to a 4-byte boundary', () => {
    const b = new Uint8Array(16);
    // 5-byte payload + 2-byte trailer -> 1 pad byte.
    expect(writeEspTrailer(b, 5, 5, IpProtocol.Ipv4, 4)).toBe(3);
    expect(b.subarray(5, 8)).toEqual(hex('01 01 04'));
    // 6-byte payload -> no padding.
    expect(writeEspTrailer(b, 6, 6, IpProtocol.Ipv6, 4)).toBe(2);
    expect(b.subarray(6, 8)).toEqual(hex('00 29'));
  });

  it('round-trips for any payload length and alignment', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 1500 }), fc.constantFrom(4, 8, 16), fc.integer({ min: 0, max: 255 }), (length, alignment, next) => {
        const b = new Uint8Array(length + 32);
        const trailer = writeEspTrailer(b, length, length, next, alignment);
        expect((length + trailer) % alignment).toBe(0);
        const t = new EspTrailer();
        expect(parseEspTrailer(b, 0, length + trailer, t)).toBe(WireStatus.Ok);
        expect(t).toMatchObject({ nextHeader: next, payloadLength: length, padLength: trailer - 2 });
      }),
    );
  });

  it('rejects an oversized Pad Length and wrong padding bytes', () => {
    const t = new EspTrailer();
    expect(parseEspTrailer(hex('aa 01'), 0, 1, t)).toBe(WireStatus.Truncated);
    expect(parseEspTrailer(hex('aa bb 02 04'), 0, 4, t)).toBe(WireStatus.BadPadding);
    expect(parseEspTrailer(hex('aa 01 02 03 04'), 0, 5, t)).toBe(WireStatus.BadPadding);
    expect(parseEspTrailer(hex('aa 01 03 02 04'), 0, 5, t)).toBe(WireStatus.BadPadding);
    expect(parseEspTrailer(hex('aa 01 02 02 04'), 0, 5, t)).toBe(WireStatus.Ok);
    expect(t).toMatchObject({ padLength: 2, nextHeader: 4, payloadLength: 1 });
  });

  it('refuses an alignment below 4 and no room', () => {
    expect(writeEspTrailer(new Uint8Array(8), 0, 5, 4, 2)).toBe(0);
    expect(writeEspTrailer(new Uint8Array(7), 5, 5, 4, 4)).toBe(0);
  });
});

describe('ESP-in-UDP demultiplexing (RFC 3948 §2.2, §2.3)', () => {
  it('tells ESP, IKE and keepalives apart', () => {
    expect(classifyEspInUdp(hex('00001001 00000001'), 0, 8)).toBe(UdpEncapsulated.Esp);
    expect(classifyEspInUdp(hex('00000000 2f3e4d5c'), 0, 8)).toBe(UdpEncapsulated.Ike);
    expect(classifyEspInUdp(hex('ff'), 0, 1)).toBe(UdpEncapsulated.Keepalive);
    expect(classifyEspInUdp(hex('fe'), 0, 1)).toBe(UdpEncapsulated.Invalid);
    expect(classifyEspInUdp(hex('000000'), 0, 3)).toBe(UdpEncapsulated.Invalid);
    expect(classifyEspInUdp(hex(''), 0, 0)).toBe(UdpEncapsulated.Invalid);
    expect(classifyEspInUdp(hex('00001001'), 1, 4)).toBe(UdpEncapsulated.Invalid);
  });
});
