import { describe, expect, it } from 'vitest';
import {
  fillIcmpv6Checksum,
  ICMPV6_MAX_QUOTE_BYTES,
  Icmpv6Message,
  Icmpv6Type,
  parseIcmpv6,
  writeIcmpv6Echo,
  writeIcmpv6ErrorMessage,
} from '../../src/wire/icmpv6.js';
import { Ipv6Header, writeIpv6Header } from '../../src/wire/ipv6.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** scapy: IPv6(2001:db8::1 -> 2001:db8::2) / ICMPv6EchoRequest(id=0x1234, seq=5, data="ping") */
const ECHO = '60000000000c3a40 20010db8000000000000000000000001 20010db8000000000000000000000002 8000 333a 1234 0005 70696e67';
/** scapy: IPv6(2001:db8::5 -> 2001:db8::6) / UDP(1, 2) / 1400 x 0xab: the invoking packet (1448 bytes) */
const INVOKING_HEADER = '600000000580114020010db800000000000000000000000520010db800000000000000000000000600010002 0580 3005';
/** scapy: IPv6(2001:db8::ff -> 2001:db8::5) / ICMPv6PacketTooBig(mtu=1400) / invoking[:1232]: first 48 bytes */
const PTB_HEAD = '6000000004d83a40 20010db80000000000000000000000ff 20010db8000000000000000000000005 0200 923c 00000578';

function invokingPacket(): Uint8Array {
  const b = new Uint8Array(1448).fill(0xab);
  b.set(hex(INVOKING_HEADER));
  return b;
}

describe('parseIcmpv6', () => {
  it('parses an echo request and verifies its checksum', () => {
    const b = hex(ECHO);
    const m = new Icmpv6Message();
    expect(parseIcmpv6(b, 40, 12, 8, 24, m)).toBe(WireStatus.Ok);
    expect(m).toMatchObject({ type: Icmpv6Type.EchoRequest, code: 0, checksum: 0x333a, identifier: 0x1234, sequence: 5, quoteOffset: -1 });
  });

  it('rejects a checksum over the wrong pseudo-header, corruption and truncation', () => {
    const b = hex(ECHO);
    expect(parseIcmpv6(b, 40, 12, 24, 8, new Icmpv6Message())).toBe(WireStatus.Ok); // swapped addresses sum the same
    b[23] ^= 1; // source address
    expect(parseIcmpv6(b, 40, 12, 8, 24, new Icmpv6Message())).toBe(WireStatus.BadChecksum);
    for (let len = 0; len < 8; len++) expect(parseIcmpv6(hex(ECHO), 40, len, 8, 24, new Icmpv6Message())).toBe(WireStatus.Truncated);
    expect(parseIcmpv6(hex(ECHO), 40, 12, 8, 60, new Icmpv6Message())).toBe(WireStatus.BadRange);
  });
});

describe('writeIcmpv6Echo', () => {
  it('rebuilds the reference echo request', () => {
    const b = hex(ECHO);
    b.fill(0, 40, 48);
    expect(writeIcmpv6Echo(b, 40, Icmpv6Type.EchoRequest, 0x1234, 5)).toBe(8);
    fillIcmpv6Checksum(b, 40, 12, 8, 24);
    expect(b).toEqual(hex(ECHO));
  });
});

describe('writeIcmpv6ErrorMessage', () => {
  it('writes Packet Too Big quoting as much of the invoking packet as fits in 1280 bytes, matching the reference', () => {
    const invoking = invokingPacket();
    const b = new Uint8Array(1300);
    const h = new Ipv6Header();
    const length = writeIcmpv6ErrorMessage(b, 40, Icmpv6Type.PacketTooBig, 0, 1400, invoking, 0, invoking.length);
    expect(length).toBe(8 + ICMPV6_MAX_QUOTE_BYTES);
    expect(40 + length).toBe(1280);
    h.payloadLength = length;
    h.nextHeader = IpProtocol.Icmpv6;
    h.hopLimit = 64;
    const router = hex('20010db80000000000000000000000ff');
    expect(writeIpv6Header(b, 0, h, router, 0, invoking, 8)).toBe(40);
    fillIcmpv6Checksum(b, 40, length, 8, 24);
    expect(b.subarray(0, 48)).toEqual(hex(PTB_HEAD));
    expect(b.subarray(48, 1280)).toEqual(invoking.subarray(0, ICMPV6_MAX_QUOTE_BYTES));

    const m = new Icmpv6Message();
    expect(parseIcmpv6(b, 40, length, 8, 24, m)).toBe(WireStatus.Ok);
    expect(m).toMatchObject({ type: Icmpv6Type.PacketTooBig, mtuOrPointer: 1400, quoteOffset: 48, quoteLength: ICMPV6_MAX_QUOTE_BYTES });
  });

  it('quotes a small packet whole and refuses no room', () => {
    const invoking = invokingPacket().subarray(0, 100);
    expect(writeIcmpv6ErrorMessage(new Uint8Array(108), 0, Icmpv6Type.PacketTooBig, 0, 1280, invoking, 0, 100)).toBe(108);
    expect(writeIcmpv6ErrorMessage(new Uint8Array(107), 0, Icmpv6Type.PacketTooBig, 0, 1280, invoking, 0, 100)).toBe(0);
  });
});
