import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { AEAD_ALGORITHMS, type AeadAlgorithm } from '../../src/crypto/aead.js';
import { ESP_STATUS_NAMES, EspStatus, espDropReason } from '../../src/ipsec/esp.js';
import { SaCounter, type EspMode } from '../../src/ipsec/security-association.js';
import { DropReason } from '../../src/dataplane/drop-reason.js';
import { readIpv4Ecn, writeIpv4Ecn } from '../../src/wire/ipv4.js';
import { readIpv6Ecn } from '../../src/wire/ipv6.js';
import { verifyUdpChecksumIpv6 } from '../../src/wire/udp.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { Ecn } from '../../src/wire/ecn.js';
import {
  EspLab, V4_A, V4_B, V6_A, V6_B, availableBackends, writeIpv4Packet, writeIpv6Packet,
} from './esp-fixtures.js';

interface Case {
  algorithm: AeadAlgorithm;
  mode: EspMode;
  outer: 4 | 6;
  inner: 4 | 6;
  udp: boolean;
  esn: boolean;
  size: number;
  tfcPadTo: number;
}

function payloadOf(size: number, seed: number): Uint8Array {
  const p = new Uint8Array(size);
  for (let i = 0; i < size; i++) p[i] = (i * 13 + seed) & 0xff;
  return p;
}

/** Loads slot 0 with the case's clear packet and returns the SA pair. In transport mode the packet's own addresses are the SA's. */
function setUp(lab: EspLab, c: Case, spi = 0x4000) {
  const innerVersion = c.mode === 'transport' ? c.outer : c.inner;
  lab.build(0, (b, off) => innerVersion === 4
    ? writeIpv4Packet(b, off, { payload: payloadOf(c.size, 1), tos: 0x2a << 2 | Ecn.Ect0 })
    : writeIpv6Packet(b, off, { payload: payloadOf(c.size, 2), trafficClass: 0x2a << 2 | Ecn.Ect1 }));
  const [src, dst] = c.outer === 4 ? [V4_A, V4_B] : [V6_A, V6_B];
  return lab.pair({
    spi, mode: c.mode, source: src, destination: dst, algorithm: c.algorithm, esn: c.esn,
    tfcPadTo: c.mode === 'tunnel' ? c.tfcPadTo : 0,
    udpEncapsulation: c.udp ? { sourcePort: 4500, destinationPort: 4500 } : undefined,
  });
}

/** Where ESP starts in a sealed packet of this case (no IPv6 extension headers here). */
function espOffset(c: Case): number {
  return (c.outer === 4 ? 20 : 40) + (c.udp ? 8 : 0);
}

const caseArb = fc.record({
  algorithm: fc.constantFrom(...AEAD_ALGORITHMS),
  mode: fc.constantFrom<EspMode>('transport', 'tunnel'),
  outer: fc.constantFrom<4 | 6>(4, 6),
  inner: fc.constantFrom<4 | 6>(4, 6),
  udp: fc.boolean(),
  esn: fc.boolean(),
  size: fc.oneof(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 0, max: 9000 })),
  tfcPadTo: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 1500 })),
});

for (const backend of availableBackends()) {
  describe(`ESP seal/open over the ${backend.name} backend (RFC 4303)`, () => {
    it('open(seal(p)) = p for every algorithm, mode, family combination and size 0..9000', () => {
      fc.assert(fc.property(caseArb, (c) => {
        const lab = new EspLab(backend);
        const { out, in: inb } = setUp(lab, c);
        const clear = lab.packet(0);
        expect(lab.seal(out, [0])).toEqual([EspStatus.Ok]);
        const sealed = lab.packet(0);
        // ESP trailer alignment (RFC 4303 §2.4): the ciphertext ends on a 4-byte boundary.
        expect(sealed[0] >>> 4).toBe(c.outer);
        expect((sealed.length - espOffset(c) - 16 - 16) % 4).toBe(0);
        expect(lab.open([0])).toEqual([EspStatus.Ok]);
        expect(lab.packet(0)).toEqual(clear);
        expect(lab.decryptor.saOf[0]).toBe(inb);
        expect(out.counters[SaCounter.Packets]).toBe(1);
        expect(inb.counters[SaCounter.Packets]).toBe(1);
        expect(inb.counters[SaCounter.Bytes]).toBe(clear.length);
      }), { numRuns: 120 });
    });

    it('detects a change of any single byte from the sequence number to the ICV', () => {
      fc.assert(fc.property(caseArb, fc.nat(), fc.integer({ min: 1, max: 255 }), (c, where, flip) => {
        const lab = new EspLab(backend);
        const { out, in: inb } = setUp(lab, c);
        lab.seal(out, [0]);
        const esp = lab.slots.start[0] + espOffset(c);
        const end = lab.slots.start[0] + lab.slots.length[0];
        const at = esp + 4 + (where % (end - esp - 4));
        lab.slots.bytes[at] ^= flip;
        const [status] = lab.open([0]);
        if (c.outer === 6 && c.udp) {
          // Over IPv6 the UDP checksum covers the ESP packet and is checked first (RFC 8200 §8.1).
          expect(status).toBe(EspStatus.Malformed);
        } else if (at < esp + 8) {
          // A changed sequence number either fails the ICV or (number 0) the replay check.
          expect([EspStatus.AuthFailed, EspStatus.Replay]).toContain(status);
        } else {
          expect(status).toBe(EspStatus.AuthFailed);
          expect(inb.counters[SaCounter.IcvFailures]).toBe(1);
        }
        expect(inb.counters[SaCounter.Packets]).toBe(0);
      }), { numRuns: 120 });
    });
  });
}

const backend = availableBackends()[0];
const tunnel4: Case = { algorithm: 'aes-gcm-16-128', mode: 'tunnel', outer: 4, inner: 6, udp: false, esn: false, size: 100, tfcPadTo: 0 };

describe('ESP outbound details', () => {
  it('writes SPI, sequence number from 1, IV = 64-bit sequence number, and the RFC 3948 UDP header', () => {
    const lab = new EspLab(backend);
    const { out } = setUp(lab, { ...tunnel4, udp: true });
    lab.seal(out, [0]);
    const p = lab.packet(0);
    expect(p[9]).toBe(17);
    expect([...p.subarray(20, 28)]).toEqual([0x11, 0x94, 0x11, 0x94, (p.length - 20) >> 8, (p.length - 20) & 0xff, 0, 0]);
    expect([...p.subarray(28, 44)]).toEqual([0, 0, 0x40, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]);
    expect(p.length).toBe(20 + 8 + 16 + 140 + 2 + 2 + 16); // 140-byte inner IPv6 packet, 2 pad bytes
  });

  it('copies DSCP and ECN to the outer header; DF follows the SA policy', () => {
    const lab = new EspLab(backend);
    const { out } = setUp(lab, { ...tunnel4, inner: 4 });
    lab.seal(out, [0]);
    const p = lab.packet(0);
    expect(p[1]).toBe(0x2a << 2 | Ecn.Ect0);
    expect(p[6] & 0x40).toBe(0); // inner DF clear, copied
    expect(p[8]).toBe(64);
  });

  it('fills a valid UDP checksum for IPv6 ESP-in-UDP (RFC 8200 §8.1)', () => {
    const lab = new EspLab(backend);
    const { out } = setUp(lab, { ...tunnel4, outer: 6, udp: true });
    lab.seal(out, [0]);
    const start = lab.slots.start[0];
    expect(verifyUdpChecksumIpv6(lab.slots.bytes, start + 40, lab.slots.length[0] - 40, start + 8, start + 24)).toBe(0);
  });

  it('drops IPv6 ESP-in-UDP whose UDP checksum is wrong or zero (RFC 8200 §8.1), and opens it when right', () => {
    for (const corrupt of [(b: Uint8Array, udp: number) => { b[udp + 6] ^= 0x01; }, (b: Uint8Array, udp: number) => { b[udp + 6] = 0; b[udp + 7] = 0; }, null]) {
      const lab = new EspLab(backend);
      const { out } = setUp(lab, { ...tunnel4, outer: 6, udp: true });
      const clear = lab.packet(0);
      lab.seal(out, [0]);
      if (corrupt !== null) corrupt(lab.slots.bytes, lab.slots.start[0] + 40);
      const opened = lab.open([0]);
      if (corrupt === null) {
        expect(opened).toEqual([EspStatus.Ok]);
        expect(lab.packet(0)).toEqual(clear);
      } else {
        expect(opened).toEqual([EspStatus.Malformed]);
      }
    }
  });

  it('pads the inner packet to tfcPadTo, and the receiver drops the TFC padding (RFC 4303 §2.7)', () => {
    const lab = new EspLab(backend);
    const { out } = setUp(lab, { ...tunnel4, tfcPadTo: 1000 });
    const clear = lab.packet(0);
    lab.seal(out, [0]);
    expect(lab.slots.length[0]).toBe(20 + 16 + 1000 + 2 + 2 + 16);
    expect(lab.open([0])).toEqual([EspStatus.Ok]);
    expect(lab.packet(0)).toEqual(clear);
  });

  it('inserts transport-mode ESP after the Home Address option (RFC 3776 §3.1) and restores it', () => {
    const lab = new EspLab(backend);
    // Destination Options with a Home Address option (type 201, 16 bytes), then a Mobility Header.
    const hao = new Uint8Array(24);
    hao[0] = 135; hao[1] = 2; hao[2] = 1; hao[3] = 2; hao[6] = 201; hao[7] = 16; hao.set(V6_A, 8);
    const mh = Uint8Array.of(59, 1, 5, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    lab.build(0, (b, off) => writeIpv6Packet(b, off, { nextHeader: 60, extensions: hao, payload: mh, src: V6_B, dst: V6_A }));
    const clear = lab.packet(0);
    const { out } = lab.pair({ spi: 0x5000, mode: 'transport', source: V6_B, destination: V6_A, algorithm: 'aes-gcm-16-256' });
    expect(lab.seal(out, [0])).toEqual([EspStatus.Ok]);
    const sealed = lab.packet(0);
    expect(sealed[6]).toBe(60);
    expect(sealed[40]).toBe(50); // the Destination Options header now names ESP
    expect([...sealed.subarray(64, 68)]).toEqual([0, 0, 0x50, 0]);
    expect(lab.open([0])).toEqual([EspStatus.Ok]);
    expect(lab.packet(0)).toEqual(clear);
  });

  it('inserts transport-mode ESP after Hop-by-Hop and an atomic Fragment header, refuses real IPv6 fragments', () => {
    const lab = new EspLab(backend);
    const { out } = lab.pair({ spi: 0x5200, mode: 'transport', source: V6_A, destination: V6_B, algorithm: 'chacha20-poly1305' });
    // Hop-by-Hop (PadN) -> Fragment (offset 0, M as given) -> experimental payload.
    const chain = (more: number) => Uint8Array.of(44, 0, 1, 4, 0, 0, 0, 0, 253, 0, 0, more, 0, 0, 0, 9);
    lab.build(0, (b, off) => writeIpv6Packet(b, off, { nextHeader: 0, extensions: chain(0), payload: payloadOf(30, 5) }));
    const clear = lab.packet(0);
    expect(lab.seal(out, [0])).toEqual([EspStatus.Ok]);
    const sealed = lab.packet(0);
    expect(sealed[40 + 8]).toBe(50); // the Fragment header now names ESP
    expect(lab.open([0])).toEqual([EspStatus.Ok]);
    expect(lab.packet(0)).toEqual(clear);
    lab.build(0, (b, off) => writeIpv6Packet(b, off, { nextHeader: 0, extensions: chain(1), payload: payloadOf(30, 5) }));
    expect(lab.seal(out, [0])).toEqual([EspStatus.Fragment]);
  });

  it('refuses fragments in transport mode (RFC 4303 §3.3.4) and carries them in tunnel mode', () => {
    const lab = new EspLab(backend);
    lab.build(0, (b, off) => writeIpv4Packet(b, off, { payload: payloadOf(64, 3), moreFragments: true }));
    const { out } = lab.pair({ spi: 0x5100, mode: 'transport', source: V4_A, destination: V4_B, algorithm: 'aes-gcm-16-128' });
    expect(lab.seal(out, [0])).toEqual([EspStatus.Fragment]);
    const t = lab.pair({ spi: 0x5101, mode: 'tunnel', source: V4_A, destination: V4_B, algorithm: 'aes-gcm-16-128', policyId: 2 });
    expect(lab.seal(t.out, [0])).toEqual([EspStatus.Ok]);
  });

  it('reports NoRoom when the slot lacks headroom and counts it', () => {
    const lab = new EspLab(backend);
    const { out } = setUp(lab, tunnel4);
    lab.slots.bytes.copyWithin(lab.slots.base(0) + 10, lab.slots.start[0], lab.slots.start[0] + lab.slots.length[0]);
    lab.slots.start[0] = lab.slots.base(0) + 10;
    expect(lab.seal(out, [0])).toEqual([EspStatus.NoRoom]);
    expect(out.counters[SaCounter.NoRoomDrops]).toBe(1);
    expect(out.lastSeq).toBe(0);
  });

  it('stops at the hard packet limit, raising rekey then expire once, and removes the SA', () => {
    const lab = new EspLab(backend);
    const events: string[] = [];
    lab.sad.on('rekey', (sa) => events.push(`rekey ${sa.direction}`));
    lab.sad.on('expire', (sa) => events.push(`expire ${sa.direction}`));
    const key = new Uint8Array(20);
    const out = lab.sad.install({ spi: 0x6000, direction: 'outbound', mode: 'tunnel', source: V4_A, destination: V4_B,
      algorithm: 'aes-gcm-16-128', keyAndSalt: key, policyId: 9, lifetime: { soft: { packets: 2 }, hard: { packets: 3 } } }, 0);
    const statuses: number[] = [];
    for (let n = 0; n < 4; n++) {
      lab.build(0, (b, off) => writeIpv4Packet(b, off, { payload: payloadOf(10, n) }));
      statuses.push(...lab.seal(out, [0]));
    }
    expect(statuses).toEqual([EspStatus.Ok, EspStatus.Ok, EspStatus.Ok, EspStatus.Expired]);
    expect(events).toEqual(['rekey outbound', 'expire outbound']);
    expect(lab.sad.lookupOutbound(9)).toBeNull();
  });

  it('refuses to cycle the sequence number and expires the SA (RFC 4303 §3.3.3)', () => {
    const lab = new EspLab(backend);
    const expired: number[] = [];
    lab.sad.on('expire', (sa) => expired.push(sa.spi));
    const { out } = setUp(lab, tunnel4);
    out.lastSeq = 0xffff_fffe;
    lab.build(1, (b, off) => writeIpv4Packet(b, off, { payload: payloadOf(10, 0) }));
    expect(lab.seal(out, [0, 1])).toEqual([EspStatus.Ok, EspStatus.SeqOverflow]);
    expect(out.counters[SaCounter.SeqOverflowDrops]).toBe(1);
    expect(expired).toEqual([0x4000]);
    expect(out.usable).toBe(false);
  });
});

describe('ESP inbound details', () => {
  it('drops a replayed packet, also when the copy is in the same batch', () => {
    const lab = new EspLab(backend);
    const { out, in: inb } = setUp(lab, tunnel4);
    lab.seal(out, [0]);
    const sealed = lab.packet(0);
    lab.load(1, sealed);
    lab.load(2, sealed);
    expect(lab.open([0, 1])).toEqual([EspStatus.Ok, EspStatus.Replay]);
    expect(lab.open([2])).toEqual([EspStatus.Replay]);
    expect(inb.counters[SaCounter.ReplayDrops]).toBe(2);
    expect(inb.counters[SaCounter.Packets]).toBe(1);
  });

  it('opens ESN traffic across the 2^32 boundary (RFC 4303 §2.2.1, Appendix A2.2)', () => {
    const lab = new EspLab(backend);
    const { out, in: inb } = setUp(lab, { ...tunnel4, esn: true });
    for (const s of [0x7000_0000, 0xe000_0000, 0xffff_fff0]) inb.replay!.update(0, s);
    out.lastSeq = 0xffff_fffe;
    const clear = lab.packet(0);
    for (let n = 0; n < 3; n++) {
      lab.load(0, clear);
      expect(lab.seal(out, [0])).toEqual([EspStatus.Ok]);
      expect(lab.open([0])).toEqual([EspStatus.Ok]);
    }
    expect(out.lastSeq).toBe(2 ** 32 + 1);
    expect(inb.replay!.highest).toBe(2 ** 32 + 1);
  });

  it('checks pad length and pad content (RFC 4303 §2.4), and discards dummy packets (§2.6)', () => {
    const lab = new EspLab(backend);
    const { out, in: inb } = setUp(lab, { ...tunnel4, size: 101 }); // 141-byte inner: 1 pad byte
    const trailerAt = () => lab.slots.start[0] + lab.slots.length[0] - 16 - 3;
    const tamperBeforeSeal = (edit: (b: Uint8Array, pad: number) => void) => {
      lab.build(0, (b, off) => writeIpv6Packet(b, off, { payload: payloadOf(101, 2) }));
      lab.encryptor.begin(lab.packets, 0);
      lab.encryptor.prepare(out, 0, lab.slots.base(0), lab.slots.limit(0));
      edit(lab.slots.bytes, trailerAt());
      lab.encryptor.seal();
      return lab.open([0])[0];
    };
    expect(tamperBeforeSeal((b, pad) => { expect(b[pad]).toBe(1); b[pad] = 9; })).toBe(EspStatus.BadPadding);
    expect(tamperBeforeSeal((b, pad) => { b[pad + 1] = 200; })).toBe(EspStatus.BadPadding);
    expect(inb.counters[SaCounter.PadErrors]).toBe(2);
    expect(tamperBeforeSeal((b, pad) => { b[pad + 2] = 59; })).toBe(EspStatus.Dummy);
    expect(tamperBeforeSeal((b, pad) => { b[pad + 2] = 6; })).toBe(EspStatus.BadNextHeader);
    expect(tamperBeforeSeal(() => {})).toBe(EspStatus.Ok);
    expect(inb.counters[SaCounter.DummyDrops]).toBe(1);
    expect(inb.counters[SaCounter.MalformedDrops]).toBe(1);
  });

  it('propagates outer CE into an ECN-capable inner packet and drops a Not-ECT one (RFC 6040 §4.2)', () => {
    const lab = new EspLab(backend);
    const { out } = setUp(lab, tunnel4); // inner IPv6 ECT(1)
    lab.seal(out, [0]);
    writeIpv4Ecn(lab.slots.bytes, lab.slots.start[0], Ecn.Ce);
    expect(lab.open([0])).toEqual([EspStatus.Ok]);
    expect(readIpv6Ecn(lab.slots.bytes, lab.slots.start[0])).toBe(Ecn.Ce);

    lab.build(0, (b, off) => writeIpv4Packet(b, off, { payload: payloadOf(20, 0), tos: 0 }));
    lab.seal(out, [0]);
    expect(readIpv4Ecn(lab.slots.bytes, lab.slots.start[0])).toBe(Ecn.NotEct);
    writeIpv4Ecn(lab.slots.bytes, lab.slots.start[0], Ecn.Ce);
    expect(lab.open([0])).toEqual([EspStatus.EcnDrop]);
  });

  it('classifies UDP 4500: keepalive, IKE behind the non-ESP marker, ESP (RFC 3948 §2.2, §2.3)', () => {
    const lab = new EspLab(backend);
    const udp = (payload: number[]) => {
      const d = new Uint8Array(8 + payload.length);
      d.set([0x11, 0x94, 0x11, 0x94, d.length >> 8, d.length & 0xff, 0, 0]);
      d.set(payload, 8);
      return d;
    };
    lab.build(0, (b, off) => writeIpv4Packet(b, off, { payload: udp([0xff]) }));
    lab.build(1, (b, off) => writeIpv4Packet(b, off, { payload: udp([0, 0, 0, 0, 1, 2, 3, 4]) }));
    lab.build(2, (b, off) => writeIpv4Packet(b, off, { payload: udp(new Array(40).fill(7)) }));
    lab.build(3, (b, off) => writeIpv4Packet(b, off, { protocol: 6, payload: new Uint8Array(40) }));
    expect(lab.open([0, 1, 2, 3])).toEqual([EspStatus.Keepalive, EspStatus.NotEsp, EspStatus.NoSa, EspStatus.NotEsp]);
  });

  it('refuses plain ESP on an ESP-in-UDP SA and the other way round', () => {
    const lab = new EspLab(backend);
    const a = setUp(lab, tunnel4, 0x7000);
    lab.sad.remove(a.in);
    lab.sad.installManual({ spi: 0x7000, direction: 'inbound', mode: 'tunnel', source: V4_A, destination: V4_B,
      algorithm: 'aes-gcm-16-128', keyAndSalt: new Uint8Array(20), policyId: 1,
      udpEncapsulation: { sourcePort: 4500, destinationPort: 4500 } }, 0);
    lab.seal(a.out, [0]);
    expect(lab.open([0])).toEqual([EspStatus.EncapsulationMismatch]);
  });

  it('requires the outer destination of the SA (RFC 4301 §4.1)', () => {
    const lab = new EspLab(backend);
    const { out } = lab.pair({ spi: 0x7100, mode: 'tunnel', source: V4_A, destination: Uint8Array.of(192, 0, 2, 99),
      algorithm: 'aes-gcm-16-128' });
    lab.build(0, (b, off) => writeIpv4Packet(b, off, { payload: payloadOf(10, 0) }));
    lab.seal(out, [0]);
    const start = lab.slots.start[0];
    lab.slots.bytes.set(V4_B, start + 16);
    lab.slots.bytes.fill(0, start + 10, start + 12);
    const sum = internetChecksum(lab.slots.bytes, start, 20);
    lab.slots.bytes.set([sum >> 8, sum & 0xff], start + 10);
    expect(lab.open([0])).toEqual([EspStatus.NoSa]);
  });

  it('names every status and maps drops to data-plane reasons', () => {
    expect(ESP_STATUS_NAMES).toHaveLength(EspStatus.Unsupported + 1);
    expect(espDropReason(EspStatus.Ok)).toBe(-1);
    expect(espDropReason(EspStatus.AuthFailed)).toBe(DropReason.IcvFailure);
    expect(espDropReason(EspStatus.Replay)).toBe(DropReason.Replay);
    expect(espDropReason(EspStatus.SeqOverflow)).toBe(DropReason.SaExpired);
  });
});
