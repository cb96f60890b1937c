/**
 * The `manualKeys` section: operator-keyed SAs for tests and the lab only (RFC 4891 §6 forbids
 * manual keying in production). Each names the PROTECT entry it serves; mode, ESN, anti-replay
 * window, UDP encapsulation and lifetime come from that entry, and the outer addresses default
 * from it (tunnel endpoints, or single-address selectors in transport mode; swapped for inbound).
 * Key text is never quoted back: messages give its length only.
 */

import { AEAD_ALGORITHMS, AEAD_KEY_BYTES, AEAD_SALT_BYTES, type AeadAlgorithm } from '../crypto/aead.js';
import {
  type SaDirection,
  type SecurityAssociationConfig,
  SecurityAssociationConfigError,
  validateSaConfig,
} from '../ipsec/security-association.js';
import { type AddressRange, formatAddress, formatAddressRange, parseAddress } from '../policy/address-text.js';
import { decodeHex } from '../policy/hex-bytes.js';
import { SecretBytes } from '../policy/secret-bytes.js';
import type { SecurityPolicyDatabase, SpdEntry } from '../policy/spd.js';
import type { IssueList } from '../policy/validation.js';
import type { ManualKey } from './appliance-config.js';
import { addressBytes } from './address-fields.js';
import { readSection } from './field-readers.js';
import { ESP_MAX_SPI, ESP_MIN_SPI, formatSpi } from '../wire/esp.js';

const FIELDS = ['policy', 'direction', 'spi', 'algorithm', 'key', 'source', 'destination'];
const SHAPE = 'an object { policy, direction, spi, key, algorithm?, source?, destination? }';
const ACTION_NAMES = ['discard', 'bypass', 'protect'];

/** Which end of the entry an SA address is taken from. */
type EntrySide = 'local' | 'remote';

/** SAs already accepted, for the uniqueness rules. */
interface SeenSas {
  /** Inbound SPI -> manualKeys index. */
  readonly inbound: Map<number, number>;
  /** "spi/destination" -> manualKeys index. */
  readonly outbound: Map<string, number>;
  /** SPD entry id -> manualKeys index of its outbound SA. */
  readonly outboundByEntry: Map<number, number>;
}

/** Parses `manualKeys`; `spd` is null when the SPD is invalid (then only the SA's own fields are checked). */
export function parseManualKeys(value: unknown, spd: SecurityPolicyDatabase | null, issues: IssueList): ManualKey[] | null {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) {
    issues.add('manualKeys', `must be a list of manual SAs, each ${SHAPE}`);
    return null;
  }
  const before = issues.count;
  const seen: SeenSas = { inbound: new Map(), outbound: new Map(), outboundByEntry: new Map() };
  const keys: ManualKey[] = [];
  value.forEach((item, i) => {
    const key = parseManualKey(item, i, spd, seen, issues);
    if (key !== null) keys.push(key);
  });
  if (issues.count !== before) {
    for (const k of keys) k.keyAndSalt.zeroize();
    return null;
  }
  return keys;
}

function parseManualKey(item: unknown, index: number, spd: SecurityPolicyDatabase | null, seen: SeenSas, issues: IssueList): ManualKey | null {
  const path = `manualKeys[${index}]`;
  const section = readSection(item, path, FIELDS, SHAPE, issues);
  if (section === null) return null;
  const before = issues.count;

  const entry = findEntry(section.policy, `${path}.policy`, spd, issues);
  const direction = section.direction;
  if (direction !== 'inbound' && direction !== 'outbound') issues.add(`${path}.direction`, 'must be "inbound" or "outbound"');
  const spi = section.spi;
  const spiOk = typeof spi === 'number' && Number.isInteger(spi) && spi >= ESP_MIN_SPI && spi <= ESP_MAX_SPI;
  if (!spiOk) issues.add(`${path}.spi`, `is not an SPI: use a whole number from ${ESP_MIN_SPI} to ${ESP_MAX_SPI}, e.g. 0x1001 (RFC 4303 §2.1 reserves 0 to 255)`);
  const algorithm = readAlgorithm(section.algorithm, `${path}.algorithm`, entry, issues);
  const keyAndSalt = decodeKey(section.key, `${path}.key`, algorithm, issues);

  let source: Uint8Array | null = null;
  let destination: Uint8Array | null = null;
  if (entry !== null && (direction === 'inbound' || direction === 'outbound')) {
    source = saAddress(section.source, `${path}.source`, entry, direction, direction === 'outbound' ? 'local' : 'remote', issues);
    destination = saAddress(section.destination, `${path}.destination`, entry, direction, direction === 'outbound' ? 'remote' : 'local', issues);
    if (spiOk && destination !== null) checkUnique(spi, direction, destination, entry, index, path, seen, issues);
  }

  const protect = entry?.protect ?? null;
  if (issues.count !== before || entry === null || protect === null || keyAndSalt === null || source === null || destination === null || algorithm === null || !spiOk) {
    keyAndSalt?.fill(0);
    return null;
  }
  const outbound = direction === 'outbound';
  const udp = protect.udpEncapsulation;
  const sa: Omit<SecurityAssociationConfig, 'keyAndSalt'> = {
    spi,
    direction: direction as SaDirection,
    mode: protect.mode,
    source,
    destination,
    // Sent packets of an outbound SA go from our port to the peer's; inbound SAs see the reverse.
    udpEncapsulation: udp === null ? undefined
      : outbound ? { sourcePort: udp.localPort, destinationPort: udp.remotePort } : { sourcePort: udp.remotePort, destinationPort: udp.localPort },
    algorithm,
    esn: protect.esn,
    replayWindow: protect.replayWindow,
    lifetime: protect.lifetime,
    policyId: entry.id,
  };
  // The SA layer has the last word on what it accepts.
  try {
    validateSaConfig({ ...sa, keyAndSalt });
  } catch (e) {
    keyAndSalt.fill(0);
    if (!(e instanceof SecurityAssociationConfigError)) throw e;
    const field = e.field === 'keyAndSalt' ? 'key' : FIELDS.includes(e.field) ? e.field : 'policy';
    issues.add(`${path}.${field}`, e.message.slice(e.field.length + 2));
    return null;
  }
  const secret = new SecretBytes(keyAndSalt);
  keyAndSalt.fill(0);
  return Object.freeze({ index, policyName: entry.name, sa: Object.freeze(sa), keyAndSalt: secret });
}

function findEntry(policy: unknown, path: string, spd: SecurityPolicyDatabase | null, issues: IssueList): SpdEntry | null {
  if (typeof policy !== 'string') {
    issues.add(path, 'must be the name of an spd entry with action "protect"');
    return null;
  }
  if (spd === null) return null;
  const entry = spd.entries.find((e) => e.name === policy);
  if (entry === undefined) {
    issues.add(path, 'names no spd entry: use the name of an spd entry with action "protect"');
    return null;
  }
  if (entry.protect === null) {
    issues.add(path, `spd[${entry.index}] "${entry.name}" has action "${ACTION_NAMES[entry.action]}": manual SAs serve only "protect" entries`);
    return null;
  }
  return entry;
}

/** The given algorithm, or the entry's preferred one; it must be in the entry's list. */
function readAlgorithm(value: unknown, path: string, entry: SpdEntry | null, issues: IssueList): AeadAlgorithm | null {
  const offered = entry?.protect?.algorithms ?? null;
  if (value === undefined) return offered?.[0] ?? null;
  if (typeof value !== 'string' || !AEAD_ALGORITHMS.includes(value as AeadAlgorithm)) {
    issues.add(path, `is not supported: use one of ${AEAD_ALGORITHMS.join(', ')}`);
    return null;
  }
  const algorithm = value as AeadAlgorithm;
  if (offered !== null && !offered.includes(algorithm)) {
    issues.add(path, `${algorithm} is not in spd[${entry!.index}].protect.algorithms (${offered.join(', ')}): use one of those, or add it there`);
    return null;
  }
  return algorithm;
}

/**
 * Hex text of KEYMAT = key || 4-byte salt (RFC 4106 §8.1, RFC 7634 §4), "0x" prefix and ":" or
 * blank separators allowed. Returns fresh bytes the caller wipes; reports only the length.
 */
function decodeKey(value: unknown, path: string, algorithm: AeadAlgorithm | null, issues: IssueList): Uint8Array | null {
  if (typeof value !== 'string') {
    issues.add(path, 'must be quoted hex text of the key followed by the 4-byte salt, e.g. "0x00112233..." (unquoted digits are read as a number)');
    return null;
  }
  const bytes = decodeHex(value.replace(/^0x/i, '').replace(/[\s:]/g, ''));
  if (bytes === null) {
    issues.add(path, 'is not hex: write the key and its 4-byte salt as an even number of hex digits, optionally starting with "0x"');
    return null;
  }
  if (algorithm !== null) {
    const want = AEAD_KEY_BYTES[algorithm] + AEAD_SALT_BYTES;
    if (bytes.length !== want) {
      issues.add(path, `is ${bytes.length} bytes: ${algorithm} needs ${want} (a ${AEAD_KEY_BYTES[algorithm]}-byte key followed by the ${AEAD_SALT_BYTES}-byte salt)`);
      bytes.fill(0);
      return null;
    }
  }
  return bytes;
}

/**
 * The SA's outer address on `side` of the entry. Tunnel mode: exactly that tunnel endpoint.
 * Transport mode: inside that selector (RFC 4301 §4.4.1.1), by default its single address.
 */
function saAddress(value: unknown, path: string, entry: SpdEntry, direction: SaDirection, side: EntrySide, issues: IssueList): Uint8Array | null {
  const tunnel = entry.protect!.tunnel;
  const allowed: AddressRange | null = tunnel !== null
    ? { family: tunnel.family, lo: tunnel[side], hi: tunnel[side] }
    : entry.selector[side];
  const where = tunnel !== null ? `spd[${entry.index}].protect.tunnel.${side}` : `spd[${entry.index}].${side}`;
  const field = path.slice(path.lastIndexOf('.') + 1);
  if (value === undefined) {
    if (allowed !== null && allowed.lo === allowed.hi) return addressBytes(allowed.family, allowed.lo);
    issues.add(path, `is required: ${where} is ${allowed === null ? 'any' : formatAddressRange(allowed)}, not a single address, so give the ${direction} SA's ${field} address`);
    return null;
  }
  const parsed = typeof value === 'string' ? parseAddress(value.trim()) : null;
  if (parsed === null) {
    issues.add(path, 'is not a single IPv4 or IPv6 address: write one address, or remove it to use the entry\'s');
    return null;
  }
  if (allowed !== null && (parsed.family !== allowed.family || parsed.value < allowed.lo || parsed.value > allowed.hi)) {
    const text = formatAddress(parsed.family, parsed.value);
    issues.add(path, tunnel !== null
      ? `${text} is not ${where} (${formatAddress(allowed.family, allowed.lo)}): an ${direction} SA's ${field} is that tunnel endpoint; remove it to use it`
      : `${text} is outside ${where} (${formatAddressRange(allowed)}): an ${direction} SA's ${field} must match the entry's selector`);
    return null;
  }
  return addressBytes(parsed.family, parsed.value);
}

function checkUnique(spi: number, direction: SaDirection, destination: Uint8Array, entry: SpdEntry, index: number, path: string, seen: SeenSas, issues: IssueList): void {
  const spiText = formatSpi(spi);
  if (direction === 'inbound') {
    const other = seen.inbound.get(spi);
    // RFC 4301 §4.1: the receiver picks inbound SPIs; the SAD finds inbound SAs by SPI alone.
    if (other !== undefined) issues.add(`${path}.spi`, `${spiText} is already the SPI of inbound manualKeys[${other}]: inbound SPIs must be unique`);
    else seen.inbound.set(spi, index);
    return;
  }
  const id = `${spi}/${Buffer.from(destination).toString('hex')}`;
  const other = seen.outbound.get(id);
  if (other !== undefined) issues.add(`${path}.spi`, `${spiText} to this destination is already used by manualKeys[${other}]: use another SPI`);
  else seen.outbound.set(id, index);
  const previous = seen.outboundByEntry.get(entry.id);
  if (previous !== undefined) {
    issues.add(`${path}.policy`, `spd[${entry.index}] "${entry.name}" already has an outbound SA (manualKeys[${previous}]): an entry sends on one SA at a time, so remove one`);
  } else seen.outboundByEntry.set(entry.id, index);
}
