/**
 * The `peers` section: the remote tunnel endpoints and the prefixes behind them. A peer's TEP is
 * the only accepted outer source of its 6in4/IPIP packets (RFC 4213 §3.6); its prefixes are routed
 * into its tunnel and are the inner sources it may use after decapsulation (RFC 4891 §2 ingress
 * filtering). Prefixes must not overlap, so every destination belongs to exactly one peer.
 */

import { type AddressPrefix, formatAddress, formatAddressRange } from '../policy/address-text.js';
import { readName } from '../policy/names.js';
import { type IssueList, quote } from '../policy/validation.js';
import type { GatewaySettings, PeerPrefix, PeerSettings } from './appliance-config.js';
import { inSubnet, readHostAddress, readPrefix } from './address-fields.js';
import { readList, readSection } from './field-readers.js';

/**
 * Parses `peers`. `gatewayRole` is whether the file has a gateway block; `gateway` is that block
 * when its addresses are valid (for the on-link and own-TEP checks). Null when any peer is invalid.
 */
export function parsePeers(value: unknown, gatewayRole: boolean, gateway: GatewaySettings | null, issues: IssueList): PeerSettings[] | null {
  const list = readList(value, 'peers', 'peers { name, tep, prefixes }', issues);
  if (list === null) return null;
  const before = issues.count;
  const names = new Map<string, number>();
  const teps = new Map<bigint, number>();
  const seen: { path: string; prefix: AddressPrefix }[] = [];
  const peers: PeerSettings[] = [];
  list.forEach((item, i) => {
    const path = `peers[${i}]`;
    const section = readSection(item, path, ['name', 'tep', 'prefixes'], 'an object { name, tep, prefixes }', issues);
    if (section === null) return;
    const name = readName(section.name, `${path}.name`, issues);
    if (name !== null) {
      if (names.has(name)) issues.add(`${path}.name`, `${quote(name)} is already used by peers[${names.get(name)}]: peer names must be unique`);
      else names.set(name, i);
    }
    const tep = readHostAddress(section.tep, `${path}.tep`, 4, issues);
    if (tep !== null) checkTep(tep, `${path}.tep`, gateway, teps, i, issues);
    const prefixes = readPrefixes(section.prefixes, `${path}.prefixes`, gatewayRole, seen, issues);
    if (name !== null && tep !== null && prefixes !== null) {
      peers.push(Object.freeze({ name, tep: Number(tep), prefixes: Object.freeze(prefixes) }));
    }
  });
  return issues.count === before ? peers : null;
}

function checkTep(tep: bigint, path: string, gateway: GatewaySettings | null, teps: Map<bigint, number>, index: number, issues: IssueList): void {
  const text = formatAddress(4, tep);
  if (teps.has(tep)) issues.add(path, `${text} is already the TEP of peers[${teps.get(tep)}]: each peer has its own TEP`);
  else teps.set(tep, index);
  if (gateway === null) return;
  const own = { value: BigInt(gateway.tep), length: gateway.tepPrefixLength };
  const subnet = `${formatAddress(4, own.value)}/${own.length}`;
  if (tep === own.value) issues.add(path, `${text} is this appliance's own TEP (gateway.tep): give the peer's address`);
  else if (gateway.nextHop === null && !inSubnet(4, own, tep)) {
    issues.add(path, `${text} is not on-link with gateway.tep ${subnet}: set gateway.nextHop to the IPv4 router that reaches it`);
  }
}

function readPrefixes(value: unknown, path: string, gatewayRole: boolean, seen: { path: string; prefix: AddressPrefix }[], issues: IssueList): PeerPrefix[] | null {
  if (!Array.isArray(value) || value.length === 0) {
    issues.add(path, 'must list the prefixes behind this peer, e.g. [2001:db8:b::/48]');
    return null;
  }
  const before = issues.count;
  const out: PeerPrefix[] = [];
  value.forEach((text, j) => {
    const itemPath = `${path}[${j}]`;
    const prefix = readPrefix(text, itemPath, issues);
    if (prefix === null) return;
    const { range } = prefix;
    if (gatewayRole && range.family !== 6) {
      issues.add(itemPath, `${quote(text)} is IPv4: a 6in4 gateway routes IPv6 prefixes to its peers (RFC 4213 §3.5)`);
      return;
    }
    const clash = seen.find((s) => s.prefix.range.family === range.family && s.prefix.range.lo <= range.hi && range.lo <= s.prefix.range.hi);
    if (clash !== undefined) {
      issues.add(itemPath, `${formatAddressRange(range)} overlaps ${clash.path} (${formatAddressRange(clash.prefix.range)}): every destination must belong to one peer`);
      return;
    }
    seen.push({ path: itemPath, prefix });
    out.push(prefix);
  });
  return issues.count === before ? out : null;
}
