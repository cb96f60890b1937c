/**
 * The Peer Authorization Database (RFC 4301 §4.4.3), consumed by IKE: an ordered list of entries,
 * first match wins (§4.4.3 "ordered"). Each entry names a peer identity (§4.4.3.1), how the peer
 * authenticates (§4.4.3.2), and which child-SA traffic selectors the peer may claim (§4.4.3.3).
 * Pre-shared keys are held as SecretBytes: they never appear in errors, toString or JSON.
 */

import { ADDRESS_BITS, addressOfBytes, type AddressRange, formatAddressRange, parseAddress, parseAddressRange } from './address-text.js';
import { decodeHex } from './hex-bytes.js';
import { readName } from './names.js';
import { REDACTED, SecretBytes } from './secret-bytes.js';
import { type Box, boxesOfSelector, uncoveredPart } from './selector-space.js';
import {
  describeAddressSelector,
  describePortRange,
  describeProtocol,
  parseAddressSelector,
  parsePortRange,
  parseProtocol,
  type PortRange,
  PORTS_ANY,
  type PortSpec,
  type ProtocolSpec,
} from './selectors.js';
import { checkKnownFields, isPlainObject, IssueList, quote } from './validation.js';

export type PeerIdType = 'ipv4' | 'ipv6' | 'fqdn' | 'rfc822' | 'key-id' | 'dn';

/**
 * ipv4/ipv6: an address, "a/len" or "a-b". fqdn: "gw.example.com", or "*.example.com" for any name
 * below example.com. rfc822: "ops@example.com", or "*@example.com" for any user of that domain.
 * key-id: bytes, or hex text "0x0102...". dn: the exact distinguished name text.
 */
export interface PadIdentityConfig {
  type: PeerIdType;
  value: string | Uint8Array;
}

/** psk: bytes, "0x<hex>", "0s<base64>" or UTF-8 text, at least 16 bytes. */
export type PadAuthConfig = { method: 'psk'; psk: string | Uint8Array } | { method: 'certificate'; trustAnchor: string };

/** One side of a child-SA traffic selector as IKEv2 carries it (RFC 7296 §3.13.1). */
export interface TrafficSelectorSideSpec {
  address: string;
  protocol?: ProtocolSpec;
  port?: PortSpec;
}

export interface PadEntryConfig {
  id: number;
  name: string;
  identity: PadIdentityConfig;
  auth: PadAuthConfig;
  /** Selectors the peer may claim: `local` for our side, `remote` for the peer's side. */
  childSa: { local: TrafficSelectorSideSpec[]; remote: TrafficSelectorSideSpec[] };
}

/** An identity presented by a peer in IKE_AUTH (IDi/IDr). */
export type PeerIdentity =
  | { type: 'ipv4' | 'ipv6'; value: string | Uint8Array }
  | { type: 'fqdn' | 'rfc822' | 'dn'; value: string }
  | { type: 'key-id'; value: Uint8Array };

export type PadIdentity =
  | { readonly type: 'ipv4' | 'ipv6'; readonly range: AddressRange }
  | { readonly type: 'fqdn'; readonly name: string; readonly wildcard: boolean }
  | { readonly type: 'rfc822'; readonly local: string | null; readonly domain: string }
  | { readonly type: 'key-id'; readonly bytes: Uint8Array }
  | { readonly type: 'dn'; readonly dn: string };

export type PadAuth = { readonly method: 'psk'; readonly psk: SecretBytes } | { readonly method: 'certificate'; readonly trustAnchor: string };

/** A parsed traffic selector side: a box over (address, protocol, port). */
export interface TrafficSelectorSide {
  /** null means any address of either family. */
  readonly address: AddressRange | null;
  readonly protocol: number;
  readonly port: PortRange;
}

export class PadEntry {
  constructor(
    readonly index: number,
    readonly id: number,
    readonly name: string,
    readonly identity: PadIdentity,
    readonly auth: PadAuth,
    readonly childLocal: readonly TrafficSelectorSide[],
    readonly childRemote: readonly TrafficSelectorSide[],
  ) {
    Object.freeze(this);
  }

  /** Operator view; the PSK shows as "[redacted]". */
  toJSON(): object {
    return {
      id: this.id,
      name: this.name,
      identity: describeIdentity(this.identity),
      auth: this.auth.method === 'psk' ? { method: 'psk', psk: REDACTED } : { method: 'certificate', trustAnchor: this.auth.trustAnchor },
      childSa: { local: this.childLocal.map(describeSide), remote: this.childRemote.map(describeSide) },
    };
  }

  toString(): string {
    return `pad entry ${this.id} "${this.name}" (${describeIdentity(this.identity)}, ${this.auth.method})`;
  }
}

const ENTRY_FIELDS = ['id', 'name', 'identity', 'auth', 'childSa'];
const LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
/** RFC 7296 §2.15: a PSK must be as strong as the keys it protects; 16 bytes matches AES-128. */
export const MIN_PSK_BYTES = 16;

export class PeerAuthorizationDatabase {
  readonly entries: readonly PadEntry[];

  private constructor(entries: readonly PadEntry[]) {
    this.entries = Object.freeze(entries.slice());
  }

  /** Validates a whole configuration; throws PolicyValidationError listing every problem (never a PSK). */
  static build(configs: readonly PadEntryConfig[]): PeerAuthorizationDatabase {
    const issues = new IssueList();
    if (!Array.isArray(configs)) {
      issues.add('pad', 'must be an array of entries');
      issues.throwIfAny();
    }
    const entries: PadEntry[] = [];
    const ids = new Map<number, number>();
    const names = new Map<string, number>();
    configs.forEach((config, index) => {
      const entry = parseEntry(config, index, issues, ids, names);
      if (entry !== null) entries.push(entry);
    });
    if (issues.count > 0) {
      for (const e of entries) if (e.auth.method === 'psk') e.auth.psk.zeroize();
      issues.throwIfAny();
    }
    return new PeerAuthorizationDatabase(entries);
  }

  /** First entry whose identity matches (§4.4.3.1), or null: an unknown peer is refused. */
  lookup(identity: PeerIdentity): PadEntry | null {
    const presented = normalizePresented(identity);
    if (presented === null) return null;
    for (const entry of this.entries) if (identityMatches(entry.identity, presented)) return entry;
    return null;
  }

  /** Zeroizes every PSK; call when this configuration is retired. */
  dispose(): void {
    for (const e of this.entries) if (e.auth.method === 'psk') e.auth.psk.zeroize();
  }

  toJSON(): object {
    return this.entries.map((e) => e.toJSON());
  }
}

/**
 * Child-SA authorization (§4.4.3.3): true when every proposed local selector lies inside the
 * union of the entry's local selectors, and likewise for remote. Empty or malformed proposals
 * are refused (fail closed).
 */
export function authorizesChild(
  entry: PadEntry,
  proposedLocal: readonly TrafficSelectorSideSpec[],
  proposedRemote: readonly TrafficSelectorSideSpec[],
): boolean {
  return sideAuthorized(entry.childLocal, proposedLocal) && sideAuthorized(entry.childRemote, proposedRemote);
}

function sideAuthorized(allowed: readonly TrafficSelectorSide[], proposed: readonly TrafficSelectorSideSpec[]): boolean {
  if (!Array.isArray(proposed) || proposed.length === 0) return false;
  const issues = new IssueList();
  const sides = proposed.map((spec, i) => parseSide(spec, `proposed[${i}]`, issues));
  if (issues.count > 0) return false;
  const cutters = allowed.flatMap(sideBoxes);
  for (const side of sides) {
    if (side === null) return false;
    const rest = uncoveredPart(sideBoxes(side), cutters);
    if (rest === null || rest.length > 0) return false;
  }
  return true;
}

/** A side as the local half of an SPD selector whose remote half is ANY, so the SPD's box algebra applies. */
function sideBoxes(side: TrafficSelectorSide): Box[] {
  const address = side.address;
  return boxesOfSelector({
    family: address === null ? 0 : address.family,
    local: address,
    remote: null,
    protocol: side.protocol,
    localPort: side.port,
    remotePort: PORTS_ANY,
  });
}

function parseSide(spec: TrafficSelectorSideSpec, path: string, issues: IssueList): TrafficSelectorSide | null {
  if (!isPlainObject(spec)) {
    issues.add(path, 'must be an object { address, protocol?, port? }');
    return null;
  }
  const before = issues.count;
  checkKnownFields(spec, ['address', 'protocol', 'port'], path, issues);
  const address = parseAddressSelector(spec.address, `${path}.address`, issues);
  const protocol = parseProtocol(spec.protocol, `${path}.protocol`, issues);
  const port = parsePortRange(spec.port, `${path}.port`, issues);
  if (issues.count !== before || address === null || protocol === null || port === null) return null;
  return Object.freeze({ address: address === 'any' ? null : address, protocol, port });
}

function describeSide(side: TrafficSelectorSide): string {
  return `${describeAddressSelector(side.address)} proto ${describeProtocol(side.protocol)} port ${describePortRange(side.port)}`;
}

function describeIdentity(id: PadIdentity): string {
  switch (id.type) {
    case 'ipv4':
    case 'ipv6':
      return `${id.type}:${formatAddressRange(id.range)}`;
    case 'fqdn':
      return `fqdn:${id.wildcard ? '*.' : ''}${id.name}`;
    case 'rfc822':
      return `rfc822:${id.local ?? '*'}@${id.domain}`;
    case 'key-id':
      return `key-id:0x${Buffer.from(id.bytes).toString('hex')}`;
    case 'dn':
      return `dn:${id.dn}`;
  }
}

/** Lower-cased FQDN without the root dot, or null unless every label is a valid LDH label (RFC 1123 §2.1). */
function normalizeFqdn(text: string): string | null {
  const name = (text.endsWith('.') ? text.slice(0, -1) : text).toLowerCase();
  if (name.length === 0 || name.length > 253) return null;
  return name.split('.').every((l) => LABEL.test(l)) ? name : null;
}

/** Splits "local@domain"; the domain is lower-cased (domains are case-insensitive, local parts are not). */
function splitRfc822(text: string): { local: string; domain: string } | null {
  const at = text.lastIndexOf('@');
  if (at <= 0 || at > 64) return null;
  const local = text.slice(0, at);
  const domain = normalizeFqdn(text.slice(at + 1));
  if (domain === null || /[\s<>()\\,;:"[\]]/.test(local)) return null;
  return { local, domain };
}

function parseIdentity(config: PadIdentityConfig, path: string, issues: IssueList): PadIdentity | null {
  if (!isPlainObject(config)) {
    issues.add(path, 'must be an object { type, value }');
    return null;
  }
  checkKnownFields(config, ['type', 'value'], path, issues);
  const { type, value } = config;
  const bad = (message: string) => {
    issues.add(`${path}.value`, message);
    return null;
  };
  switch (type) {
    case 'ipv4':
    case 'ipv6': {
      if (typeof value !== 'string') return bad(`must be text: an ${type === 'ipv4' ? 'IPv4' : 'IPv6'} address, "a/len" or "a-b"`);
      const range = parseAddressRange(value.trim());
      if (typeof range === 'string') return bad(`${quote(value)} ${range}`);
      if (range.family !== (type === 'ipv4' ? 4 : 6)) return bad(`${quote(value)} is IPv${range.family}, but the type is ${type}: change one of them`);
      return Object.freeze({ type, range });
    }
    case 'fqdn': {
      if (typeof value !== 'string') return bad('must be text such as "gw.example.com" or "*.example.com"');
      const wildcard = value.startsWith('*.');
      const name = normalizeFqdn(wildcard ? value.slice(2) : value);
      if (name === null) return bad(`${quote(value)} is not a domain name: use dot-separated labels of letters, digits and "-", or "*." followed by one`);
      return Object.freeze({ type, name, wildcard });
    }
    case 'rfc822': {
      if (typeof value !== 'string') return bad('must be text such as "ops@example.com" or "*@example.com"');
      const parts = splitRfc822(value);
      if (parts === null) return bad(`${quote(value)} is not an email address: use "user@example.com", or "*@example.com" for a whole domain`);
      return Object.freeze({ type, local: parts.local === '*' ? null : parts.local, domain: parts.domain });
    }
    case 'key-id': {
      const bytes = value instanceof Uint8Array ? Uint8Array.from(value) : typeof value === 'string' && value.startsWith('0x') ? decodeHex(value.slice(2)) : null;
      if (bytes === null || bytes.length === 0) return bad('must be bytes, or hex text starting with "0x" (an even number of hex digits)');
      return Object.freeze({ type, bytes });
    }
    case 'dn': {
      if (typeof value !== 'string' || value.trim().length === 0) return bad('must be the distinguished name text, such as "CN=gw1, O=Example"');
      return Object.freeze({ type, dn: value });
    }
    default:
      issues.add(`${path}.type`, `${quote(type)} is not an identity type: use ipv4, ipv6, fqdn, rfc822, key-id or dn`);
      return null;
  }
}

/** Decodes PSK text; errors describe the problem and the length only, never the key. */
function parsePsk(value: unknown, path: string, issues: IssueList): SecretBytes | null {
  let bytes: Uint8Array | null = null;
  if (value instanceof Uint8Array) bytes = Uint8Array.from(value);
  else if (typeof value === 'string') {
    if (value.startsWith('0x')) {
      bytes = decodeHex(value.slice(2));
      if (bytes === null) issues.add(path, 'is not valid hex after "0x": use an even number of hex digits');
    } else if (value.startsWith('0s')) {
      const b64 = value.slice(2);
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(b64) || b64.length % 4 !== 0) issues.add(path, 'is not valid base64 after "0s"');
      else bytes = Uint8Array.from(Buffer.from(b64, 'base64'));
    } else bytes = new TextEncoder().encode(value);
  } else {
    issues.add(path, 'must be bytes or text ("0x" hex, "0s" base64, or plain UTF-8)');
  }
  if (bytes === null) return null;
  if (bytes.length < MIN_PSK_BYTES) {
    issues.add(path, `is ${bytes.length} bytes: use at least ${MIN_PSK_BYTES} random bytes (RFC 7296 §2.15)`);
    bytes.fill(0);
    return null;
  }
  const secret = new SecretBytes(bytes);
  bytes.fill(0);
  return secret;
}

function parseAuth(config: PadAuthConfig, path: string, issues: IssueList): PadAuth | null {
  if (!isPlainObject(config)) {
    issues.add(path, 'must be { method: "psk", psk } or { method: "certificate", trustAnchor }');
    return null;
  }
  if (config.method === 'psk') {
    checkKnownFields(config, ['method', 'psk'], path, issues);
    const psk = parsePsk(config.psk, `${path}.psk`, issues);
    return psk === null ? null : Object.freeze({ method: 'psk', psk });
  }
  if (config.method === 'certificate') {
    checkKnownFields(config, ['method', 'trustAnchor'], path, issues);
    const anchor = config.trustAnchor;
    if (typeof anchor !== 'string' || !/^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(anchor)) {
      issues.add(`${path}.trustAnchor`, `${quote(anchor)} is not a trust anchor reference: name the CA certificate (printable text, up to 255 characters)`);
      return null;
    }
    return Object.freeze({ method: 'certificate', trustAnchor: anchor });
  }
  issues.add(`${path}.method`, `${quote((config as { method?: unknown }).method)} is not a method: use "psk" or "certificate"`);
  return null;
}

function parseSides(list: unknown, path: string, issues: IssueList): TrafficSelectorSide[] | null {
  if (!Array.isArray(list) || list.length === 0) {
    issues.add(path, 'must list at least one selector { address, protocol?, port? } (use { address: "any" } to allow everything)');
    return null;
  }
  const sides = list.map((spec, i) => parseSide(spec as TrafficSelectorSideSpec, `${path}[${i}]`, issues));
  return sides.every((s) => s !== null) ? (sides as TrafficSelectorSide[]) : null;
}

function parseEntry(
  config: PadEntryConfig,
  index: number,
  issues: IssueList,
  ids: Map<number, number>,
  names: Map<string, number>,
): PadEntry | null {
  const path = `pad[${index}]`;
  if (!isPlainObject(config)) {
    issues.add(path, 'must be an object with id, name, identity, auth and childSa');
    return null;
  }
  const before = issues.count;
  checkKnownFields(config, ENTRY_FIELDS, path, issues);
  const id = config.id;
  if (!(typeof id === 'number' && Number.isInteger(id) && id >= 0 && id <= 0xffffffff)) issues.add(`${path}.id`, `${quote(id)} is not an id: use an integer 0 to 4294967295`);
  else if (ids.has(id)) issues.add(`${path}.id`, `${id} is already used by pad[${ids.get(id)}]: ids must be unique`);
  else ids.set(id, index);
  const name = readName(config.name, `${path}.name`, issues);
  if (name !== null && names.has(name)) issues.add(`${path}.name`, `${quote(name)} is already used by pad[${names.get(name)}]: names must be unique`);
  else if (name !== null) names.set(name, index);

  const identity = parseIdentity(config.identity, `${path}.identity`, issues);
  const auth = parseAuth(config.auth, `${path}.auth`, issues);
  let local: TrafficSelectorSide[] | null = null;
  let remote: TrafficSelectorSide[] | null = null;
  if (!isPlainObject(config.childSa)) issues.add(`${path}.childSa`, 'must be { local: [...], remote: [...] }');
  else {
    checkKnownFields(config.childSa, ['local', 'remote'], `${path}.childSa`, issues);
    local = parseSides(config.childSa.local, `${path}.childSa.local`, issues);
    remote = parseSides(config.childSa.remote, `${path}.childSa.remote`, issues);
  }
  if (issues.count !== before || identity === null || auth === null || local === null || remote === null) {
    if (auth?.method === 'psk') auth.psk.zeroize();
    return null;
  }
  return new PadEntry(index, id, config.name, identity, auth, Object.freeze(local), Object.freeze(remote));
}

type Presented =
  | { type: 'ipv4' | 'ipv6'; value: bigint }
  | { type: 'fqdn'; name: string }
  | { type: 'rfc822'; local: string; domain: string }
  | { type: 'key-id'; bytes: Uint8Array }
  | { type: 'dn'; dn: string };

function normalizePresented(id: PeerIdentity): Presented | null {
  if (!isPlainObject(id)) return null;
  switch (id.type) {
    case 'ipv4':
    case 'ipv6': {
      const family = id.type === 'ipv4' ? 4 : 6;
      if (id.value instanceof Uint8Array) {
        return id.value.length === ADDRESS_BITS[family] / 8 ? { type: id.type, value: addressOfBytes(id.value) } : null;
      }
      const parsed = typeof id.value === 'string' ? parseAddress(id.value) : null;
      return parsed !== null && parsed.family === family ? { type: id.type, value: parsed.value } : null;
    }
    case 'fqdn': {
      const name = typeof id.value === 'string' ? normalizeFqdn(id.value) : null;
      return name === null ? null : { type: 'fqdn', name };
    }
    case 'rfc822': {
      const parts = typeof id.value === 'string' ? splitRfc822(id.value) : null;
      return parts === null ? null : { type: 'rfc822', ...parts };
    }
    case 'key-id':
      return id.value instanceof Uint8Array ? { type: 'key-id', bytes: id.value } : null;
    case 'dn':
      return typeof id.value === 'string' ? { type: 'dn', dn: id.value } : null;
    default:
      return null;
  }
}

function identityMatches(entry: PadIdentity, p: Presented): boolean {
  switch (entry.type) {
    case 'ipv4':
    case 'ipv6':
      return p.type === entry.type && p.value >= entry.range.lo && p.value <= entry.range.hi;
    case 'fqdn':
      if (p.type !== 'fqdn') return false;
      return entry.wildcard ? p.name.endsWith(`.${entry.name}`) : p.name === entry.name;
    case 'rfc822':
      return p.type === 'rfc822' && p.domain === entry.domain && (entry.local === null || p.local === entry.local);
    case 'key-id':
      return p.type === 'key-id' && Buffer.compare(Buffer.from(p.bytes), Buffer.from(entry.bytes)) === 0;
    case 'dn':
      return p.type === 'dn' && p.dn === entry.dn;
  }
}
