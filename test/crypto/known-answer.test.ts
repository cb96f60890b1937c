import { describe, expect, it } from 'vitest';
import { bytesToHex, hexToBytes } from '@noble/ciphers/utils.js';
import {
  AEAD_OP_STRIDE, AeadOp, AeadStatus, ESP_HEADER_BYTES, type AeadBackend,
} from '../../src/crypto/aead.js';
import { NativeAeadBackend } from '../../src/crypto/native-backend.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { GCM_SPEC_VECTORS } from './vectors/gcm-spec.js';
import { RFC7634_ESP, RFC8439_AEAD } from './vectors/chacha20-poly1305.js';
import { ESP_VECTORS, type EspVector } from './vectors/esp-packets.js';

const BACKENDS: AeadBackend[] = [new NativeAeadBackend(), new NobleAeadBackend()];
const ONE_SHOT_VECTORS = [...GCM_SPEC_VECTORS, RFC8439_AEAD, RFC7634_ESP];

/** Lays the vectors out back to back at odd offsets, as a batch over one shared buffer. */
function layout(vectors: readonly EspVector[], backend: AeadBackend) {
  const offsets: number[] = [];
  let end = 3;
  for (const v of vectors) {
    offsets.push(end);
    end += v.packet.length / 2 + 5;
  }
  const buf = new Uint8Array(end);
  const ops = new Int32Array(vectors.length * AEAD_OP_STRIDE);
  const handles = vectors.map((v, i) => {
    const handle = backend.createSa(v.alg, hexToBytes(v.keyAndSalt), { esn: v.esn });
    const o = i * AEAD_OP_STRIDE;
    ops[o + AeadOp.Handle] = handle;
    ops[o + AeadOp.EspOffset] = offsets[i];
    ops[o + AeadOp.TextLength] = v.text.length / 2;
    ops[o + AeadOp.SeqHigh] = v.seqHigh;
    return handle;
  });
  return { buf, ops, offsets, handles, status: new Uint8Array(vectors.length).fill(0xff) };
}

describe.each(BACKENDS)('$name backend known answers', (backend) => {
  it.each(ONE_SHOT_VECTORS)('sealOne/openOne: $name', (v) => {
    const key = hexToBytes(v.key);
    const nonce = hexToBytes(v.nonce);
    const aad = hexToBytes(v.aad);
    const sealed = backend.sealOne(v.alg, key, nonce, aad, hexToBytes(v.plaintext));
    expect(bytesToHex(sealed)).toBe(v.ciphertext + v.tag);
    const opened = backend.openOne(v.alg, key, nonce, aad, sealed);
    expect(opened && bytesToHex(opened)).toBe(v.plaintext);
    sealed[sealed.length - 1] ^= 0x01;
    expect(backend.openOne(v.alg, key, nonce, aad, sealed)).toBeNull();
  });

  it('sealBatch produces every ESP vector packet in one call', () => {
    const { buf, ops, offsets, handles, status } = layout(ESP_VECTORS, backend);
    ESP_VECTORS.forEach((v, i) => {
      buf.set(hexToBytes(v.packet.slice(0, ESP_HEADER_BYTES * 2)), offsets[i]);
      buf.set(hexToBytes(v.text), offsets[i] + ESP_HEADER_BYTES);
    });
    backend.sealBatch(buf, ops, ESP_VECTORS.length, status);
    expect([...status]).toEqual(ESP_VECTORS.map(() => AeadStatus.Ok));
    ESP_VECTORS.forEach((v, i) => {
      expect(bytesToHex(buf.subarray(offsets[i], offsets[i] + v.packet.length / 2)), v.name).toBe(v.packet);
    });
    handles.forEach((h) => backend.freeSa(h));
  });

  it('openBatch recovers the text of every ESP vector packet in one call', () => {
    const { buf, ops, offsets, handles, status } = layout(ESP_VECTORS, backend);
    ESP_VECTORS.forEach((v, i) => buf.set(hexToBytes(v.packet), offsets[i]));
    backend.openBatch(buf, ops, ESP_VECTORS.length, status);
    expect([...status]).toEqual(ESP_VECTORS.map(() => AeadStatus.Ok));
    ESP_VECTORS.forEach((v, i) => {
      const text = offsets[i] + ESP_HEADER_BYTES;
      expect(bytesToHex(buf.subarray(text, text + v.text.length / 2)), v.name).toBe(v.text);
    });
    handles.forEach((h) => backend.freeSa(h));
  });

  it('openBatch rejects an ESN vector opened with the wrong SeqHigh (RFC 4303 section 2.2.1)', () => {
    const esnVectors = ESP_VECTORS.filter((v) => v.esn);
    const { buf, ops, offsets, handles, status } = layout(esnVectors, backend);
    esnVectors.forEach((v, i) => {
      buf.set(hexToBytes(v.packet), offsets[i]);
      ops[i * AEAD_OP_STRIDE + AeadOp.SeqHigh] = v.seqHigh + 1;
    });
    backend.openBatch(buf, ops, esnVectors.length, status);
    expect([...status]).toEqual(esnVectors.map(() => AeadStatus.AuthFailed));
    handles.forEach((h) => backend.freeSa(h));
  });
});
