/**
 * Text forms of IPv4 and IPv6 addresses, prefixes and ranges as an operator writes them in policy
 * configuration, converted to integers (bigint) and to the u32 words the data plane compares.
 * Parsers return null or a reason; callers add the field path and the offending text.
 */

export type AddressFamily = 4 | 6;

/** An inclusive address interval inside one family. */
export interface AddressRange {
  readonly family: AddressFamily;
  readonly lo: bigint;
  readonly hi: bigint;
}

export const ADDRESS_BITS: Readonly<Record<AddressFamily, number>> = Object.freeze({ 4: 32, 6: 128 });

const IPV4_TEXT = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/** Dotted-quad IPv4 (RFC 791 §3.2 addressing; no leading zeros, which some stacks read as octal). */
export function parseIpv4(text: string): bigint | null {
  const m = IPV4_TEXT.exec(text);
  if (m === null) return null;
  let value = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i];
    if (part.length > 1 && part[0] === '0') return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

/** IPv6 text forms of RFC 4291 §2.2: full, "::"-compressed, and with a trailing dotted quad. */
export function parseIpv6(text: string): bigint | null {
  if (text.length < 2 || text.length > 45) return null;
  let groups: number[] = [];
  let tail = text;
  let embedded: bigint | null = null;
  const lastColon = text.lastIndexOf(':');
  if (lastColon >= 0 && text.indexOf('.', lastColon) > lastColon) {
    // RFC 4291 §2.2 form 3: the low 32 bits as a dotted quad.
    embedded = parseIpv4(text.slice(lastColon + 1));
    if (embedded === null) return null;
    tail = text.slice(0, lastColon + 1);
    if (!tail.endsWith('::')) tail = tail.slice(0, -1);
  }
  const doubleColon = tail.indexOf('::');
  if (doubleColon !== tail.lastIndexOf('::')) return null;
  const want = embedded === null ? 8 : 6;
  const readGroups = (part: string): number[] | null => {
    if (part === '') return [];
    const out: number[] = [];
    for (const g of part.split(':')) {
      if (!HEX_GROUP.test(g)) return null;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  if (doubleColon < 0) {
    const all = readGroups(tail);
    if (all === null || all.length !== want) return null;
    groups = all;
  } else {
    const head = readGroups(tail.slice(0, doubleColon));
    const rest = readGroups(tail.slice(doubleColon + 2));
    if (head === null || rest === null || head.length + rest.length >= want) return null;
    groups = [...head, ...new Array<number>(want - head.length - rest.length).fill(0), ...rest];
  }
  let value = 0n;
  for (const g of groups) value = (value << 16n) | BigInt(g);
  if (embedded !== null) value = (value << 32n) | embedded;
  return value;
}

/** One address of either family; the family is told by the text (":" means IPv6). */
export function parseAddress(text: string): { family: AddressFamily; value: bigint } | null {
  if (text.includes(':')) {
    const value = parseIpv6(text);
    return value === null ? null : { family: 6, value };
  }
  const value = parseIpv4(text);
  return value === null ? null : { family: 4, value };
}

/** An address prefix "a/len": its addresses and its length. */
export interface AddressPrefix {
  readonly range: AddressRange;
  readonly length: number;
}

/** The length after the "/" of a prefix: decimal, 0 to 32 (IPv4) or 128 (IPv6); null otherwise. */
export function parsePrefixLength(text: string, family: AddressFamily): number | null {
  const length = /^\d{1,3}$/.test(text) ? Number(text) : NaN;
  return length <= ADDRESS_BITS[family] ? length : null;
}

/**
 * "a/len" with the host bits zero. Returns the prefix, or the reason it is invalid, worded to
 * follow the quoted text: `"2001:db8::/129" is not a valid IPv6 prefix ...`.
 */
export function parsePrefix(text: string): AddressPrefix | string {
  const slash = text.indexOf('/');
  const base = parseAddress(text.slice(0, slash < 0 ? text.length : slash));
  const familyName = text.includes(':') ? 'IPv6' : 'IPv4';
  if (base === null) return `is not a valid ${familyName} prefix: the address part is malformed`;
  const bits = ADDRESS_BITS[base.family];
  const length = slash < 0 ? null : parsePrefixLength(text.slice(slash + 1), base.family);
  if (length === null) return `is not a valid ${familyName} prefix: the length must be 0 to ${bits}`;
  const hostMask = (1n << BigInt(bits - length)) - 1n;
  if ((base.value & hostMask) !== 0n) {
    return `is not a valid ${familyName} prefix: host bits are set; use "${formatAddress(base.family, base.value & ~hostMask)}/${length}"`;
  }
  return { range: { family: base.family, lo: base.value, hi: base.value | hostMask }, length };
}

/**
 * "a", "a/len" (host bits must be zero) or "a-b" (a <= b, one family). Returns the range, or the
 * reason it is invalid, worded to follow the quoted text: `"2001:db8::/129" is not a valid IPv6 prefix ...`.
 */
export function parseAddressRange(text: string): AddressRange | string {
  if (text.includes('/')) {
    const prefix = parsePrefix(text);
    return typeof prefix === 'string' ? prefix : prefix.range;
  }
  const dash = text.indexOf('-');
  if (dash >= 0) {
    const lo = parseAddress(text.slice(0, dash).trim());
    const hi = parseAddress(text.slice(dash + 1).trim());
    if (lo === null || hi === null) return 'is not a valid address range: write "first-last" with two addresses';
    if (lo.family !== hi.family) return 'is not a valid address range: both ends must be the same family';
    if (lo.value > hi.value) return 'is not a valid address range: the first address is above the last';
    return { family: lo.family, lo: lo.value, hi: hi.value };
  }
  const single = parseAddress(text);
  if (single === null) return 'is not a valid IPv4 or IPv6 address, prefix ("a/len") or range ("a-b")';
  return { family: single.family, lo: single.value, hi: single.value };
}

/** The whole address space of a family. */
export function fullRange(family: AddressFamily): AddressRange {
  return { family, lo: 0n, hi: (1n << BigInt(ADDRESS_BITS[family])) - 1n };
}

/** Dotted quad, or the RFC 5952 §4 canonical IPv6 text (lower case, longest zero run as "::"). */
export function formatAddress(family: AddressFamily, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 0xffn)).join('.');
  }
  const groups: number[] = [];
  for (let s = 112n; s >= 0n; s -= 16n) groups.push(Number((value >> s) & 0xffffn));
  let bestStart = -1;
  let bestLen = 1; // RFC 5952 §4.2.2: a single zero group is not compressed
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

/** The value of an address held as 4 (IPv4) or 16 (IPv6) bytes in network order. */
export function addressOfBytes(bytes: Uint8Array): bigint {
  let value = 0n;
  for (const b of bytes) value = (value << 8n) | BigInt(b);
  return value;
}

/** "192.0.2.1" or "2001:db8::1" from 4 (IPv4) or 16 (IPv6) bytes in network order. */
export function formatAddressBytes(bytes: Uint8Array): string {
  return formatAddress(bytes.length === 4 ? 4 : 6, addressOfBytes(bytes));
}

/** Canonical text of a range: a single address, a prefix when it is one, else "a-b". */
export function formatAddressRange(range: AddressRange): string {
  const { family, lo, hi } = range;
  if (lo === hi) return formatAddress(family, lo);
  const span = hi - lo + 1n;
  if ((span & (span - 1n)) === 0n && (lo & (span - 1n)) === 0n) {
    const len = ADDRESS_BITS[family] - (span.toString(2).length - 1);
    return `${formatAddress(family, lo)}/${len}`;
  }
  return `${formatAddress(family, lo)}-${formatAddress(family, hi)}`;
}

/** Writes an address as u32 words, most significant first: IPv4 fills words[off], IPv6 words[off..off+3]. */
export function writeAddressWords(family: AddressFamily, value: bigint, words: Uint32Array, off: number): void {
  if (family === 4) {
    words[off] = Number(value);
    return;
  }
  for (let i = 0; i < 4; i++) words[off + i] = Number((value >> BigInt(96 - 32 * i)) & 0xffffffffn);
}

/** Reads back what writeAddressWords wrote (for status views and logs, not per packet). */
export function readAddressWords(family: AddressFamily, words: Uint32Array, off: number): bigint {
  if (family === 4) return BigInt(words[off]);
  let value = 0n;
  for (let i = 0; i < 4; i++) value = (value << 32n) | BigInt(words[off + i]);
  return value;
}
