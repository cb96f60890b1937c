/**
 * The addresses the appliance answers for on its two links and the link-layer address rules of
 * IPv6 over Ethernet: MAC text, modified EUI-64 link-local (RFC 4291 §2.5.1, App. A), the
 * solicited-node group (RFC 4291 §2.7.1) and IPv6 multicast MACs (RFC 2464 §7).
 */
import { readU32 } from '../wire/bytes.js';
import { IPV6_ADDRESS_BYTES } from '../wire/ipv6.js';
import { isSolicitedNodeMulticast } from '../wire/ndp.js';
import type { LinkSettings } from './link-config.js';

/** ff02::1 and ff02::2 (RFC 4291 §2.7.1). */
export const ALL_NODES = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1);
export const ALL_ROUTERS = Uint8Array.of(0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2);
export const BROADCAST_MAC = 0xffff_ffff_ffff;
/** Offset of the low 24 bits a solicited-node address copies (RFC 4291 §2.7.1). */
const SOLICITED_NODE_SUFFIX = 13;

const MAC_TEXT = /^([0-9a-fA-F]{2})([:-])([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})\2([0-9a-fA-F]{2})$/;

/** "02:00:5e:10:00:01" (or with "-") as a 48-bit number; null when malformed. */
export function parseMacAddress(text: string): number | null {
  const m = MAC_TEXT.exec(text);
  if (m === null) return null;
  let value = 0;
  for (const i of [1, 3, 4, 5, 6, 7]) value = value * 256 + parseInt(m[i], 16);
  return value;
}

/** A 48-bit MAC as "02:00:5e:10:00:01" (the form parseMacAddress reads). */
export function formatMacAddress(mac: number): string {
  return mac.toString(16).padStart(12, '0').replace(/(..)(?!$)/g, '$1:');
}

/** True for a 48-bit MAC with the group bit clear (IEEE 802: the low bit of the first octet) and not all zero. */
export function isUnicastMac(mac: number): boolean {
  return mac !== 0 && Math.floor(mac / 0x100_0000_0000) % 2 === 0;
}

/** True when the 6-byte MAC at bytes[off] is a group (multicast or broadcast) address. */
export function isGroupMacAt(bytes: Uint8Array, off: number): boolean {
  return (bytes[off] & 1) === 1;
}

/** fe80::/64 with the modified EUI-64 interface identifier of `mac`: U/L bit inverted, ff:fe inserted (RFC 4291 App. A). */
export function linkLocalFromMac(mac: number): Uint8Array {
  const out = new Uint8Array(IPV6_ADDRESS_BYTES);
  out[0] = 0xfe;
  out[1] = 0x80;
  const octets = [0, 0, 0, 0, 0, 0];
  for (let i = 5, v = mac; i >= 0; i--, v = Math.floor(v / 256)) octets[i] = v % 256;
  out[8] = octets[0] ^ 0x02;
  out[9] = octets[1];
  out[10] = octets[2];
  out[11] = 0xff;
  out[12] = 0xfe;
  out[13] = octets[3];
  out[14] = octets[4];
  out[15] = octets[5];
  return out;
}

/** Writes ff02::1:ffXX:XXXX, the solicited-node group of the address at src[srcOff] (RFC 4291 §2.7.1). */
export function writeSolicitedNodeAddress(bytes: Uint8Array, off: number, src: Uint8Array, srcOff: number): void {
  bytes.fill(0, off, off + IPV6_ADDRESS_BYTES);
  bytes[off] = 0xff;
  bytes[off + 1] = 0x02;
  bytes[off + 11] = 0x01;
  bytes[off + 12] = 0xff;
  for (let i = SOLICITED_NODE_SUFFIX; i < IPV6_ADDRESS_BYTES; i++) bytes[off + i] = src[srcOff + i];
}

/** The Ethernet group address of an IPv6 multicast destination: 33:33 and its low 32 bits (RFC 2464 §7). */
export function multicastMac(bytes: Uint8Array, off: number): number {
  return 0x3333 * 0x1_0000_0000 + readU32(bytes, off + 12);
}

/**
 * Whether the 16 bytes at a[aOff] equal those at b[bOff]. Compared from the last byte: addresses
 * on one link share their prefix, so the interface identifier tells them apart at once.
 */
function ipv6Equals(a: Uint8Array, aOff: number, b: Uint8Array, bOff: number): boolean {
  for (let i = IPV6_ADDRESS_BYTES - 1; i >= 0; i--) if (a[aOff + i] !== b[bOff + i]) return false;
  return true;
}

/** The owned IPv6 address (router or link-local) equal to the one at bytes[off], or null. */
export function ownedIpv6(settings: LinkSettings, bytes: Uint8Array, off: number): Uint8Array | null {
  if (ipv6Equals(bytes, off, settings.routerAddress, 0)) return settings.routerAddress;
  if (ipv6Equals(bytes, off, settings.linkLocalAddress, 0)) return settings.linkLocalAddress;
  return null;
}

/** Whether the 16 bytes at bytes[off] are the solicited-node group of `address`. */
function isSolicitedNodeOf(bytes: Uint8Array, off: number, address: Uint8Array): boolean {
  if (!isSolicitedNodeMulticast(bytes, off)) return false;
  for (let i = SOLICITED_NODE_SUFFIX; i < IPV6_ADDRESS_BYTES; i++) if (bytes[off + i] !== address[i]) return false;
  return true;
}

/**
 * Whether an IPv6 packet with the destination at bytes[off] is for the router itself: an owned
 * address, the solicited-node group of one, all-nodes or all-routers (RFC 4291 §2.8: the groups
 * a router joins).
 */
export function isRouterDestination(settings: LinkSettings, bytes: Uint8Array, off: number): boolean {
  // Every group address starts with 0xff (RFC 4291 §2.7): a unicast one can only be owned.
  if (bytes[off] !== 0xff) return ownedIpv6(settings, bytes, off) !== null;
  return (
    ownedIpv6(settings, bytes, off) !== null ||
    ipv6Equals(bytes, off, ALL_NODES, 0) ||
    ipv6Equals(bytes, off, ALL_ROUTERS, 0) ||
    isSolicitedNodeOf(bytes, off, settings.routerAddress) ||
    isSolicitedNodeOf(bytes, off, settings.linkLocalAddress)
  );
}

/** The u32 netmask of an IPv4 prefix length (0 to 32). */
export function ipv4PrefixMask(length: number): number {
  return length === 0 ? 0 : (0xffff_ffff << (32 - length)) >>> 0;
}

/** Whether an IPv4 address is on the TEP's subnet (reachable without the next hop). */
export function isOnTepLink(settings: Pick<LinkSettings, 'tepAddress' | 'tepPrefixLength'>, address: number): boolean {
  return ((address ^ settings.tepAddress) & ipv4PrefixMask(settings.tepPrefixLength)) === 0;
}

/**
 * The neighbor to resolve for an IPv4 destination on black: the destination itself when on
 * link, else the configured next hop; NO_IPV4_NEXT_HOP when there is none (the caller drops with
 * NoRoute). In and out as int32 bit patterns (`address | 0`): V8 passes those unboxed.
 */
export function ipv4NextHop(settings: LinkSettings, destination: number): number {
  return isOnTepLink(settings, destination) ? destination | 0 : settings.ipv4NextHop | 0;
}
