/**
 * AEAD backend on the native addon, which runs the OpenSSL inside the node binary (its AES-GCM and
 * ChaCha20-Poly1305 provider code, looked up once per algorithm): one N-API call seals or
 * opens a whole batch in place. Keys go into native SA contexts and never come back to JS.
 */
import { loadAddonLayer, type AddonLoad } from '../platform/native-addon.js';
import { AEAD_ALGORITHMS, AeadError, checkKeyMaterial, type AeadAlgorithm, type AeadBackend, type SaOptions } from './aead.js';

/** The addon's exports used by the crypto layer (src/io/native-frame-io.ts types the frame I/O ones). */
export interface NativeAddon {
  aeadCreateSa(alg: number, keyAndSalt: Uint8Array, esn: boolean): number;
  aeadFreeSa(handle: number): void;
  aeadSealBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void;
  aeadOpenBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void;
  aeadSubmit(seal: boolean, buf: Uint8Array, ops: Int32Array, first: number, count: number, status: Uint8Array): number;
  aeadSettle(ticket?: number): void;
  /** Starts or stops the crypto thread; returns whether it runs. */
  aeadCryptoThread(on: boolean): boolean;
  aeadSealOne(alg: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  aeadOpenOne(alg: number, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
  /** Seals `packets` ESP packets in a C loop without crossing N-API; returns elapsed nanoseconds. */
  aeadBenchBare(alg: number, payloadSize: number, packets: number, slots?: number, slotSize?: number): number;
}

/** Algorithm ids understood by native/src/aead.c. */
const NATIVE_ALG_ID: Record<AeadAlgorithm, number> = {
  'aes-gcm-16-128': 0,
  'aes-gcm-16-256': 1,
  'chacha20-poly1305': 2,
};

function load(): AddonLoad<NativeAddon> {
  return loadAddonLayer<NativeAddon>('aeadSealBatch', 'AEAD functions');
}

/** The addon's exports, or null when it is not built or does not load (see nativeAddonProblem). */
export function loadNativeAddon(): NativeAddon | null {
  return load().addon;
}

/** Why loadNativeAddon returns null, or null when the addon loaded. */
export function nativeAddonProblem(): string | null {
  return load().problem;
}

/** Native errors are misuse of the API: surface them as AeadError (their messages carry no key bytes). */
function asAeadError(e: unknown): AeadError {
  return e instanceof AeadError ? e : new AeadError((e as Error).message);
}

function requireAddon(): NativeAddon {
  const addon = loadNativeAddon();
  if (addon === null) throw new AeadError(nativeAddonProblem() ?? 'native addon unavailable');
  return addon;
}

export class NativeAeadBackend implements AeadBackend {
  readonly name = 'native' as const;
  private readonly addon: NativeAddon;

  /** Throws AeadError when the addon is not built or does not load. */
  constructor(addon: NativeAddon = requireAddon()) {
    this.addon = addon;
  }

  createSa(alg: AeadAlgorithm, keyAndSalt: Uint8Array, options: SaOptions): number {
    checkKeyMaterial(alg, keyAndSalt);
    try {
      return this.addon.aeadCreateSa(NATIVE_ALG_ID[alg], keyAndSalt, options.esn);
    } catch (e) {
      throw asAeadError(e);
    }
  }

  freeSa(handle: number): void {
    try {
      this.addon.aeadFreeSa(handle);
    } catch (e) {
      throw asAeadError(e);
    }
  }

  sealBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void {
    try {
      this.addon.aeadSealBatch(buf, ops, count, status);
    } catch (e) {
      throw asAeadError(e);
    }
  }

  openBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void {
    try {
      this.addon.aeadOpenBatch(buf, ops, count, status);
    } catch (e) {
      throw asAeadError(e);
    }
  }

  submit(seal: boolean, buf: Uint8Array, ops: Int32Array, first: number, count: number, status: Uint8Array): number {
    try {
      return this.addon.aeadSubmit(seal, buf, ops, first, count, status);
    } catch (e) {
      throw asAeadError(e);
    }
  }

  settle(ticket?: number): void {
    if (ticket === undefined) this.addon.aeadSettle();
    else this.addon.aeadSettle(ticket);
  }

  /**
   * With a spare core, sealing on the crypto thread overlaps the classification of the rest of
   * the batch. One thread for the process (all SAs live in one table).
   */
  setCryptoThread(on: boolean): boolean {
    return this.addon.aeadCryptoThread(on);
  }

  sealOne(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array {
    try {
      return this.addon.aeadSealOne(algorithmId(alg), key, nonce, aad, plaintext);
    } catch (e) {
      throw asAeadError(e);
    }
  }

  openOne(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null {
    try {
      return this.addon.aeadOpenOne(algorithmId(alg), key, nonce, aad, sealed);
    } catch (e) {
      throw asAeadError(e);
    }
  }
}

function algorithmId(alg: AeadAlgorithm): number {
  const id = NATIVE_ALG_ID[alg];
  if (id === undefined) throw new AeadError(`unknown AEAD algorithm "${String(alg)}": use one of ${AEAD_ALGORITHMS.join(', ')}`);
  return id;
}

/** Where benchBare's packets lie: `slots` buffers `slotSize` bytes apart, cycled through. */
export interface BareLayout {
  readonly slots: number;
  readonly slotSize: number;
}

/**
 * The benchmark ceiling: seals `packets` ESP packets of `payloadSize` text bytes entirely in C
 * with the same per-packet work as sealBatch. `layout` gives it a batch's memory footprint
 * (default: 32 packets on consecutive cache lines). Returns elapsed nanoseconds.
 */
export function benchBare(alg: AeadAlgorithm, payloadSize: number, packets: number, layout?: BareLayout): number {
  try {
    const addon = requireAddon();
    return layout === undefined
      ? addon.aeadBenchBare(algorithmId(alg), payloadSize, packets)
      : addon.aeadBenchBare(algorithmId(alg), payloadSize, packets, layout.slots, layout.slotSize);
  } catch (e) {
    throw asAeadError(e);
  }
}
