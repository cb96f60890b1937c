import { describe, expect, it } from 'vitest';
import { AeadStatus, ESP_HEADER_BYTES, ESP_ICV_BYTES, type AeadBackend } from '../../src/crypto/aead.js';
import { NativeAeadBackend } from '../../src/crypto/native-backend.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { AEAD_SUBMIT_CHUNK, AeadRuns } from '../../src/ipsec/aead-runs.js';

const TEXT = 48;
const STRIDE = ESP_HEADER_BYTES + TEXT + ESP_ICV_BYTES;

/** The real noble backend, with every submitted run recorded as [first, count]. */
function recording(): { backend: AeadBackend; runs: [number, number][] } {
  const inner = new NobleAeadBackend();
  const runs: [number, number][] = [];
  const backend = Object.assign(Object.create(inner) as AeadBackend, {
    submit: (seal: boolean, buf: Uint8Array, ops: Int32Array, first: number, count: number, status: Uint8Array) => {
      runs.push([first, count]);
      return inner.submit(seal, buf, ops, first, count, status);
    },
  });
  return { backend, runs };
}

function fill(runs: AeadRuns, handle: number, packets: number): void {
  for (let p = 0; p < packets; p++) {
    runs.add(p, handle, p * STRIDE, TEXT, 0);
    runs.added();
  }
}

describe('AeadRuns', () => {
  it('hands ops over a chunk at a time while they are added, and the rest on submitRest', () => {
    const { backend, runs: submitted } = recording();
    const handle = backend.createSa('aes-gcm-16-128', new Uint8Array(20).fill(3), { esn: true });
    const runs = new AeadRuns(backend, true, 128);
    runs.begin(new Uint8Array(100 * STRIDE));
    fill(runs, handle, 100);
    expect(submitted).toEqual([[0, AEAD_SUBMIT_CHUNK], [32, AEAD_SUBMIT_CHUNK], [64, AEAD_SUBMIT_CHUNK]]);
    runs.submitRest();
    expect(submitted[3]).toEqual([96, 4]);
    for (let p = 0; p < 100; p++) expect(runs.status[runs.take(p)]).toBe(AeadStatus.Ok);
    runs.end();
    expect(runs.count).toBe(0);
  });

  it('takes ops back only in the order they were added, and only once handed over', () => {
    const backend = new NobleAeadBackend();
    const runs = new AeadRuns(backend, true, 8);
    runs.begin(new Uint8Array(8 * STRIDE));
    fill(runs, backend.createSa('aes-gcm-16-128', new Uint8Array(20), { esn: false }), 3);
    expect(() => runs.take(0)).toThrow(/not the next one handed to the AEAD backend/);
    runs.end();
    runs.begin(new Uint8Array(8 * STRIDE));
    fill(runs, 1, 3);
    runs.submitRest();
    expect(() => runs.take(1)).toThrow(RangeError);
    runs.end();
  });

  it('is full at its capacity; each op record holds the SA handle, ESP offset, text length and ESN high half', () => {
    const runs = new AeadRuns(new NobleAeadBackend(), false, 2);
    runs.begin(new Uint8Array(2 * STRIDE));
    runs.add(0, 1, 0, TEXT, 5);
    expect(runs.full).toBe(false);
    runs.add(1, 1, STRIDE, TEXT, 0);
    expect(runs.full).toBe(true);
    expect(Array.from(runs.ops.subarray(0, 4))).toEqual([1, 0, TEXT, 5]);
    runs.end();
  });

  it('with the crypto thread, each op taken is done and end leaves nothing running', () => {
    const native = new NativeAeadBackend();
    native.setCryptoThread(true);
    try {
      const handle = native.createSa('chacha20-poly1305', new Uint8Array(36).fill(9), { esn: false });
      const runs = new AeadRuns(native, true, 256);
      runs.begin(new Uint8Array(256 * STRIDE));
      fill(runs, handle, 256);
      runs.submitRest();
      for (let p = 0; p < 128; p++) expect(runs.status[runs.take(p)]).toBe(AeadStatus.Ok);
      runs.end();
      expect(Array.from(runs.status).every((s) => s === AeadStatus.Ok)).toBe(true);
      native.freeSa(handle);
    } finally {
      native.setCryptoThread(false);
    }
  });
});
