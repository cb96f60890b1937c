import { describe, expect, it, vi } from 'vitest';
import { AEAD_OP_STRIDE, AeadStatus } from '../../src/crypto/aead.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { LifetimeEvent } from '../../src/ipsec/lifetime.js';
import { MANUAL_KEYING_WARNING, SecurityAssociationDatabase } from '../../src/ipsec/sad.js';
import {
  SaCounter, SecurityAssociationConfigError, SEQ_LIMIT_32, SEQ_LIMIT_ESN, type SecurityAssociationConfig,
} from '../../src/ipsec/security-association.js';

const A4 = Uint8Array.of(192, 0, 2, 1);
const B4 = Uint8Array.of(192, 0, 2, 2);
const B6 = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);

function config(over: Partial<SecurityAssociationConfig> = {}): SecurityAssociationConfig {
  return {
    spi: 0x1000, direction: 'inbound', mode: 'tunnel', source: A4, destination: B4,
    algorithm: 'aes-gcm-16-128', keyAndSalt: new Uint8Array(20).fill(7), policyId: 1, ...over,
  };
}

function newSad() {
  const backend = new NobleAeadBackend();
  const warn = vi.fn();
  return { backend, warn, sad: new SecurityAssociationDatabase({ backend, warn }) };
}

/** Whether the backend still knows `handle` (a freed handle yields BadHandle). */
function handleAlive(backend: NobleAeadBackend, handle: number): boolean {
  const buf = new Uint8Array(64);
  const ops = new Int32Array(AEAD_OP_STRIDE);
  ops[0] = handle; ops[1] = 0; ops[2] = 8;
  const status = new Uint8Array(1);
  backend.sealBatch(buf, ops, 1, status);
  return status[0] !== AeadStatus.BadHandle;
}

describe('SecurityAssociationDatabase (RFC 4301 §4.4.2)', () => {
  it('finds inbound SAs by SPI and checks the outer destination, without allocating keys', () => {
    const { sad } = newSad();
    const sa = sad.install(config({ spi: 0xdead_beef }), 0);
    const pkt = new Uint8Array(40);
    pkt.set(B4, 16);
    expect(sad.lookupInbound(0xdead_beef, pkt, 16, 4)).toBe(sa);
    expect(sad.lookupInbound(0xdead_beef | 0, pkt, 16, 4)).toBe(sa); // int32 view of the SPI
    expect(sad.lookupInbound(0xdead_bee0, pkt, 16, 4)).toBeNull();
    pkt[19] = 9;
    expect(sad.lookupInbound(0xdead_beef, pkt, 16, 4)).toBeNull();
    expect(sad.lookupInbound(0xdead_beef, pkt, 0, 16)).toBeNull();
  });

  it('tells whether an inbound SA runs between two IPv4 addresses, over UDP or not, until it is removed', () => {
    const { sad } = newSad();
    const a = 0xc0000201 | 0;
    const b = 0xc0000202 | 0;
    const sa = sad.install(config(), 0);
    sad.install(config({ spi: 0x2000, direction: 'outbound', source: B4, destination: A4 }), 0);
    expect(sad.hasInboundBetween(a, b, false)).toBe(true);
    expect(sad.hasInboundBetween(b, a, false)).toBe(false);
    expect(sad.hasInboundBetween(a, b, true)).toBe(false);
    expect(sad.hasInboundBetween(a, 0xc0000209 | 0, false)).toBe(false);
    const udp = sad.install(config({ spi: 0x3000, udpEncapsulation: { sourcePort: 4500, destinationPort: 4500 } }), 0);
    expect(sad.hasInboundBetween(a, b, true)).toBe(true);
    sad.remove(udp);
    expect(sad.hasInboundBetween(a, b, true)).toBe(false);
    sad.remove(sa);
    expect(sad.hasInboundBetween(a, b, false)).toBe(false);
  });

  it('matches IPv6 outer destinations', () => {
    const { sad } = newSad();
    const src6 = B6.slice(); src6[15] = 1;
    const sa = sad.install(config({ source: src6, destination: B6 }), 0);
    const pkt = new Uint8Array(40);
    pkt.set(B6, 24);
    expect(sad.lookupInbound(0x1000, pkt, 24, 16)).toBe(sa);
  });

  it('wipes the caller key material, also when install fails', () => {
    const { sad } = newSad();
    const key = new Uint8Array(20).fill(7);
    sad.install(config({ keyAndSalt: key }), 0);
    expect(key.every((b) => b === 0)).toBe(true);
    const key2 = new Uint8Array(20).fill(7);
    expect(() => sad.install(config({ keyAndSalt: key2 }), 0)).toThrow(/spi/);
    expect(key2.every((b) => b === 0)).toBe(true);
  });

  it('rejects bad configs with a typed error naming the field, and never echoes key bytes', () => {
    const { sad } = newSad();
    const cases: [Partial<SecurityAssociationConfig>, string][] = [
      [{ spi: 255 }, 'spi'],
      [{ keyAndSalt: new Uint8Array(19).fill(0xab) }, 'keyAndSalt'],
      [{ algorithm: 'aes-cbc' as never }, 'algorithm'],
      [{ destination: B6 }, 'destination'],
      [{ source: new Uint8Array(5) }, 'source'],
      [{ mode: 'transport', tfcPadTo: 1000 }, 'tfcPadTo'],
      [{ udpEncapsulation: { sourcePort: 4500, destinationPort: 0 } }, 'udpEncapsulation.destinationPort'],
    ];
    for (const [over, field] of cases) {
      let error: unknown;
      try { sad.install(config(over), 0); } catch (e) { error = e; }
      expect(error).toBeInstanceOf(SecurityAssociationConfigError);
      expect((error as SecurityAssociationConfigError).field).toBe(field);
      expect((error as Error).message).not.toMatch(/171|0xab|ab,ab/i);
    }
    const fieldOf = (over: Partial<SecurityAssociationConfig>) => {
      try { sad.install(config(over), 0); } catch (e) { return (e as { field?: string }).field; }
      return undefined;
    };
    expect(fieldOf({ replayWindow: 31 })).toBe('replayWindow');
    expect(fieldOf({ lifetime: { hard: { packets: -1 } } })).toBe('lifetime.hard.packets');
    expect(fieldOf({ lifetime: { soft: { bytes: 9 }, hard: { bytes: 8 } } })).toBe('lifetime.soft.bytes');
    expect(sad.size).toBe(0);
  });

  it('takes the SA lifetime and replay window edges of RFC 4301 §4.4.2.1 and RFC 4303 §3.4.3, refusing with the typed error', () => {
    const { backend, sad } = newSad();
    const refusal = (over: Partial<SecurityAssociationConfig>) => {
      try { sad.install(config(over), 0); } catch (e) { return e; }
      return null;
    };
    for (const [over, field, message] of [
      [{ lifetime: { soft: { seconds: 60 }, hard: { seconds: 60 } } }, 'lifetime.soft.seconds', /60 must be below the hard limit of 60 seconds/],
      [{ lifetime: { soft: { packets: 1.5 } } }, 'lifetime.soft.packets', /1\.5 is not a count/],
      [{ replayWindow: 31 }, 'replayWindow', /31 is not a window: use a whole number of packets from 32 to 4096/],
      [{ replayWindow: 4097 }, 'replayWindow', /4097 is not a window/],
    ] as const) {
      const error = refusal(over);
      expect(error).toBeInstanceOf(SecurityAssociationConfigError);
      expect((error as SecurityAssociationConfigError).field).toBe(field);
      expect((error as Error).message).toMatch(message);
    }
    expect(sad.size).toBe(0);
    const installed = [
      { spi: 0x2001, lifetime: { soft: { seconds: 59 }, hard: { seconds: 60 } } },
      { spi: 0x2002, lifetime: { soft: { seconds: 60 } } }, // no hard limit: nothing to come before
      { spi: 0x2003, replayWindow: 32 },
      { spi: 0x2004, replayWindow: 100 }, // not a multiple of 32
      { spi: 0x2005, replayWindow: 4096 },
    ].map((over) => sad.install(config(over), 0));
    expect(installed.map((sa) => sa.replay?.size)).toEqual([1024, 1024, 32, 100, 4096]);
    expect(installed.every((sa) => handleAlive(backend, sa.handle))).toBe(true);
  });

  it('refuses a duplicate inbound SPI and a duplicate outbound SPI+destination', () => {
    const { sad } = newSad();
    sad.install(config(), 0);
    expect(() => sad.install(config({ destination: A4, source: B4 }), 0)).toThrow(SecurityAssociationConfigError);
    sad.install(config({ direction: 'outbound' }), 0);
    expect(() => sad.install(config({ direction: 'outbound', policyId: 2 }), 0)).toThrow(/spi/);
    expect(sad.install(config({ direction: 'outbound', destination: A4, source: B4 }), 0).spi).toBe(0x1000);
  });

  it('make-before-break: the newest outbound SA wins, the older one serves again when the newest goes', () => {
    const { sad } = newSad();
    const old = sad.install(config({ direction: 'outbound', spi: 0x2000 }), 0);
    expect(sad.lookupOutbound(1)).toBe(old);
    const fresh = sad.install(config({ direction: 'outbound', spi: 0x2001 }), 0);
    expect(sad.lookupOutbound(1)).toBe(fresh);
    expect(sad.lookupOutbound(2)).toBeNull();
    sad.remove(fresh);
    expect(sad.lookupOutbound(1)).toBe(old);
    sad.remove(old);
    expect(sad.lookupOutbound(1)).toBeNull();
  });

  it('remove frees the backend handle (keys zeroized) and is idempotent', () => {
    const { sad, backend } = newSad();
    const sa = sad.install(config(), 0);
    expect(handleAlive(backend, sa.handle)).toBe(true);
    expect(sad.remove(sa)).toBe(true);
    expect(handleAlive(backend, sa.handle)).toBe(false);
    expect(sa.usable).toBe(false);
    expect(sad.remove(sa)).toBe(false);
    expect(sad.lookupInbound(0x1000, B4, 0, 4)).toBeNull();
  });

  it('warns once about manual keying (RFC 4891 §6)', () => {
    const { sad, warn } = newSad();
    sad.installManual(config({ spi: 0x3000 }), 0);
    const sa = sad.installManual(config({ spi: 0x3001 }), 0);
    expect(warn).toHaveBeenCalledTimes(1);
    expect(warn).toHaveBeenCalledWith(MANUAL_KEYING_WARNING);
    expect(sa.manual).toBe(true);
  });

  it('delivers raised events after the batch and removes hard-expired SAs', () => {
    const { sad, backend } = newSad();
    const out = sad.install(config({ direction: 'outbound', lifetime: { soft: { packets: 2 }, hard: { packets: 3 } } }), 0);
    const seen: string[] = [];
    sad.on('rekey', (sa) => seen.push(`rekey ${sa.spi.toString(16)}`));
    sad.on('expire', (sa) => seen.push(`expire ${sa.spi.toString(16)} current=${String(sad.lookupOutbound(1))}`));
    for (let p = 1; p <= 3; p++) sad.raise(out, out.charge(100));
    expect(seen).toEqual([]);
    sad.deliverEvents();
    expect(seen).toEqual(['rekey 1000', 'expire 1000 current=null']);
    expect(handleAlive(backend, out.handle)).toBe(false);
    sad.deliverEvents();
    expect(seen).toHaveLength(2);
  });

  it('tick expires idle SAs by time', () => {
    const { sad } = newSad();
    const sa = sad.install(config({ lifetime: { soft: { seconds: 10 }, hard: { seconds: 20 } } }), 1000);
    const events: string[] = [];
    sad.on('rekey', () => events.push('rekey'));
    sad.on('expire', () => events.push('expire'));
    sad.tick(10_999);
    expect(events).toEqual([]);
    sad.tick(11_000);
    sad.tick(15_000);
    expect(events).toEqual(['rekey']);
    sad.tick(21_000);
    expect(events).toEqual(['rekey', 'expire']);
    expect(sad.size).toBe(0);
    expect(sa.counters[SaCounter.Packets]).toBe(0);
  });

  it('outbound sequence numbers start at 1 and never cycle (RFC 4303 §3.3.3)', () => {
    const { sad } = newSad();
    const next = (sa: { advanceSequence(): boolean; lastSeq: number }) => (sa.advanceSequence() ? sa.lastSeq : 0);
    const sa = sad.install(config({ direction: 'outbound' }), 0);
    expect(next(sa)).toBe(1);
    expect(next(sa)).toBe(2);
    sa.lastSeq = SEQ_LIMIT_32 - 1;
    expect(next(sa)).toBe(0xffff_ffff);
    expect(next(sa)).toBe(0);
    expect(next(sa)).toBe(0);
    const esn = sad.install(config({ direction: 'outbound', spi: 0x1001, esn: true }), 0);
    esn.lastSeq = SEQ_LIMIT_32;
    expect(next(esn)).toBe(2 ** 32);
    esn.lastSeq = SEQ_LIMIT_ESN - 1;
    expect(next(esn)).toBe(SEQ_LIMIT_ESN);
    expect(next(esn)).toBe(0);
  });

  it('charges packets and bytes, and reports lifetime events as totals reach the limits', () => {
    const { sad } = newSad();
    const sa = sad.install(config({ lifetime: { soft: { bytes: 250 }, hard: { packets: 4 } } }), 0);
    expect([sa.charge(100), sa.charge(100), sa.charge(100), sa.charge(100)])
      .toEqual([LifetimeEvent.None, LifetimeEvent.None, LifetimeEvent.Rekey, LifetimeEvent.Expire]);
    expect([sa.counters[SaCounter.Packets], sa.counters[SaCounter.Bytes]]).toEqual([4, 400]);
    expect(sa.usable).toBe(false);
  });

  it('shows an SA as JSON with readable addresses and counters, and nothing key-derived', () => {
    const { sad } = newSad();
    const sa = sad.install(config({ keyAndSalt: new Uint8Array(20).fill(0xab), destination: B6, source: B6,
      udpEncapsulation: { sourcePort: 4500, destinationPort: 4501 } }), 0);
    const json = JSON.parse(JSON.stringify(sa));
    expect(json).toMatchObject({
      spi: '0x00001000', direction: 'inbound', mode: 'tunnel', destination: '2001:db8::2', algorithm: 'aes-gcm-16-128',
      udpEncapsulation: { sourcePort: 4500, destinationPort: 4501 }, replayWindow: 1024, expired: false,
      counters: { packets: 0, icvFailures: 0, replayDrops: 0 },
    });
    expect(JSON.stringify(sa)).not.toMatch(/171|abab/i);
  });

  it('removeAll frees every SA', () => {
    const { sad, backend } = newSad();
    const a = sad.install(config(), 0);
    const b = sad.install(config({ direction: 'outbound' }), 0);
    sad.removeAll();
    expect(sad.size).toBe(0);
    expect(handleAlive(backend, a.handle) || handleAlive(backend, b.handle)).toBe(false);
  });
});
