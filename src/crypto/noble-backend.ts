/** Pure-TypeScript AEAD backend on @noble/ciphers; byte-identical to the native backend. */
import { inspect } from 'node:util';
import { gcm } from '@noble/ciphers/aes.js';
import { chacha20poly1305 } from '@noble/ciphers/chacha.js';
import {
  AEAD_KEY_BYTES, AEAD_OP_STRIDE, AeadOp, AeadStatus, ESP_HEADER_BYTES, ESP_ICV_BYTES,
  AeadError, checkKeyMaterial, type AeadAlgorithm, type AeadBackend, type SaOptions,
} from './aead.js';

interface NobleSa {
  alg: AeadAlgorithm;
  key: Uint8Array;
  salt: Uint8Array;
  esn: boolean;
  nonce: Uint8Array;
  aad8: Uint8Array;
  aad12: Uint8Array;
}

export class NobleAeadBackend implements AeadBackend {
  readonly name = 'noble' as const;

  /** Never print key material: console.log / util.inspect show only the backend name and SA count. */
  [inspect.custom](): string {
    return `NobleAeadBackend { sas: ${this.sas.filter(Boolean).length} }`;
  }

  toJSON(): object {
    return { name: this.name, sas: this.sas.filter(Boolean).length };
  }
  private readonly sas: (NobleSa | undefined)[] = [];
  /** Generation per slot: a handle is generation << 16 | slot, so stale handles fail (like native). */
  private readonly generations: number[] = [];
  private readonly freeSlots: number[] = [];

  createSa(alg: AeadAlgorithm, keyAndSalt: Uint8Array, options: SaOptions): number {
    checkKeyMaterial(alg, keyAndSalt);
    const k = AEAD_KEY_BYTES[alg];
    const sa: NobleSa = {
      alg,
      // Copies: slice() on a Node Buffer would share the caller's memory.
      key: new Uint8Array(keyAndSalt.subarray(0, k)),
      salt: new Uint8Array(keyAndSalt.subarray(k)),
      esn: options.esn,
      nonce: new Uint8Array(12),
      aad8: new Uint8Array(8),
      aad12: new Uint8Array(12),
    };
    sa.nonce.set(sa.salt, 0);
    const slot = this.freeSlots.shift() ?? this.sas.length;
    if (slot > 0xffff) throw new AeadError('too many SAs: at most 65536 may exist at once');
    const generation = ((this.generations[slot] ?? 0) % 0x7fff) + 1;
    this.generations[slot] = generation;
    this.sas[slot] = sa;
    return (generation << 16) | slot;
  }

  freeSa(handle: number): void {
    const sa = this.lookup(handle);
    if (!sa) return;
    sa.key.fill(0);
    sa.salt.fill(0);
    sa.nonce.fill(0);
    const slot = handle & 0xffff;
    this.sas[slot] = undefined;
    this.freeSlots.push(slot);
  }

  /** Runs submitted so far (each is done when submit returns). */
  private tickets = 0;

  private lookup(handle: number): NobleSa | undefined {
    const slot = handle & 0xffff;
    return this.generations[slot] === handle >>> 16 ? this.sas[slot] : undefined;
  }

  sealBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void {
    this.run(true, buf, ops, 0, count, status);
  }

  openBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void {
    this.run(false, buf, ops, 0, count, status);
  }

  /** Runs at once: this backend has no crypto thread. */
  submit(seal: boolean, buf: Uint8Array, ops: Int32Array, first: number, count: number, status: Uint8Array): number {
    this.run(seal, buf, ops, first, count, status);
    return ++this.tickets;
  }

  settle(): void {}

  /** @noble/ciphers runs on the JS thread only. */
  setCryptoThread(): boolean {
    return false;
  }

  sealOne(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    return oneShot(alg, key, nonce, aad).encrypt(plaintext);
  }

  openOne(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    try {
      return oneShot(alg, key, nonce, aad).decrypt(sealed);
    } catch {
      return null;
    }
  }

  private run(seal: boolean, buf: Uint8Array, ops: Int32Array, first: number, count: number, status: Uint8Array): void {
    if (first + count > status.length || (first + count) * AEAD_OP_STRIDE > ops.length) {
      throw new AeadError(`ops ${first}..${first + count} exceed the batch arrays (ops holds ${ops.length / AEAD_OP_STRIDE} records, status ${status.length} entries): pass a smaller count or larger arrays`);
    }
    for (let i = first; i < first + count; i++) {
      const o = i * AEAD_OP_STRIDE;
      const sa = this.lookup(ops[o + AeadOp.Handle]);
      if (!sa) { status[i] = AeadStatus.BadHandle; continue; }
      const esp = ops[o + AeadOp.EspOffset];
      const textLen = ops[o + AeadOp.TextLength];
      const text = esp + ESP_HEADER_BYTES;
      if (esp < 0 || textLen < 0 || text + textLen + ESP_ICV_BYTES > buf.length) { status[i] = AeadStatus.BadBounds; continue; }
      sa.nonce.set(buf.subarray(esp + 8, esp + 16), 4);
      let aad: Uint8Array;
      if (sa.esn) {
        aad = sa.aad12;
        aad.set(buf.subarray(esp, esp + 4), 0);
        const hi = ops[o + AeadOp.SeqHigh] >>> 0;
        aad[4] = hi >>> 24; aad[5] = (hi >>> 16) & 0xff; aad[6] = (hi >>> 8) & 0xff; aad[7] = hi & 0xff;
        aad.set(buf.subarray(esp + 4, esp + 8), 8);
      } else {
        aad = sa.aad8;
        aad.set(buf.subarray(esp, esp + 8), 0);
      }
      const cipher = cipherFor(sa.alg, sa.key, sa.nonce, aad);
      if (seal) {
        buf.set(cipher.encrypt(buf.subarray(text, text + textLen)), text);
        status[i] = AeadStatus.Ok;
      } else {
        try {
          buf.set(cipher.decrypt(buf.subarray(text, text + textLen + ESP_ICV_BYTES)), text);
          status[i] = AeadStatus.Ok;
        } catch {
          status[i] = AeadStatus.AuthFailed;
        }
      }
    }
  }
}

function cipherFor(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  return alg === 'chacha20-poly1305' ? chacha20poly1305(key, nonce, aad) : gcm(key, nonce, aad);
}

function oneShot(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array) {
  if (AEAD_KEY_BYTES[alg] !== key.length) throw new AeadError(`${alg} needs a ${AEAD_KEY_BYTES[alg]}-byte key, got ${key.length}`);
  if (nonce.length !== 12) throw new AeadError(`${alg} needs a 12-byte nonce, got ${nonce.length}`);
  return cipherFor(alg, key, nonce, aad);
}
