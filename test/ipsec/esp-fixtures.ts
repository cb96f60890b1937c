/** Shared fixtures for the ESP tests: packet builders (via src/wire writers), SA pairs, backends, a slot batch. */
import { AEAD_KEY_BYTES, AEAD_SALT_BYTES, type AeadAlgorithm, type AeadBackend } from '../../src/crypto/aead.js';
import { createAeadBackend } from '../../src/crypto/index.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { EspDecryptor } from '../../src/ipsec/esp-inbound.js';
import { EspEncryptor } from '../../src/ipsec/esp-outbound.js';
import type { EspPackets } from '../../src/ipsec/esp.js';
import { SecurityAssociationDatabase } from '../../src/ipsec/sad.js';
import type { SecurityAssociation, SecurityAssociationConfig } from '../../src/ipsec/security-association.js';
import { Ipv4Header, writeIpv4Header } from '../../src/wire/ipv4.js';
import { Ipv6Header, writeIpv6Header } from '../../src/wire/ipv6.js';

export const V4_A = Uint8Array.of(192, 0, 2, 1);
export const V4_B = Uint8Array.of(192, 0, 2, 2);
export const V6_A = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
export const V6_B = Uint8Array.of(0x20, 0x01, 0x0d, 0xb8, 0, 0xb, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);

/** The backends to run over: noble always, native when the addon loads. */
export function availableBackends(): AeadBackend[] {
  const backends: AeadBackend[] = [new NobleAeadBackend()];
  try {
    backends.push(createAeadBackend({ env: { REDBLACK_AEAD: 'native' } }));
  } catch {
    // The native addon is not built here: noble only.
  }
  return backends;
}

export interface Ipv4PacketSpec {
  src?: Uint8Array;
  dst?: Uint8Array;
  protocol?: number;
  tos?: number;
  dontFragment?: boolean;
  moreFragments?: boolean;
  payload: Uint8Array;
}

/** Writes an IPv4 packet (20-byte header) at bytes[off]; returns its length. */
export function writeIpv4Packet(bytes: Uint8Array, off: number, spec: Ipv4PacketSpec): number {
  const h = new Ipv4Header();
  h.tos = spec.tos ?? 0;
  h.totalLength = 20 + spec.payload.length;
  h.id = 0x1234;
  h.dontFragment = spec.dontFragment ?? false;
  h.moreFragments = spec.moreFragments ?? false;
  h.ttl = 63;
  h.protocol = spec.protocol ?? 17;
  h.src = u32(spec.src ?? V4_A);
  h.dst = u32(spec.dst ?? V4_B);
  writeIpv4Header(bytes, off, h);
  bytes.set(spec.payload, off + 20);
  return h.totalLength;
}

export interface Ipv6PacketSpec {
  src?: Uint8Array;
  dst?: Uint8Array;
  /** Next Header of the fixed header (the first extension header, or the upper layer). */
  nextHeader?: number;
  trafficClass?: number;
  /** Extension headers, already chained, placed before the payload. */
  extensions?: Uint8Array;
  payload: Uint8Array;
}

/** Writes an IPv6 packet at bytes[off]; returns its length. */
export function writeIpv6Packet(bytes: Uint8Array, off: number, spec: Ipv6PacketSpec): number {
  const h = new Ipv6Header();
  const ext = spec.extensions ?? new Uint8Array(0);
  h.trafficClass = spec.trafficClass ?? 0;
  h.flowLabel = 0x12345;
  h.payloadLength = ext.length + spec.payload.length;
  h.nextHeader = spec.nextHeader ?? 17;
  h.hopLimit = 63;
  writeIpv6Header(bytes, off, h, spec.src ?? V6_A, 0, spec.dst ?? V6_B, 0);
  bytes.set(ext, off + 40);
  bytes.set(spec.payload, off + 40 + ext.length);
  return 40 + h.payloadLength;
}

export function u32(b: Uint8Array): number {
  return ((b[0] << 24) | (b[1] << 16) | (b[2] << 8) | b[3]) >>> 0;
}

export function keyFor(alg: AeadAlgorithm, seed = 1): Uint8Array {
  const key = new Uint8Array(AEAD_KEY_BYTES[alg] + AEAD_SALT_BYTES);
  for (let i = 0; i < key.length; i++) key[i] = (i * 31 + seed * 7) & 0xff;
  return key;
}

/** A slot batch with an ESP engine pair over one SAD. */
export class EspLab {
  readonly slots = new FrameSlots({ count: 8, slotSize: 10240, headroom: 128 });
  readonly packets: EspPackets;
  readonly sad: SecurityAssociationDatabase;
  readonly encryptor: EspEncryptor;
  readonly decryptor: EspDecryptor;

  constructor(readonly backend: AeadBackend) {
    this.packets = { bytes: this.slots.bytes, start: this.slots.start, length: this.slots.length, status: new Uint8Array(8) };
    this.sad = new SecurityAssociationDatabase({ backend, warn: () => {} });
    this.encryptor = new EspEncryptor(this.sad, 8);
    this.decryptor = new EspDecryptor(this.sad, 8);
  }

  /** Installs an outbound SA and its inbound twin (same SPI, key and endpoints) for loopback tests. */
  pair(config: Omit<SecurityAssociationConfig, 'direction' | 'keyAndSalt' | 'policyId'> & { policyId?: number }): {
    out: SecurityAssociation; in: SecurityAssociation;
  } {
    const key = keyFor(config.algorithm, config.spi);
    const out = this.sad.installManual({ policyId: 1, ...config, direction: 'outbound', keyAndSalt: key.slice() }, 0);
    const inb = this.sad.installManual({ policyId: 1, ...config, direction: 'inbound', keyAndSalt: key.slice() }, 0);
    return { out, in: inb };
  }

  /** Puts `packet` into slot i after the headroom. */
  load(i: number, packet: Uint8Array): void {
    const start = this.slots.base(i) + this.slots.headroom;
    this.slots.bytes.set(packet, start);
    this.slots.start[i] = start;
    this.slots.length[i] = packet.length;
  }

  /** Builds a packet with `write` directly in slot i. */
  build(i: number, write: (bytes: Uint8Array, off: number) => number): void {
    const start = this.slots.base(i) + this.slots.headroom;
    this.slots.start[i] = start;
    this.slots.length[i] = write(this.slots.bytes, start);
  }

  /** Copy of slot i's current packet. */
  packet(i: number): Uint8Array {
    return this.slots.bytes.slice(this.slots.start[i], this.slots.start[i] + this.slots.length[i]);
  }

  /** Seals the packets in `indexes` with `sa` in one batch; returns their statuses. */
  seal(sa: SecurityAssociation, indexes: number[], now = 0): number[] {
    this.encryptor.begin(this.packets, now);
    for (const i of indexes) this.encryptor.prepare(sa, i, this.slots.base(i), this.slots.limit(i));
    this.encryptor.seal();
    return indexes.map((i) => this.packets.status[i]);
  }

  /** Opens the packets in `indexes` in one batch; returns their statuses. */
  open(indexes: number[], now = 0): number[] {
    this.decryptor.begin(this.packets, now);
    for (const i of indexes) this.decryptor.prepare(i);
    this.decryptor.open();
    return indexes.map((i) => this.packets.status[i]);
  }
}
