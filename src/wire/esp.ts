/**
 * ESP header and trailer layout (RFC 4303 §2) and the ESP-in-UDP demultiplexing rule (RFC 3948).
 * Encryption and integrity live in src/crypto; this module only reads and writes the fields.
 */

import { inRange, readU32, writeU32 } from './bytes.js';
import { WireStatus } from './status.js';

/** SPI and Sequence Number (RFC 4303 §2.1, §2.2). */
export const ESP_SPI = 0;
export const ESP_SEQUENCE = 4;
export const ESP_SPI_SEQUENCE_BYTES = 8;
/** SPIs 1..255 are reserved by IANA and 0 never goes on the wire (RFC 4303 §2.1). */
export const ESP_MIN_SPI = 256;
export const ESP_MAX_SPI = 0xffff_ffff;

/** An SPI as operators and logs write it: 0x and eight hex digits. */
export function formatSpi(spi: number): string {
  return `0x${spi.toString(16).padStart(8, '0')}`;
}
/** Pad Length and Next Header (RFC 4303 §2.4, §2.6). */
export const ESP_TRAILER_BYTES = 2;
/** Ciphertext must end on a 4-byte boundary (RFC 4303 §2.4). */
export const ESP_MIN_ALIGNMENT = 4;
/** IKE and ESP share this port behind NATs (RFC 3948 §2). */
export const ESP_IN_UDP_PORT = 4500;

export class EspHeader {
  spi = 0;
  sequence = 0;
  /** Offset and length of what follows SPI and Sequence Number (IV, ciphertext, ICV). */
  payloadOffset = 0;
  payloadLength = 0;
}

/** Reads SPI and sequence number of the ESP packet of `len` bytes at `off`. */
export function parseEsp(bytes: Uint8Array, off: number, len: number, out: EspHeader): WireStatus {
  if (!inRange(bytes, off, len)) return WireStatus.BadRange;
  if (len < ESP_SPI_SEQUENCE_BYTES) return WireStatus.Truncated;
  const spi = readU32(bytes, off + ESP_SPI);
  if (spi < ESP_MIN_SPI) return WireStatus.BadSpi;
  out.spi = spi;
  out.sequence = readU32(bytes, off + ESP_SEQUENCE);
  out.payloadOffset = off + ESP_SPI_SEQUENCE_BYTES;
  out.payloadLength = len - ESP_SPI_SEQUENCE_BYTES;
  return WireStatus.Ok;
}

/** Writes SPI and the low 32 bits of the sequence number (RFC 4303 §2.2.1). Returns 8, or 0 when it does not fit. */
export function writeEspHeader(bytes: Uint8Array, off: number, spi: number, sequence: number): number {
  if (!inRange(bytes, off, ESP_SPI_SEQUENCE_BYTES)) return 0;
  writeU32(bytes, off + ESP_SPI, spi);
  writeU32(bytes, off + ESP_SEQUENCE, sequence);
  return ESP_SPI_SEQUENCE_BYTES;
}

export class EspTrailer {
  padLength = 0;
  nextHeader = 0;
  /** Length of the inner payload: the decrypted text without padding and trailer. */
  payloadLength = 0;
}

/**
 * Reads Pad Length and Next Header at the end of the decrypted text [textOff, textOff + textLen)
 * and checks the default padding 1, 2, 3, ... (RFC 4303 §2.4).
 */
export function parseEspTrailer(bytes: Uint8Array, textOff: number, textLen: number, out: EspTrailer): WireStatus {
  if (!inRange(bytes, textOff, textLen)) return WireStatus.BadRange;
  if (textLen < ESP_TRAILER_BYTES) return WireStatus.Truncated;
  const end = textOff + textLen;
  const padLength = bytes[end - 2];
  if (padLength + ESP_TRAILER_BYTES > textLen) return WireStatus.BadPadding;
  const padStart = end - ESP_TRAILER_BYTES - padLength;
  for (let i = 0; i < padLength; i++) if (bytes[padStart + i] !== i + 1) return WireStatus.BadPadding;
  out.padLength = padLength;
  out.nextHeader = bytes[end - 1];
  out.payloadLength = textLen - ESP_TRAILER_BYTES - padLength;
  return WireStatus.Ok;
}

/**
 * Padding that ends the Next Header field on an `alignment` boundary (RFC 4303 §2.4; every
 * supported AEAD is a stream mode, so the 4-byte minimum is the only constraint by default).
 */
export function espPadLength(payloadLength: number, alignment = ESP_MIN_ALIGNMENT): number {
  return (alignment - ((payloadLength + ESP_TRAILER_BYTES) % alignment)) % alignment;
}

/**
 * Appends padding 1, 2, 3, ..., Pad Length and Next Header after a payload of `payloadLength`
 * bytes ending at `off`, so that payload + trailer is a multiple of `alignment` (>= 4,
 * RFC 4303 §2.4). Returns the trailer length, or 0 when it does not fit.
 */
export function writeEspTrailer(bytes: Uint8Array, off: number, payloadLength: number, nextHeader: number, alignment = ESP_MIN_ALIGNMENT): number {
  const padLength = espPadLength(payloadLength, alignment);
  const length = padLength + ESP_TRAILER_BYTES;
  if (!inRange(bytes, off, length) || alignment < ESP_MIN_ALIGNMENT || padLength > 255) return 0;
  for (let i = 0; i < padLength; i++) bytes[off + i] = i + 1;
  bytes[off + padLength] = padLength;
  bytes[off + padLength + 1] = nextHeader;
  return length;
}

/** What a UDP payload on port 4500 carries (RFC 3948 §2.2, §2.3). */
export const UdpEncapsulated = Object.freeze({
  Esp: 0,
  /** IKE message after the 4-byte zero Non-ESP Marker. */
  Ike: 1,
  /** NAT-keepalive: one byte 0xFF, to be dropped. */
  Keepalive: 2,
  /** Too short to be any of these. */
  Invalid: 3,
});
export type UdpEncapsulated = (typeof UdpEncapsulated)[keyof typeof UdpEncapsulated];

/** Classifies the UDP payload [off, off + len) received on port 4500. */
export function classifyEspInUdp(bytes: Uint8Array, off: number, len: number): UdpEncapsulated {
  if (!inRange(bytes, off, len)) return UdpEncapsulated.Invalid;
  if (len === 1 && bytes[off] === 0xff) return UdpEncapsulated.Keepalive;
  if (len < 4) return UdpEncapsulated.Invalid;
  // A zero SPI never appears on the wire, so four zero bytes mark a non-ESP (IKE) packet.
  return readU32(bytes, off) === 0 ? UdpEncapsulated.Ike : UdpEncapsulated.Esp;
}
