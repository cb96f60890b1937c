import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AEAD_ALGORITHMS, AeadError, AeadStatus, ESP_HEADER_BYTES, ESP_ICV_BYTES } from '../../src/crypto/aead.js';
import { NativeAeadBackend, benchBare, loadNativeAddon, nativeAddonProblem } from '../../src/crypto/native-backend.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';

const backend = new NativeAeadBackend();
const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** Seals one 32-byte-text packet at offset 0 and returns its status and wire bytes. */
function sealOnce(handle: number, seed = 7) {
  const buf = new Uint8Array(ESP_HEADER_BYTES + 32 + ESP_ICV_BYTES).fill(seed);
  const status = new Uint8Array(1).fill(0xff);
  backend.sealBatch(buf, Int32Array.of(handle, 0, 32, 0), 1, status);
  return { status: status[0], buf };
}

describe('native addon loading', () => {
  it('finds the built addon from src/ and exposes every AEAD export', () => {
    const addon = loadNativeAddon();
    expect(nativeAddonProblem()).toBeNull();
    expect(addon).not.toBeNull();
    for (const fn of ['aeadCreateSa', 'aeadFreeSa', 'aeadSealBatch', 'aeadOpenBatch', 'aeadSubmit', 'aeadSettle', 'aeadCryptoThread', 'aeadSealOne', 'aeadOpenOne', 'aeadBenchBare']) {
      expect(typeof (addon as unknown as Record<string, unknown>)[fn], fn).toBe('function');
    }
  });
});

describe('native SA handles', () => {
  it('a stale handle stays BadHandle after its slot is reused by a new SA', () => {
    const stale = backend.createSa('aes-gcm-16-128', random(20), { esn: false });
    backend.freeSa(stale);
    // Slots are handed out round-robin: create SAs until one lands in the stale handle's slot.
    const live: number[] = [];
    do live.push(backend.createSa('aes-gcm-16-128', random(20), { esn: false }));
    while ((live[live.length - 1] & 0xffff) !== (stale & 0xffff) && live.length <= 65536);
    expect(live[live.length - 1] & 0xffff).toBe(stale & 0xffff);
    expect(live).not.toContain(stale);
    expect(sealOnce(stale).status).toBe(AeadStatus.BadHandle);
    for (const h of live) expect(sealOnce(h).status).toBe(AeadStatus.Ok);
    live.forEach((h) => backend.freeSa(h));
    for (const h of live) expect(sealOnce(h).status).toBe(AeadStatus.BadHandle);
  });

  it('handle 0, negative and never-issued handles are BadHandle; freeing them is harmless', () => {
    for (const h of [0, -1, 1, 0x7fffffff, 65536 * 9 + 3]) {
      expect(() => backend.freeSa(h)).not.toThrow();
      expect(sealOnce(h).status).toBe(AeadStatus.BadHandle);
    }
  });

  it('each SA keeps its own key: the same packet seals differently under two SAs', () => {
    const a = backend.createSa('chacha20-poly1305', random(36), { esn: false });
    const b = backend.createSa('chacha20-poly1305', random(36), { esn: false });
    expect(Buffer.from(sealOnce(a).buf).equals(sealOnce(b).buf)).toBe(false);
    backend.freeSa(a);
    backend.freeSa(b);
  });

  it('copies the key material: zeroizing the caller\'s Buffer after createSa does not change the SA', () => {
    const keyAndSalt = Buffer.from(random(36));
    const noble = new NobleAeadBackend();
    const reference = noble.createSa('chacha20-poly1305', Uint8Array.from(keyAndSalt), { esn: false });
    const handle = backend.createSa('chacha20-poly1305', keyAndSalt, { esn: false });
    keyAndSalt.fill(0);
    const sealed = sealOnce(handle).buf;
    const expected = new Uint8Array(sealed.length).fill(7);
    noble.sealBatch(expected, Int32Array.of(reference, 0, 32, 0), 1, new Uint8Array(1));
    expect(Buffer.from(sealed).equals(expected)).toBe(true);
    backend.freeSa(handle);
  });
});

describe('native batch failure handling', () => {
  it('zeroes the text of a packet whose ICV fails, so no unauthenticated plaintext is left (fail closed)', () => {
    const handle = backend.createSa('aes-gcm-16-256', random(36), { esn: true });
    const { buf } = sealOnce(handle);
    buf[buf.length - 1] ^= 0x80;
    const status = new Uint8Array(1);
    backend.openBatch(buf, Int32Array.of(handle, 0, 32, 0), 1, status);
    expect(status[0]).toBe(AeadStatus.AuthFailed);
    expect(buf.subarray(ESP_HEADER_BYTES, ESP_HEADER_BYTES + 32).every((b) => b === 0)).toBe(true);
    backend.freeSa(handle);
  });

  it('never touches memory outside the buffer view, whatever the op records say', () => {
    const handle = backend.createSa('aes-gcm-16-128', random(20), { esn: true });
    const guard = 64;
    const backing = new Uint8Array(guard + 200 + guard).fill(0xa5);
    const buf = backing.subarray(guard, guard + 200);
    const int32 = fc.oneof(fc.integer({ min: -40, max: 240 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
    const op = fc.tuple(fc.oneof(fc.constant(handle), int32), int32, int32, int32);
    fc.assert(
      fc.property(fc.array(op, { minLength: 1, maxLength: 8 }), fc.boolean(), (records, seal) => {
        const ops = Int32Array.from(records.flat());
        const status = new Uint8Array(records.length).fill(0xff);
        (seal ? backend.sealBatch : backend.openBatch).call(backend, buf, ops, records.length, status);
        expect(status.every((s) => s <= AeadStatus.BadBounds)).toBe(true);
        expect(backing.subarray(0, guard).every((b) => b === 0xa5)).toBe(true);
        expect(backing.subarray(guard + 200).every((b) => b === 0xa5)).toBe(true);
      }),
      { numRuns: 300 },
    );
    backend.freeSa(handle);
  });

  it('rejects misuse of the batch arrays with AeadError instead of reading past them', () => {
    const handle = backend.createSa('aes-gcm-16-128', random(20), { esn: false });
    const buf = new Uint8Array(256);
    const ops = new Int32Array(8);
    const status = new Uint8Array(2);
    expect(() => backend.sealBatch(buf, ops, 3, status)).toThrow(AeadError);
    expect(() => backend.sealBatch(buf, new Int32Array(16), 3, status)).toThrow(/ops 0..3 exceed the batch arrays/);
    expect(() => backend.sealBatch(buf, ops, -1, status)).toThrow(AeadError);
    expect(() => backend.sealBatch(buf, ops, 1.5, status)).toThrow(AeadError);
    expect(() => backend.sealBatch(buf, new Uint8Array(8) as unknown as Int32Array, 1, status)).toThrow(/ops must be an Int32Array/);
    expect(() => backend.openBatch([] as unknown as Uint8Array, ops, 1, status)).toThrow(/buf must be a Uint8Array/);
    backend.sealBatch(buf, ops, 0, status); // an empty batch is fine
    backend.freeSa(handle);
  });
});

describe('submitted batches and the crypto thread', () => {
  const PACKETS = 200;
  const TEXT = 100;
  const STRIDE = ESP_HEADER_BYTES + TEXT + ESP_ICV_BYTES;

  /** PACKETS packets of random text under `handle`, with their op records. */
  function batch(handle: number) {
    const buf = random(PACKETS * STRIDE);
    const ops = new Int32Array(PACKETS * 4);
    for (let k = 0; k < PACKETS; k++) ops.set([handle, k * STRIDE, TEXT, 0], k * 4);
    return { buf, ops, status: new Uint8Array(PACKETS).fill(0xff) };
  }

  /** Submits the batch in runs of `chunk`, settles, and returns it. */
  function submitted(seal: boolean, b: ReturnType<typeof batch>, chunk: number) {
    for (let first = 0; first < PACKETS; first += chunk) backend.submit(seal, b.buf, b.ops, first, Math.min(chunk, PACKETS - first), b.status);
    backend.settle();
    return b;
  }

  it.each([false, true])('crypto thread %s: runs of any size seal and open byte-identically to one sealBatch', (thread) => {
    expect(backend.setCryptoThread(thread)).toBe(thread);
    try {
      const handle = backend.createSa('aes-gcm-16-128', random(20), { esn: true });
      const reference = batch(handle);
      const viaSubmit = { buf: reference.buf.slice(), ops: reference.ops, status: new Uint8Array(PACKETS).fill(0xff) };
      backend.sealBatch(reference.buf, reference.ops, PACKETS, reference.status);
      submitted(true, viaSubmit, 7);
      expect(Buffer.from(viaSubmit.buf).equals(reference.buf)).toBe(true);
      expect([...viaSubmit.status]).toEqual(new Array(PACKETS).fill(AeadStatus.Ok));
      // Tamper with one packet: only its status says AuthFailed.
      viaSubmit.buf[5 * STRIDE + ESP_HEADER_BYTES] ^= 1;
      submitted(false, viaSubmit, 32);
      expect(viaSubmit.status.filter((s) => s === AeadStatus.AuthFailed).length).toBe(1);
      expect(viaSubmit.status[5]).toBe(AeadStatus.AuthFailed);
      backend.freeSa(handle);
    } finally {
      backend.setCryptoThread(false);
    }
  });

  it.each([false, true])('crypto thread %s: runs get rising tickets, and settling one means it and all before it are done', (thread) => {
    backend.setCryptoThread(thread);
    try {
      const b = batch(backend.createSa('aes-gcm-16-128', random(20), { esn: false }));
      const tickets: number[] = [];
      for (let first = 0; first < PACKETS; first += 40) tickets.push(backend.submit(true, b.buf, b.ops, first, 40, b.status));
      expect(tickets.every((t, k) => k === 0 || t === tickets[k - 1] + 1)).toBe(true);
      backend.settle(tickets[2]);
      expect([...b.status.subarray(0, 120)]).toEqual(new Array(120).fill(AeadStatus.Ok));
      // A ticket not handed out yet waits for everything submitted, never for ever.
      backend.settle(tickets[tickets.length - 1] + 1000);
      expect([...b.status]).toEqual(new Array(PACKETS).fill(AeadStatus.Ok));
      backend.settle();
      expect([...b.status]).toEqual(new Array(PACKETS).fill(AeadStatus.Ok));
    } finally {
      backend.setCryptoThread(false);
    }
  });

  it('creating and freeing SAs waits for submitted work: nothing queued runs on a freed context', () => {
    backend.setCryptoThread(true);
    try {
      const handle = backend.createSa('chacha20-poly1305', random(36), { esn: false });
      const b = batch(handle);
      for (let first = 0; first < PACKETS; first += 10) backend.submit(true, b.buf, b.ops, first, 10, b.status);
      backend.freeSa(handle);
      // Everything submitted before the free was sealed with the live SA.
      expect([...b.status]).toEqual(new Array(PACKETS).fill(AeadStatus.Ok));
      backend.settle();
    } finally {
      backend.setCryptoThread(false);
    }
  });

  it('rejects a run outside the batch arrays with AeadError, thread or not', () => {
    for (const thread of [false, true]) {
      backend.setCryptoThread(thread);
      const b = batch(backend.createSa('aes-gcm-16-128', random(20), { esn: false }));
      expect(() => backend.submit(true, b.buf, b.ops, PACKETS - 1, 2, b.status)).toThrow(/exceed the batch arrays/);
      expect(() => backend.submit(true, b.buf, b.ops, -1, 1, b.status)).toThrow(AeadError);
      backend.settle();
    }
    backend.setCryptoThread(false);
  });
});

describe('native benchmark ceiling', () => {
  it.each(AEAD_ALGORITHMS)('benchBare(%s) seals in C and reports elapsed nanoseconds', (alg) => {
    const ns = benchBare(alg, 1400, 200);
    expect(Number.isFinite(ns)).toBe(true);
    expect(ns).toBeGreaterThan(0);
  });

  it('benchBare cycles over a given slot layout, and rejects slots too small for the packet', () => {
    expect(benchBare('aes-gcm-16-128', 1400, 300, { slots: 256, slotSize: 2112 })).toBeGreaterThan(0);
    expect(() => benchBare('aes-gcm-16-128', 1400, 10, { slots: 4, slotSize: 1024 })).toThrow(/slotSize must be an integer/);
    expect(() => benchBare('aes-gcm-16-128', 64, 10, { slots: 0, slotSize: 2112 })).toThrow(/slots must be an integer/);
  });

  it('benchBare rejects an impossible payload size with AeadError', () => {
    expect(() => benchBare('aes-gcm-16-128', -1, 10)).toThrow(AeadError);
    expect(() => benchBare('aes-gcm-16-128', 64, 0)).toThrow(/packets must be an integer/);
  });
});
