/**
 * The batched AEAD contract shared by the native (OpenSSL) and noble backends.
 *
 * One call seals or opens N ESP packets in place inside a caller-owned byte buffer.
 * Per packet, `ops` holds AEAD_OP_STRIDE int32 fields (see AeadOp). The ESP layout is fixed
 * for every supported algorithm: SPI(4) | Seq(4) | IV(8) | text | ICV(16).
 *  - nonce = salt(4) || IV(8)               (RFC 4106 §4, RFC 7634 §2)
 *  - AAD   = SPI || Seq                      (RFC 4106 §5, RFC 7634 §2.1)
 *  - AAD   = SPI || SeqHigh || SeqLow        when the SA uses ESN
 * Keys live inside the backend; callers hold only an integer handle.
 */

export type AeadAlgorithm = 'aes-gcm-16-128' | 'aes-gcm-16-256' | 'chacha20-poly1305';

export const AEAD_ALGORITHMS: readonly AeadAlgorithm[] = ['aes-gcm-16-128', 'aes-gcm-16-256', 'chacha20-poly1305'];

/** Key length without salt, in bytes. KEYMAT = key || 4-byte salt (RFC 4106 §8.1, RFC 7634 §4). */
export const AEAD_KEY_BYTES: Record<AeadAlgorithm, number> = {
  'aes-gcm-16-128': 16,
  'aes-gcm-16-256': 32,
  'chacha20-poly1305': 32,
};
export const AEAD_SALT_BYTES = 4;
export const ESP_IV_BYTES = 8;
export const ESP_ICV_BYTES = 16;
/** SPI + Seq + IV: bytes from the start of the ESP header to the first encrypted byte. */
export const ESP_HEADER_BYTES = 16;

/** Field indexes inside one op record of `ops`. */
export const enum AeadOp {
  /** SA handle from createSa. */
  Handle = 0,
  /** Offset of the ESP header (SPI) in the buffer. */
  EspOffset = 1,
  /** Length of the text (plaintext when sealing, ciphertext without ICV when opening). */
  TextLength = 2,
  /** High 32 bits of the ESN (ignored unless the SA was created with esn). */
  SeqHigh = 3,
}
export const AEAD_OP_STRIDE = 4;

/** Per-packet result written into `status`. */
export const enum AeadStatus {
  Ok = 0,
  /** ICV did not verify; the text is left undefined and must be dropped. */
  AuthFailed = 1,
  /** Unknown or freed handle. */
  BadHandle = 2,
  /** ESP header, text or ICV lies outside the buffer. */
  BadBounds = 3,
}

export interface SaOptions {
  /** Extended sequence numbers: include SeqHigh in the AAD (RFC 4303 §2.2.1, RFC 4106 §5). */
  esn: boolean;
}

export interface AeadBackend {
  readonly name: 'native' | 'noble';
  /** Creates a keyed SA context from key || salt. The caller should zeroize its copy afterwards. */
  createSa(alg: AeadAlgorithm, keyAndSalt: Uint8Array, options: SaOptions): number;
  /** Zeroizes and releases the context. Using the handle afterwards yields BadHandle. */
  freeSa(handle: number): void;
  /** Seals `count` packets in place: encrypts the text and writes the ICV after it. */
  sealBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void;
  /** Opens `count` packets in place: verifies the ICV (constant time) and decrypts the text. */
  openBatch(buf: Uint8Array, ops: Int32Array, count: number, status: Uint8Array): void;
  /**
   * Starts sealing (`seal` true) or opening ops [first, first + count) of a batch, their statuses
   * at status[first...]: at once, or on the backend's crypto thread while the caller goes on
   * classifying. Until `settle` returns, the caller leaves those packets, records and statuses alone.
   * Returns the run's ticket: runs are numbered upwards in submission order.
   */
  submit(seal: boolean, buf: Uint8Array, ops: Int32Array, first: number, count: number, status: Uint8Array): number;
  /** Returns when run `ticket` and every run before it are done; without a ticket, every run. */
  settle(ticket?: number): void;
  /**
   * Runs submitted ops on a crypto thread of the backend's own (true) or at once on the caller's
   * (false, the default). Returns whether the thread runs: false where the backend has none.
   */
  setCryptoThread(on: boolean): boolean;
  /**
   * One-shot AEAD with any AAD and a 12-byte nonce, for IKEv2 SK payloads (RFC 5282) and
   * known-answer tests; it allocates, so it is not for the data plane. Returns text || ICV.
   */
  sealOne(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array): Uint8Array;
  /** One-shot open; returns the plaintext, or null when the ICV does not verify. */
  openOne(alg: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array): Uint8Array | null;
}

/** Thrown for misuse of the backend API (never for per-packet failures, which go to status). */
export class AeadError extends Error {
  override readonly name = 'AeadError';
}

/** Checks algorithm and key length; message names what to fix and never contains key bytes. */
export function checkKeyMaterial(alg: AeadAlgorithm, keyAndSalt: Uint8Array): void {
  const keyBytes = AEAD_KEY_BYTES[alg];
  if (keyBytes === undefined) throw new AeadError(`unknown AEAD algorithm "${String(alg)}": use one of ${AEAD_ALGORITHMS.join(', ')}`);
  const want = keyBytes + AEAD_SALT_BYTES;
  if (keyAndSalt.length !== want) {
    throw new AeadError(`${alg} needs ${want} bytes of key material (${keyBytes}-byte key + 4-byte salt), got ${keyAndSalt.length}`);
  }
}
