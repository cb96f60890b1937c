import { describe, expect, it } from 'vitest';
import { internetChecksum } from '../../src/wire/checksum.js';
import {
  ICMPV4_CODE_FRAGMENTATION_NEEDED,
  Icmpv4Message,
  Icmpv4Type,
  parseIcmpv4,
  parseIcmpv4Quote,
  writeIcmpv4FragmentationNeeded,
} from '../../src/wire/icmpv4.js';
import { Ipv4Header } from '../../src/wire/ipv4.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** The invoking packet: IP(198.51.100.10 -> 203.0.113.20, DF, total 1436) / UDP(4500, 4500) / ESP(SPI 0x1001, seq 1) ... (first 60 bytes). */
const INVOKING_HEAD =
  '4500059c000740003f11cff7c633640acb007114 119411940588c9cf 0000100100000001' + '58'.repeat(24);
/** scapy: ICMP(type 3, code 4, next-hop MTU 1400) / invoking[:28], the RFC 792 minimum quote */
const FRAG_NEEDED_ICMP = '03040504 00000578 4500059c000740003f11cff7c633640acb007114 119411940588c9cf';
/** scapy: the same with invoking[:36], a longer quote that reaches the ESP SPI and sequence number */
const FRAG_NEEDED_LONG_QUOTE = '0304f501 00000578 4500059c000740003f11cff7c633640acb007114 119411940588c9cf 0000100100000001';
/** scapy: IP(192.0.2.10 -> 192.0.2.20) / ICMP echo-request id 7 seq 1 / "hello", ICMP part */
const ECHO_ICMP = '0800b425 0007 0001 68656c6c6f';

describe('parseIcmpv4', () => {
  it('parses Fragmentation Needed with its MTU and quote', () => {
    const b = hex(FRAG_NEEDED_LONG_QUOTE);
    const m = new Icmpv4Message();
    expect(parseIcmpv4(b, 0, b.length, m)).toBe(WireStatus.Ok);
    expect(m).toMatchObject({
      type: Icmpv4Type.DestinationUnreachable,
      code: ICMPV4_CODE_FRAGMENTATION_NEEDED,
      nextHopMtu: 1400,
      quoteOffset: 8,
      quoteLength: 36,
    });
    const quoted = new Ipv4Header();
    expect(parseIcmpv4Quote(b, m, quoted)).toBe(WireStatus.Ok);
    expect(quoted).toMatchObject({ src: 0xc633640a, dst: 0xcb007114, protocol: 17, totalLength: 1436, dontFragment: true, payloadOffset: 28, payloadLength: 16 });
    expect(b.subarray(quoted.payloadOffset + 8, quoted.payloadOffset + 12)).toEqual(hex('00001001')); // the SPI
  });

  it('parses an echo request', () => {
    const b = hex(ECHO_ICMP);
    const m = new Icmpv4Message();
    expect(parseIcmpv4(b, 0, b.length, m)).toBe(WireStatus.Ok);
    expect(m).toMatchObject({ type: Icmpv4Type.EchoRequest, code: 0, identifier: 7, sequence: 1, nextHopMtu: 0, quoteOffset: -1 });
    expect(parseIcmpv4Quote(b, m, new Ipv4Header())).toBe(WireStatus.UnsupportedType);
  });

  it('rejects truncation, a bad checksum and an undefined code', () => {
    const b = hex(ECHO_ICMP);
    for (let len = 0; len < 8; len++) expect(parseIcmpv4(b, 0, len, new Icmpv4Message()), `len ${len}`).toBe(WireStatus.Truncated);
    expect(parseIcmpv4(b, 0, b.length - 1, new Icmpv4Message())).toBe(WireStatus.BadChecksum);
    b[1] = 1; // echo has only code 0; keep the checksum right so the code is what fails
    b[2] = 0;
    b[3] = 0;
    const sum = internetChecksum(b, 0, b.length);
    b[2] = sum >>> 8;
    b[3] = sum & 0xff;
    expect(parseIcmpv4(b, 0, b.length, new Icmpv4Message())).toBe(WireStatus.BadCode);
  });

  it('needs 64 quoted payload bits', () => {
    const b = hex(FRAG_NEEDED_ICMP).subarray(0, 8 + 20 + 4);
    b[2] = 0;
    b[3] = 0;
    const sum = internetChecksum(b, 0, b.length);
    b[2] = sum >>> 8;
    b[3] = sum & 0xff;
    const m = new Icmpv4Message();
    expect(parseIcmpv4(b, 0, b.length, m)).toBe(WireStatus.Ok);
    expect(parseIcmpv4Quote(b, m, new Ipv4Header())).toBe(WireStatus.Truncated);
  });
});

describe('writeIcmpv4FragmentationNeeded', () => {
  it('matches the reference message', () => {
    const invoking = hex(INVOKING_HEAD);
    const b = new Uint8Array(64);
    expect(writeIcmpv4FragmentationNeeded(b, 0, 1400, invoking, 0, invoking.length)).toBe(36);
    expect(b.subarray(0, 36)).toEqual(hex(FRAG_NEEDED_ICMP));
  });

  it('quotes an invoking packet that overlaps the message in the same buffer', () => {
    const b = new Uint8Array(80);
    b.set(hex(INVOKING_HEAD), 4);
    expect(writeIcmpv4FragmentationNeeded(b, 0, 1400, b, 4, 60)).toBe(36);
    expect(b.subarray(0, 36)).toEqual(hex(FRAG_NEEDED_ICMP));
  });

  it('quotes only what exists of a short invoking packet, and refuses no room', () => {
    const invoking = hex(INVOKING_HEAD).subarray(0, 24);
    const b = new Uint8Array(40);
    expect(writeIcmpv4FragmentationNeeded(b, 0, 576, invoking, 0, 24)).toBe(32);
    expect(internetChecksum(b, 0, 32)).toBe(0);
    expect(writeIcmpv4FragmentationNeeded(new Uint8Array(35), 0, 1400, hex(INVOKING_HEAD), 0, 60)).toBe(0);
  });
});
