/**
 * Address fields of the appliance configuration (interface addresses, tunnel endpoints, routed
 * prefixes), parsed with the policy layer's address text functions and converted to the forms the
 * data plane uses: IPv4 as a u32, IPv6 as 16 bytes.
 */

import {
  ADDRESS_BITS,
  type AddressFamily,
  type AddressPrefix,
  formatAddress,
  parseAddress,
  parsePrefix,
  parsePrefixLength,
} from '../policy/address-text.js';
import { type IssueList, quote } from '../policy/validation.js';

/** An address with the prefix length of its subnet, as assigned to an interface ("192.0.2.1/24"). */
export interface InterfaceAddress {
  readonly value: bigint;
  readonly length: number;
}

const FAMILY_NAME: Readonly<Record<AddressFamily, string>> = Object.freeze({ 4: 'IPv4', 6: 'IPv6' });

/**
 * Why `value` cannot be a unicast host address, or null. IPv4: RFC 1122 §3.2.1.3 ("this" network
 * 0/8, loopback 127/8), RFC 5771 multicast 224/4, RFC 1112 §4 reserved 240/4 with the limited
 * broadcast. IPv6: RFC 4291 §2.5.2 unspecified, §2.5.3 loopback, §2.7 multicast ff00::/8.
 */
function notUnicast(family: AddressFamily, value: bigint): string | null {
  if (family === 4) {
    const first = Number(value >> 24n);
    if (first === 0 || first === 127 || first >= 224) return 'is not a unicast IPv4 address (0/8, 127/8, multicast and 240/4 are not)';
    return null;
  }
  if (value === 0n || value === 1n || value >> 120n === 0xffn) return 'is not a unicast IPv6 address (::, ::1 and ff00::/8 are not)';
  return null;
}

/** A single unicast address of `family`. */
export function readHostAddress(value: unknown, path: string, family: AddressFamily, issues: IssueList): bigint | null {
  const parsed = typeof value === 'string' ? parseAddress(value.trim()) : null;
  if (parsed === null || parsed.family !== family) {
    issues.add(path, `${quote(value)} is not an ${FAMILY_NAME[family]} address: write one address without a prefix length`);
    return null;
  }
  const problem = notUnicast(family, parsed.value);
  if (problem !== null) {
    issues.add(path, `${quote(value)} ${problem}: use a host address`);
    return null;
  }
  return parsed.value;
}

/**
 * "address/length" of an interface: a unicast address and its subnet's prefix length. The address
 * must not be the subnet itself, nor (IPv4, /30 and shorter) its broadcast address (RFC 1122 §3.2.1.3).
 */
export function readInterfaceAddress(value: unknown, path: string, family: AddressFamily, issues: IssueList): InterfaceAddress | null {
  const example = family === 4 ? '192.0.2.1/24' : '2001:db8:a::1/64';
  const text = typeof value === 'string' ? value.trim() : '';
  const slash = text.indexOf('/');
  const parsed = slash > 0 ? parseAddress(text.slice(0, slash)) : null;
  const bits = ADDRESS_BITS[family];
  const length = parsed !== null && parsed.family === family ? parsePrefixLength(text.slice(slash + 1), family) : null;
  if (parsed === null || length === null || length < 1) {
    issues.add(path, `${quote(value)} is not an ${FAMILY_NAME[family]} interface address: write the address and its subnet's prefix length (1 to ${bits}), e.g. "${example}"`);
    return null;
  }
  const problem = notUnicast(family, parsed.value);
  if (problem !== null) {
    issues.add(path, `${quote(value)} ${problem}: use a host address`);
    return null;
  }
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  const host = parsed.value & hostMask;
  if (length < bits - 1 && (host === 0n || (family === 4 && host === hostMask))) {
    issues.add(path, `${quote(value)} is the ${host === 0n ? 'subnet' : 'broadcast'} address of ${formatAddress(family, parsed.value & ~hostMask)}/${length}: use a host address inside it, e.g. "${example}"`);
    return null;
  }
  return Object.freeze({ value: parsed.value, length });
}

/** A routed prefix "a/len" of either family (host bits zero), e.g. "2001:db8:b::/48". */
export function readPrefix(value: unknown, path: string, issues: IssueList): AddressPrefix | null {
  const text = typeof value === 'string' ? value.trim() : '';
  const slash = text.indexOf('/');
  if (slash < 0) {
    issues.add(path, `${quote(value)} is not a prefix: write "address/length", e.g. "2001:db8:b::/48" (a single address is "/128" or "/32")`);
    return null;
  }
  const prefix = parsePrefix(text);
  if (typeof prefix === 'string') {
    issues.add(path, `${quote(value)} ${prefix}`);
    return null;
  }
  return Object.freeze(prefix);
}

/** True when `value` lies in the subnet of `subnet`. */
export function inSubnet(family: AddressFamily, subnet: InterfaceAddress, value: bigint): boolean {
  const shift = BigInt(ADDRESS_BITS[family] - subnet.length);
  return value >> shift === subnet.value >> shift;
}

/** Network byte order bytes of an address: 4 for IPv4, 16 for IPv6. */
export function addressBytes(family: AddressFamily, value: bigint): Uint8Array {
  const out = new Uint8Array(ADDRESS_BITS[family] / 8);
  for (let i = out.length - 1, v = value; i >= 0; i--, v >>= 8n) out[i] = Number(v & 0xffn);
  return out;
}

/** Dotted-quad text of an IPv4 address held as a u32 (or its int32 bit pattern). */
export function formatIpv4(address: number): string {
  return formatAddress(4, BigInt(address >>> 0));
}

