import { describe, expect, it } from 'vitest';
import { ArpOperation, ArpPacket, parseArp, writeArp } from '../../src/wire/arp.js';
import { readU48 } from '../../src/wire/bytes.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// scapy: ARP(op=1, hwsrc=02:..:01, psrc=192.0.2.1, pdst=192.0.2.2) and the matching reply.
const REQUEST = '0001 0800 06 04 0001 020000000001 c0000201 000000000000 c0000202';
const REPLY = '0001 0800 06 04 0002 020000000002 c0000202 020000000001 c0000201';

describe('parseArp', () => {
  it('parses a request and a reply', () => {
    const req = hex(REQUEST);
    const p = new ArpPacket();
    expect(parseArp(req, 0, req.length, p)).toBe(WireStatus.Ok);
    expect(p).toMatchObject({ operation: ArpOperation.Request, senderMacOffset: 8, senderIp: 0xc0000201, targetMacOffset: 18, targetIp: 0xc0000202 });
    expect(readU48(req, p.senderMacOffset)).toBe(0x020000000001);
    const rep = hex(REPLY);
    expect(parseArp(rep, 0, rep.length, p)).toBe(WireStatus.Ok);
    expect(p.operation).toBe(ArpOperation.Reply);
    expect(readU48(rep, p.targetMacOffset)).toBe(0x020000000001);
  });

  it('reports every truncation', () => {
    const b = hex(REQUEST);
    for (let len = 0; len < 28; len++) expect(parseArp(b, 0, len, new ArpPacket()), `len ${len}`).toBe(WireStatus.Truncated);
  });

  it('rejects other address formats and operations', () => {
    for (const [index, value] of [[1, 6], [2, 0x86], [4, 8], [5, 16]] as const) {
      const b = hex(REQUEST);
      b[index] = value;
      expect(parseArp(b, 0, b.length, new ArpPacket()), `byte ${index}`).toBe(WireStatus.UnsupportedAddressFormat);
    }
    const rarp = hex(REQUEST);
    rarp[7] = 3;
    expect(parseArp(rarp, 0, rarp.length, new ArpPacket())).toBe(WireStatus.BadOperation);
  });
});

describe('writeArp', () => {
  it('writes the reference reply byte for byte', () => {
    const b = new Uint8Array(28);
    expect(writeArp(b, 0, ArpOperation.Reply, 0x020000000002, 0xc0000202, 0x020000000001, 0xc0000201)).toBe(28);
    expect(b).toEqual(hex(REPLY));
  });

  it('writes nothing when the packet does not fit', () => {
    expect(writeArp(new Uint8Array(30), 3, ArpOperation.Request, 1, 2, 3, 4)).toBe(0);
  });
});
