/**
 * ESP (RFC 4303) pieces shared by the outbound and inbound engines: the per-packet outcome,
 * the packet batch they work on and the overhead sizes. The ESP header and trailer are coded by
 * src/wire/esp.ts.
 */
import { ESP_HEADER_BYTES, ESP_ICV_BYTES } from '../crypto/aead.js';
import { DropReason } from '../dataplane/drop-reason.js';
import { ESP_TRAILER_BYTES } from '../wire/esp.js';

/** Outcome of one packet. `Ok` means forward the packet now at start[i], length[i]. */
export const enum EspStatus {
  Ok = 0,
  /** Accepted by `prepare`, waiting for the batch's AEAD call. */
  Pending = 1,
  /** Not ESP (another protocol, or IKE on UDP 4500 behind the non-ESP marker, RFC 3948 §2.2). */
  NotEsp = 2,
  /** NAT-keepalive (one 0xFF byte on UDP 4500, RFC 3948 §2.3): consume silently. */
  Keepalive = 3,
  /** An IP fragment: ESP is applied to and removed from whole datagrams only (RFC 4303 §3.3.4, §3.4.1). */
  Fragment = 4,
  /** Outer header or ESP packet malformed or too short. */
  Malformed = 5,
  /** No SA for the SPI and destination (RFC 4303 §3.4.2), or the SA is not an outbound SA. */
  NoSa = 6,
  /** The SA uses ESP-in-UDP and the packet is plain ESP, or the other way round (RFC 3948). */
  EncapsulationMismatch = 7,
  /** The SA has expired (hard lifetime or sequence numbers used up) and passes no traffic. */
  Expired = 8,
  /** Duplicate or left of the anti-replay window (RFC 4303 §3.4.3). */
  Replay = 9,
  /** ICV did not verify (RFC 4303 §3.4.4). */
  AuthFailed = 10,
  /** Pad length too large or padding bytes not 1, 2, 3, ... (RFC 4303 §2.4). */
  BadPadding = 11,
  /** Next header not allowed here (tunnel mode carries IPv4 (4) or IPv6 (41), RFC 4303 §2.3). */
  BadNextHeader = 12,
  /** The decrypted inner packet is not a valid IP packet of the announced version. */
  BadInnerPacket = 13,
  /** A dummy packet (next header 59, RFC 4303 §2.6): authenticated, then discarded. */
  Dummy = 14,
  /** Outer CE on a Not-ECT inner packet (RFC 6040 §4.2). */
  EcnDrop = 15,
  /** The frame slot lacks headroom or tailroom for the ESP overhead. */
  NoRoom = 16,
  /** The result would exceed the 65535-byte IP length field. */
  TooBig = 17,
  /** The outbound sequence number would cycle (RFC 4303 §3.3.3); the SA was expired for rekey. */
  SeqOverflow = 18,
  /** The AEAD backend refused the op (freed handle, bad bounds): an internal error. */
  BackendError = 19,
  /** More packets prepared than the engine's capacity. */
  BatchFull = 20,
  /** A layout this engine does not process (see the inbound engine for which). */
  Unsupported = 21,
}

export const ESP_STATUS_NAMES: readonly string[] = [
  'ok', 'pending', 'not-esp', 'keepalive', 'fragment', 'malformed', 'no-sa', 'encapsulation-mismatch',
  'expired', 'replay', 'auth-failed', 'bad-padding', 'bad-next-header', 'bad-inner-packet', 'dummy',
  'ecn-drop', 'no-room', 'too-big', 'seq-overflow', 'backend-error', 'batch-full', 'unsupported',
];

/** The data plane's drop reason for a final status, or -1 for Ok, Pending, NotEsp and Keepalive (not drops). */
export function espDropReason(status: EspStatus): number {
  switch (status) {
    case EspStatus.Ok: case EspStatus.Pending: case EspStatus.NotEsp: case EspStatus.Keepalive: return -1;
    case EspStatus.Fragment: return DropReason.Fragment;
    case EspStatus.NoSa: return DropReason.UnknownSpi;
    case EspStatus.Expired: case EspStatus.SeqOverflow: return DropReason.SaExpired;
    case EspStatus.Replay: return DropReason.Replay;
    case EspStatus.AuthFailed: return DropReason.IcvFailure;
    case EspStatus.BadPadding: return DropReason.BadPadding;
    case EspStatus.EcnDrop: return DropReason.EcnIncompatible;
    case EspStatus.TooBig: return DropReason.Mtu;
    case EspStatus.Unsupported: return DropReason.Unsupported;
    default: return DropReason.Malformed;
  }
}

/**
 * The packets of one batch, owned by the caller: every packet lies in `bytes`; `start[i]` and
 * `length[i]` locate packet i's IP packet and are rewritten in place; `status[i]` gets its
 * EspStatus. Typically `bytes` is FrameSlots.bytes and i the slot index.
 */
export interface EspPackets {
  readonly bytes: Uint8Array;
  readonly start: Int32Array;
  readonly length: Int32Array;
  readonly status: Uint8Array;
}

/** The batch an engine points at between batches. */
export const NO_ESP_PACKETS: EspPackets = {
  bytes: new Uint8Array(0), start: new Int32Array(0), length: new Int32Array(0), status: new Uint8Array(0),
};

/** ESP header through IV in front of the payload; trailer (Pad Length, Next Header) and ICV behind it, with no padding. */
export const ESP_MIN_OVERHEAD = ESP_HEADER_BYTES + ESP_TRAILER_BYTES + ESP_ICV_BYTES;

/**
 * The high 32 bits of a 64-bit ESP sequence number, held exactly in a double (below 2^53):
 * sent in the IV and authenticated with ESN (RFC 4303 §2.2.1), never in the ESP header.
 */
export function sequenceHigh(sequence: number): number {
  return (sequence - (sequence >>> 0)) / 0x1_0000_0000;
}
