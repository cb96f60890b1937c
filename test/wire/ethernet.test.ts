import { describe, expect, it } from 'vitest';
import { readU48 } from '../../src/wire/bytes.js';
import { EthernetHeader, NO_VLAN, parseEthernet, writeEthernetHeader } from '../../src/wire/ethernet.js';
import { EtherType } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

const MAC1 = 0x020000000001;
const MAC2 = 0x020000000002;
// scapy: Ether(dst=02:..:02, src=02:..:01) / ...
const UNTAGGED = '020000000002 020000000001 0800 4500001c000100004001f6dcc0000201c00002020800f7ff00000000';
/** Dot1Q(vlan=100, prio=5) / IPv4 */
const DOT1Q = '020000000002 020000000001 8100 a064 0800 45000014000100004000f6e5c0000201c0000202';
/** Dot1AD(vlan=200) / Dot1Q(vlan=300) / IPv6 */
const QINQ =
  '020000000002 020000000001 88a8 00c8 8100 012c 86dd 6000000000003b40' +
  '20010db8000000000000000000000001 20010db8000000000000000000000002';

describe('parseEthernet', () => {
  it('parses an untagged frame', () => {
    const b = hex(UNTAGGED);
    const h = new EthernetHeader();
    expect(parseEthernet(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({ dstOffset: 0, srcOffset: 6, outerVlanId: NO_VLAN, innerVlanId: NO_VLAN, etherType: EtherType.Ipv4, l3Offset: 14 });
    expect(readU48(b, h.dstOffset)).toBe(MAC2);
    expect(readU48(b, h.srcOffset)).toBe(MAC1);
  });

  it('parses an 802.1Q tag, ignoring its priority bits', () => {
    const b = hex(DOT1Q);
    const h = new EthernetHeader();
    expect(parseEthernet(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({ outerVlanId: 100, innerVlanId: NO_VLAN, etherType: EtherType.Ipv4, l3Offset: 18 });
  });

  it('parses 802.1ad QinQ', () => {
    const b = hex(QINQ);
    const h = new EthernetHeader();
    expect(parseEthernet(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({ outerVlanId: 200, innerVlanId: 300, etherType: EtherType.Ipv6, l3Offset: 22 });
  });

  it('reports truncation inside the header and every tag', () => {
    for (const [frame, headerEnd] of [[UNTAGGED, 14], [DOT1Q, 18], [QINQ, 22]] as const) {
      const b = hex(frame);
      for (let len = 0; len < headerEnd; len++) {
        expect(parseEthernet(b, 0, len, new EthernetHeader()), `${frame.slice(24, 28)} len ${len}`).toBe(WireStatus.Truncated);
      }
      expect(parseEthernet(b, 0, headerEnd, new EthernetHeader())).toBe(WireStatus.Ok);
    }
  });

  it('rejects 802.3 length frames, an S-tag inside a tag, and a third tag', () => {
    const llc = hex(UNTAGGED);
    llc[12] = 0x05;
    llc[13] = 0xdc; // length 1500, not an EtherType
    expect(parseEthernet(llc, 0, llc.length, new EthernetHeader())).toBe(WireStatus.UnsupportedFrame);
    const sInC = hex(DOT1Q);
    sInC[16] = 0x88;
    sInC[17] = 0xa8;
    expect(parseEthernet(sInC, 0, sInC.length, new EthernetHeader())).toBe(WireStatus.UnsupportedFrame);
    const triple = hex(QINQ);
    triple[20] = 0x81;
    triple[21] = 0x00;
    expect(parseEthernet(triple, 0, triple.length, new EthernetHeader())).toBe(WireStatus.TooManyVlanTags);
  });
});

describe('writeEthernetHeader', () => {
  it('writes an untagged header identical to the reference', () => {
    const b = new Uint8Array(14);
    expect(writeEthernetHeader(b, 0, MAC2, MAC1, NO_VLAN, EtherType.Ipv4)).toBe(14);
    expect(b).toEqual(hex(UNTAGGED).subarray(0, 14));
  });

  it('writes an 802.1Q tag with priority 0 that parses back', () => {
    const b = new Uint8Array(20);
    expect(writeEthernetHeader(b, 2, MAC2, MAC1, 100, EtherType.Ipv6)).toBe(18);
    expect(b.subarray(2)).toEqual(hex('020000000002 020000000001 8100 0064 86dd'));
    const h = new EthernetHeader();
    expect(parseEthernet(b, 2, 18, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({ outerVlanId: 100, etherType: EtherType.Ipv6, l3Offset: 20 });
  });

  it('writes nothing when the header does not fit', () => {
    expect(writeEthernetHeader(new Uint8Array(17), 0, MAC2, MAC1, 100, EtherType.Ipv4)).toBe(0);
  });
});
