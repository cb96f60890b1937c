/**
 * The Security Association record (RFC 4301 §4.4.2.1), shaped for the data plane: every field
 * the per-packet code reads is a plain number, boolean or preallocated typed array.
 * Configuration is validated here; keys are handed to the AEAD backend by the SAD and never kept.
 */
import { AEAD_ALGORITHMS, checkKeyMaterial, type AeadAlgorithm } from '../crypto/aead.js';
import { formatAddressBytes } from '../policy/address-text.js';
import { readU32 } from '../wire/bytes.js';
import { ESP_MAX_SPI, ESP_MIN_SPI, formatSpi } from '../wire/esp.js';
import { Lifetime, LifetimeEvent, lifetimeField, lifetimeProblems, type LifetimeConfig } from './lifetime.js';
import { ReplayWindow, REPLAY_WINDOW_DEFAULT, replayWindowProblem } from './replay-window.js';

export type SaDirection = 'inbound' | 'outbound';
export type EspMode = 'transport' | 'tunnel';
/** Outer IPv4 DF bit in tunnel mode (RFC 4301 §8.1): copy from an inner IPv4 header, or set/clear. */
export type DfBitPolicy = 'copy' | 'set' | 'clear';

export interface UdpEncapsulation {
  /** UDP source port of sent packets (RFC 3948 §2.1; 4500 unless a NAT changed it). */
  sourcePort: number;
  /** UDP destination port of sent packets. */
  destinationPort: number;
}

export interface SecurityAssociationConfig {
  /** RFC 4303 §2.1: 256 .. 2^32-1 (1..255 are reserved by IANA, 0 for local use). */
  spi: number;
  direction: SaDirection;
  mode: EspMode;
  /** Outer source address, 4 (IPv4) or 16 (IPv6) bytes. In transport mode: the sender's address. */
  source: Uint8Array;
  /** Outer destination address, same family as `source`. Inbound lookups match it. */
  destination: Uint8Array;
  /** ESP-in-UDP (RFC 3948); absent = plain ESP (IP protocol 50). */
  udpEncapsulation?: UdpEncapsulation;
  algorithm: AeadAlgorithm;
  /** KEYMAT: key || 4-byte salt. The SAD wipes this buffer after handing it to the backend. */
  keyAndSalt: Uint8Array;
  /** Extended (64-bit) sequence numbers, RFC 4303 §2.2.1. Default false. */
  esn?: boolean;
  /** Anti-replay window of inbound SAs: 32 to 4096 (replayWindowProblem), default 1024. Outbound SAs do not use it. */
  replayWindow?: number;
  lifetime?: LifetimeConfig;
  /** Tunnel mode only: pad every inner packet up to this many bytes (RFC 4303 §2.4, §2.7). 0 = off. */
  tfcPadTo?: number;
  /**
   * Tunnel mode, IPv4 outer: the DF bit. Default 'copy' (an IPv6 inner packet, which is never
   * fragmented on its path, gives DF=1 as in Linux XFRM).
   */
  dfBit?: DfBitPolicy;
  /** Id of the SPD entry this SA serves. */
  policyId: number;
}

/** Indexes into `SecurityAssociation.counters`. */
export const enum SaCounter {
  /** Protected packets passed (sealed outbound, opened and accepted inbound). */
  Packets = 0,
  /** Bytes of those packets as IP packets in clear (the lifetime byte count). */
  Bytes = 1,
  ReplayDrops = 2,
  IcvFailures = 3,
  /** Pad length or padding content wrong (RFC 4303 §2.4). */
  PadErrors = 4,
  /** Inbound packet too short, bad next header, or inner packet malformed. */
  MalformedDrops = 5,
  /** Refused because the SA had expired (hard lifetime or sequence number space used up). */
  ExpiredDrops = 6,
  /** Outbound sequence number would have cycled (RFC 4303 §3.3.3). */
  SeqOverflowDrops = 7,
  /** Not enough headroom/tailroom in the frame slot for the ESP overhead. */
  NoRoomDrops = 8,
  /** Dummy packets (next header 59, RFC 4303 §2.6) received and discarded. */
  DummyDrops = 9,
  /** The AEAD backend refused the op (freed handle or bounds): an internal error. */
  BackendErrors = 10,
  /** Outer CE on a Not-ECT inner packet (RFC 6040 §4.2). */
  EcnDrops = 11,
}

export const SA_COUNTER_NAMES = [
  'packets', 'bytes', 'replayDrops', 'icvFailures', 'padErrors', 'malformedDrops',
  'expiredDrops', 'seqOverflowDrops', 'noRoomDrops', 'dummyDrops', 'backendErrors', 'ecnDrops',
] as const;

/** RFC 4303 §3.3.3: without ESN the counter must not cycle past 2^32-1. */
export const SEQ_LIMIT_32 = 0xffff_ffff;
/** With ESN the limit is 2^64-1; sequence numbers are JS numbers, exact up to 2^53-1. */
export const SEQ_LIMIT_ESN = Number.MAX_SAFE_INTEGER;

/** Thrown for an invalid SA configuration; `field` names the offending config field. */
export class SecurityAssociationConfigError extends Error {
  override readonly name = 'SecurityAssociationConfigError';
  constructor(readonly field: string, message: string) {
    super(`${field}: ${message}`);
  }
}

export class SecurityAssociation {
  readonly spi: number;
  readonly direction: SaDirection;
  readonly mode: EspMode;
  readonly source: Uint8Array;
  readonly destination: Uint8Array;
  readonly outerIpv6: boolean;
  /**
   * IPv4 outer addresses as int32 bit patterns (0 for IPv6): small integers stay unboxed in V8,
   * so writing an outer header allocates nothing. Writers only use the low 32 bits.
   */
  readonly sourceV4: number;
  readonly destinationV4: number;
  readonly udpEncapsulated: boolean;
  readonly udpSourcePort: number;
  readonly udpDestinationPort: number;
  readonly algorithm: AeadAlgorithm;
  readonly esn: boolean;
  /** Inbound only; null on outbound SAs. */
  readonly replay: ReplayWindow | null;
  readonly lifetime: Lifetime;
  readonly tfcPadTo: number;
  readonly dfBit: DfBitPolicy;
  readonly policyId: number;
  /** See SaCounter. Float64 so totals stay exact up to 2^53. */
  readonly counters = new Float64Array(SA_COUNTER_NAMES.length);
  /** Installed with operator-supplied keys (tests and lab only, RFC 4891 §6). */
  readonly manual: boolean;
  /** Install order within the SAD; the newest outbound SA of a policy wins. */
  readonly serial: number;
  /** Set by the SAD on removal; the backend handle is freed then. */
  removed = false;
  /** Outbound: the last sequence number assigned (0 = none yet). */
  lastSeq = 0;
  /** Outbound IPv4 tunnel mode: the next outer Identification value. */
  ipv4Id = 0;
  private readonly seqLimit: number;

  /**
   * Use SecurityAssociationDatabase.install; `config` must have passed validateSaConfig.
   * `handle` is the key context in the SAD's AEAD backend; the record never holds key bytes.
   */
  constructor(config: SecurityAssociationConfig, readonly handle: number, installedAt: number, serial: number,
    manual: boolean) {
    this.spi = config.spi >>> 0;
    this.direction = config.direction;
    this.mode = config.mode;
    this.source = Uint8Array.from(config.source);
    this.destination = Uint8Array.from(config.destination);
    this.outerIpv6 = config.destination.length === 16;
    this.sourceV4 = this.outerIpv6 ? 0 : readU32(this.source, 0) | 0;
    this.destinationV4 = this.outerIpv6 ? 0 : readU32(this.destination, 0) | 0;
    this.udpEncapsulated = config.udpEncapsulation !== undefined;
    this.udpSourcePort = config.udpEncapsulation?.sourcePort ?? 0;
    this.udpDestinationPort = config.udpEncapsulation?.destinationPort ?? 0;
    this.algorithm = config.algorithm;
    this.esn = config.esn ?? false;
    this.replay = config.direction === 'inbound'
      ? new ReplayWindow(config.replayWindow ?? REPLAY_WINDOW_DEFAULT, this.esn) : null;
    this.lifetime = new Lifetime(config.lifetime ?? {}, installedAt);
    this.tfcPadTo = config.tfcPadTo ?? 0;
    this.dfBit = config.dfBit ?? 'copy';
    this.policyId = config.policyId;
    this.serial = serial;
    this.manual = manual;
    this.seqLimit = this.esn ? SEQ_LIMIT_ESN : SEQ_LIMIT_32;
  }

  /** True while the SA may pass traffic: installed and not expired. */
  get usable(): boolean {
    return !this.removed && !this.lifetime.expired;
  }

  /** Status view for logs, the console and `--json` (no key material exists here to leak). */
  toJSON(): Record<string, unknown> {
    const counters: Record<string, number> = {};
    SA_COUNTER_NAMES.forEach((name, i) => { counters[name] = this.counters[i]; });
    return {
      spi: formatSpi(this.spi),
      direction: this.direction,
      mode: this.mode,
      source: formatAddressBytes(this.source),
      destination: formatAddressBytes(this.destination),
      udpEncapsulation: this.udpEncapsulated ? { sourcePort: this.udpSourcePort, destinationPort: this.udpDestinationPort } : null,
      algorithm: this.algorithm,
      esn: this.esn,
      policyId: this.policyId,
      manual: this.manual,
      sequence: this.replay ? this.replay.highest : this.lastSeq,
      replayWindow: this.replay?.size ?? null,
      tfcPadTo: this.tfcPadTo,
      rekeyRequested: this.lifetime.softRaised,
      expired: this.lifetime.expired,
      removed: this.removed,
      counters,
    };
  }

  /**
   * Outbound: moves `lastSeq` to the next sequence number (RFC 4303 §3.3.3: the first is 1 and
   * it never cycles). Returns false when the space is used up: the SA must then be rekeyed.
   */
  advanceSequence(): boolean {
    if (this.lastSeq >= this.seqLimit) return false;
    this.lastSeq++;
    return true;
  }

  /**
   * Counts one protected packet of `bytes` (the lifetime byte count, RFC 4301 §4.4.2.1).
   * Returns the lifetime events (LifetimeEvent bits) it fired; only a packet that reaches a
   * published threshold costs a call into the lifetime.
   */
  charge(bytes: number): number {
    const c = this.counters;
    const packets = ++c[SaCounter.Packets];
    const total = (c[SaCounter.Bytes] += bytes);
    const lifetime = this.lifetime;
    if (packets < lifetime.nextPackets && total < lifetime.nextBytes) return LifetimeEvent.None;
    return lifetime.checkTraffic(packets, total);
  }
}

/** Checks every field of an SA configuration; throws SecurityAssociationConfigError naming the field. */
export function validateSaConfig(config: SecurityAssociationConfig): void {
  const { spi, source, destination } = config;
  if (!Number.isInteger(spi) || spi < ESP_MIN_SPI || spi > ESP_MAX_SPI) {
    throw new SecurityAssociationConfigError('spi',
      `must be an integer from ${ESP_MIN_SPI} to ${ESP_MAX_SPI} (RFC 4303 §2.1 reserves 0..255), got ${String(spi)}`);
  }
  if (config.direction !== 'inbound' && config.direction !== 'outbound') {
    throw new SecurityAssociationConfigError('direction', `must be "inbound" or "outbound", got ${String(config.direction)}`);
  }
  if (config.mode !== 'transport' && config.mode !== 'tunnel') {
    throw new SecurityAssociationConfigError('mode', `must be "transport" or "tunnel", got ${String(config.mode)}`);
  }
  checkAddress('source', source);
  checkAddress('destination', destination);
  if (source.length !== destination.length) {
    throw new SecurityAssociationConfigError('destination',
      `is IPv${destination.length === 4 ? 4 : 6} but source is IPv${source.length === 4 ? 4 : 6}: both outer addresses must be one family`);
  }
  if (config.udpEncapsulation !== undefined) {
    checkPort('udpEncapsulation.sourcePort', config.udpEncapsulation.sourcePort);
    checkPort('udpEncapsulation.destinationPort', config.udpEncapsulation.destinationPort);
  }
  if (!AEAD_ALGORITHMS.includes(config.algorithm)) {
    throw new SecurityAssociationConfigError('algorithm', `must be one of ${AEAD_ALGORITHMS.join(', ')}, got ${String(config.algorithm)}`);
  }
  if (!(config.keyAndSalt instanceof Uint8Array)) {
    throw new SecurityAssociationConfigError('keyAndSalt', 'must be a Uint8Array holding key || 4-byte salt');
  }
  try {
    checkKeyMaterial(config.algorithm, config.keyAndSalt);
  } catch (e) {
    throw new SecurityAssociationConfigError('keyAndSalt', (e as Error).message);
  }
  const tfc = config.tfcPadTo ?? 0;
  if (!Number.isInteger(tfc) || tfc < 0 || tfc > 65535) {
    throw new SecurityAssociationConfigError('tfcPadTo', `must be an integer from 0 (off) to 65535, got ${String(tfc)}`);
  }
  if (tfc !== 0 && config.mode !== 'tunnel') {
    // RFC 4303 §2.7: TFC padding needs an inner length field to be removable, i.e. tunnel mode.
    throw new SecurityAssociationConfigError('tfcPadTo', 'TFC padding needs tunnel mode (RFC 4303 §2.7): set it to 0 or use mode "tunnel"');
  }
  if (config.dfBit !== undefined && config.dfBit !== 'copy' && config.dfBit !== 'set' && config.dfBit !== 'clear') {
    throw new SecurityAssociationConfigError('dfBit', `must be "copy", "set" or "clear", got ${String(config.dfBit)}`);
  }
  if (config.direction === 'inbound' && config.replayWindow !== undefined) {
    const problem = replayWindowProblem(config.replayWindow);
    if (problem !== null) throw new SecurityAssociationConfigError('replayWindow', problem);
  }
  const [lifetimeProblem] = lifetimeProblems(config.lifetime ?? {});
  if (lifetimeProblem !== undefined) throw new SecurityAssociationConfigError(lifetimeField(lifetimeProblem), lifetimeProblem.message);
  if (!Number.isSafeInteger(config.policyId)) {
    throw new SecurityAssociationConfigError('policyId', `must be the integer id of an SPD entry, got ${String(config.policyId)}`);
  }
}

function checkAddress(field: string, address: Uint8Array): void {
  if (!(address instanceof Uint8Array) || (address.length !== 4 && address.length !== 16)) {
    throw new SecurityAssociationConfigError(field, 'must be 4 (IPv4) or 16 (IPv6) address bytes');
  }
}

function checkPort(field: string, port: number): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new SecurityAssociationConfigError(field, `must be a port from 1 to 65535, got ${String(port)}`);
  }
}
