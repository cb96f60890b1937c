import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AEAD_ALGORITHMS, AEAD_KEY_BYTES, AEAD_OP_STRIDE, AEAD_SALT_BYTES, AeadError, AeadOp, AeadStatus, ESP_HEADER_BYTES,
  ESP_ICV_BYTES, type AeadAlgorithm, type AeadBackend,
} from '../../src/crypto/aead.js';
import { NativeAeadBackend } from '../../src/crypto/native-backend.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';

const randomBytes = (n: number) => crypto.getRandomValues(new Uint8Array(n));
const native = new NativeAeadBackend();
const noble = new NobleAeadBackend();
const BACKENDS: AeadBackend[] = [native, noble];

interface Packet {
  alg: AeadAlgorithm;
  esn: boolean;
  seqHigh: number;
  keyAndSalt: Uint8Array;
  /** SPI | Seq | IV followed by the text; the ICV room after it is left zero. */
  header: Uint8Array;
  text: Uint8Array;
}

/** Runs one packet through a backend at `offset` inside a buffer with spare bytes after it. */
function run(backend: AeadBackend, p: Packet, wire: Uint8Array, seal: boolean, offset = 0) {
  const buf = new Uint8Array(offset + wire.length + 7);
  buf.set(wire, offset);
  const handle = backend.createSa(p.alg, p.keyAndSalt, { esn: p.esn });
  const ops = Int32Array.of(handle, offset, p.text.length, p.seqHigh);
  const status = new Uint8Array(1).fill(0xff);
  (seal ? backend.sealBatch : backend.openBatch).call(backend, buf, ops, 1, status);
  backend.freeSa(handle);
  return { status: status[0], wire: buf.slice(offset, offset + wire.length) };
}

function plainWire(p: Packet): Uint8Array {
  const wire = new Uint8Array(ESP_HEADER_BYTES + p.text.length + ESP_ICV_BYTES);
  wire.set(p.header);
  wire.set(p.text, ESP_HEADER_BYTES);
  return wire;
}

const packetArb = (maxText: number) =>
  fc.record({
    alg: fc.constantFrom(...AEAD_ALGORITHMS),
    esn: fc.boolean(),
    seqHigh: fc.integer({ min: 0, max: 0xffffffff }),
    keyAndSalt: fc.uint8Array({ minLength: 36, maxLength: 36 }),
    header: fc.uint8Array({ minLength: ESP_HEADER_BYTES, maxLength: ESP_HEADER_BYTES }),
    text: fc.integer({ min: 0, max: maxText }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
    offset: fc.integer({ min: 0, max: 64 }),
  }).map(({ keyAndSalt, ...rest }) => ({ ...rest, keyAndSalt: keyAndSalt.subarray(0, AEAD_KEY_BYTES[rest.alg] + AEAD_SALT_BYTES) }));

describe('native and noble backends agree', () => {
  it('seal byte-identically and open each other\'s packets (random keys, text 0..9000 bytes, ESN and not)', () => {
    fc.assert(
      fc.property(packetArb(9000), (p) => {
        const sealedNative = run(native, p, plainWire(p), true, p.offset);
        const sealedNoble = run(noble, p, plainWire(p), true, p.offset);
        expect(sealedNative.status).toBe(AeadStatus.Ok);
        expect(sealedNoble.status).toBe(AeadStatus.Ok);
        expect(Buffer.from(sealedNative.wire).equals(sealedNoble.wire)).toBe(true);
        const openedByNoble = run(noble, p, sealedNative.wire, false, p.offset);
        const openedByNative = run(native, p, sealedNoble.wire, false, p.offset);
        expect(openedByNoble.status).toBe(AeadStatus.Ok);
        expect(openedByNative.status).toBe(AeadStatus.Ok);
        const text = (w: Uint8Array) => Buffer.from(w.subarray(ESP_HEADER_BYTES, ESP_HEADER_BYTES + p.text.length));
        expect(text(openedByNoble.wire).equals(p.text)).toBe(true);
        expect(text(openedByNative.wire).equals(p.text)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it('sealOne/openOne agree for any AAD length', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...AEAD_ALGORITHMS),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.integer({ min: 0, max: 300 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        fc.integer({ min: 0, max: 2000 }).chain((n) => fc.uint8Array({ minLength: n, maxLength: n })),
        (alg, key32, nonce, aad, plaintext) => {
          const key = key32.subarray(0, AEAD_KEY_BYTES[alg]);
          const a = native.sealOne(alg, key, nonce, aad, plaintext);
          const b = noble.sealOne(alg, key, nonce, aad, plaintext);
          expect(Buffer.from(a).equals(b)).toBe(true);
          expect(Buffer.from(noble.openOne(alg, key, nonce, aad, a) ?? []).equals(plaintext)).toBe(true);
          expect(Buffer.from(native.openOne(alg, key, nonce, aad, b) ?? []).equals(plaintext)).toBe(true);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe.each(BACKENDS)('$name backend rejects', (backend) => {
  function sealedPacket(alg: AeadAlgorithm, esn: boolean): Packet & { wire: Uint8Array } {
    const p: Packet = {
      alg, esn, seqHigh: 0x01020304,
      keyAndSalt: randomBytes(AEAD_KEY_BYTES[alg] + AEAD_SALT_BYTES),
      header: randomBytes(ESP_HEADER_BYTES),
      text: randomBytes(40),
    };
    return { ...p, wire: run(backend, p, plainWire(p), true).wire };
  }

  it.each(AEAD_ALGORITHMS.flatMap((alg) => [{ alg, esn: false }, { alg, esn: true }]))(
    'every single flipped byte of SPI, Seq, IV, text and ICV: $alg esn=$esn',
    ({ alg, esn }) => {
      const p = sealedPacket(alg, esn);
      expect(run(backend, p, p.wire, false).status).toBe(AeadStatus.Ok);
      for (let i = 0; i < p.wire.length; i++) {
        const tampered = p.wire.slice();
        tampered[i] ^= 0x01 << (i % 8);
        expect(run(backend, p, tampered, false).status, `byte ${i}`).toBe(AeadStatus.AuthFailed);
      }
    },
  );

  it('a packet opened under another key', () => {
    const p = sealedPacket('aes-gcm-16-256', false);
    const other = { ...p, keyAndSalt: randomBytes(p.keyAndSalt.length) };
    expect(run(backend, other, p.wire, false).status).toBe(AeadStatus.AuthFailed);
  });

  it('a freed handle with BadHandle', () => {
    const handle = backend.createSa('aes-gcm-16-128', randomBytes(20), { esn: false });
    backend.freeSa(handle);
    const buf = new Uint8Array(64);
    const status = new Uint8Array(2).fill(0xff);
    const ops = Int32Array.of(handle, 0, 16, 0, -7, 0, 16, 0);
    backend.sealBatch(buf, ops, 2, status);
    expect([...status]).toEqual([AeadStatus.BadHandle, AeadStatus.BadHandle]);
    expect(buf.every((b) => b === 0)).toBe(true);
  });

  it('ops outside the buffer with BadBounds, and still serves the good ops of the batch', () => {
    const handle = backend.createSa('chacha20-poly1305', randomBytes(36), { esn: false });
    const buf = new Uint8Array(100);
    const fits = buf.length - ESP_HEADER_BYTES - ESP_ICV_BYTES; // 68 text bytes end exactly at the buffer end
    const cases: [number, number, AeadStatus][] = [
      [0, fits, AeadStatus.Ok],
      [0, fits + 1, AeadStatus.BadBounds],
      [1, fits, AeadStatus.BadBounds],
      [-1, 4, AeadStatus.BadBounds],
      [0, -1, AeadStatus.BadBounds],
      [buf.length, 0, AeadStatus.BadBounds],
      [0x7fffffff, 0x7fffffff, AeadStatus.BadBounds],
    ];
    const ops = new Int32Array(cases.length * AEAD_OP_STRIDE);
    cases.forEach(([esp, len], i) => {
      ops[i * AEAD_OP_STRIDE + AeadOp.Handle] = handle;
      ops[i * AEAD_OP_STRIDE + AeadOp.EspOffset] = esp;
      ops[i * AEAD_OP_STRIDE + AeadOp.TextLength] = len;
    });
    const status = new Uint8Array(cases.length).fill(0xff);
    backend.sealBatch(buf, ops, cases.length, status);
    expect([...status]).toEqual(cases.map((c) => c[2]));
    expect(buf.subarray(buf.length - ESP_ICV_BYTES).some((b) => b !== 0)).toBe(true); // the fitting op wrote its ICV
    backend.freeSa(handle);
  });

  it('wrong key lengths with an AeadError that names the lengths but not the key', () => {
    const key = new Uint8Array(19).fill(0xde);
    const leaks = (message: string) => /dede|DEDE|222/.test(message);
    for (const alg of AEAD_ALGORITHMS) {
      const err = (() => { try { backend.createSa(alg, key, { esn: false }); } catch (e) { return e; } })();
      expect(err).toBeInstanceOf(AeadError);
      expect((err as AeadError).message).toContain(`${AEAD_KEY_BYTES[alg] + AEAD_SALT_BYTES} bytes`);
      expect(leaks((err as AeadError).message)).toBe(false);
      const oneShot = (() => { try { backend.sealOne(alg, key, new Uint8Array(12), new Uint8Array(0), key); } catch (e) { return e; } })();
      expect(oneShot).toBeInstanceOf(AeadError);
      expect((oneShot as AeadError).message).toContain(`${AEAD_KEY_BYTES[alg]}-byte key`);
      expect(leaks((oneShot as AeadError).message)).toBe(false);
    }
  });

  it('a one-shot nonce that is not 12 bytes with an AeadError', () => {
    expect(() => backend.sealOne('aes-gcm-16-128', new Uint8Array(16), new Uint8Array(8), new Uint8Array(0), new Uint8Array(1)))
      .toThrow(/12-byte nonce/);
  });
});

describe('noble backend hygiene', () => {
  it('never shows key bytes through inspect or JSON', async () => {
    const { inspect } = await import('node:util');
    const { NobleAeadBackend } = await import('../../src/crypto/noble-backend.js');
    const backend = new NobleAeadBackend();
    const key = Uint8Array.from({ length: 20 }, () => 0xab);
    backend.createSa('aes-gcm-16-128', key, { esn: false });
    const shown = inspect(backend, { depth: 10 }) + JSON.stringify(backend);
    expect(shown).not.toMatch(/171|0xab|ab, ab/i);
    expect(shown).toContain('sas: 1');
  });
});
