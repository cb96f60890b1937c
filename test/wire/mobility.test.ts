import { describe, expect, it } from 'vitest';
import { MobilityHeader, parseMobilityHeader } from '../../src/wire/mobility.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

const hex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

/** scapy MIP6MH_BU(seq=1): MH type 5, Header Len 1 (16 bytes) */
const BINDING_UPDATE = '3b01 05 00 92e5 0001 d000 0003 0102 0000';

describe('parseMobilityHeader', () => {
  it('reads the MH type of a Binding Update', () => {
    const b = hex(BINDING_UPDATE);
    const h = new MobilityHeader();
    expect(parseMobilityHeader(b, 0, b.length, h)).toBe(WireStatus.Ok);
    expect(h).toMatchObject({ payloadProto: IpProtocol.NoNextHeader, headerLength: 16, mhType: 5, checksum: 0x92e5 });
  });

  it('reports truncation below 8 bytes and below Header Len', () => {
    const b = hex(BINDING_UPDATE);
    for (let len = 0; len < 16; len++) expect(parseMobilityHeader(b, 0, len, new MobilityHeader()), `len ${len}`).toBe(WireStatus.Truncated);
    const minimal = hex('3b00 06 00 0000 0000');
    expect(parseMobilityHeader(minimal, 0, 8, new MobilityHeader())).toBe(WireStatus.Ok);
  });
});
