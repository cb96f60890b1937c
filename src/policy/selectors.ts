/**
 * Traffic selectors (RFC 4301 §4.4.1.1): local/remote address ranges, next-layer protocol and
 * local/remote port ranges, parsed from configuration and compiled into a columnar table that
 * matches a packet's selectors without allocating.
 *
 * Port fields hold 0..65535, or PORT_OPAQUE when the packet does not show them (§4.4.1.1 OPAQUE:
 * non-initial fragments, and next-layer protocols without ports). A selector's port range is an
 * interval over 0..PORT_OPAQUE, so ANY = [0, OPAQUE] (ANY covers OPAQUE), OPAQUE = [OPAQUE, OPAQUE],
 * and a concrete range never matches an opaque packet. §4.4.1.1 carries the ICMP/ICMPv6 type and
 * code, and the Mobility Header type, in the 16-bit port selector: this code uses the local port
 * field, type in the high byte.
 */

import { IpProtocol } from '../wire/protocol.js';
import {
  type AddressFamily,
  type AddressRange,
  formatAddressRange,
  fullRange,
  parseAddressRange,
  writeAddressWords,
} from './address-text.js';
import type { PacketSelectors } from './packet-selectors.js';
import { type IssueList, quote } from './validation.js';

/** Port value of a packet whose port selector is not available (§4.4.1.1 OPAQUE). */
export const PORT_OPAQUE = 65536;
/** Protocol selector value meaning ANY. */
export const ANY_PROTOCOL = -1;

/** Ported protocols that src/wire/protocol.ts does not name yet (IANA protocol numbers). */

/** Next-layer protocols with two 16-bit ports (§4.4.1.1 "as do TCP, UDP, SCTP, and others"). */
const PORTED_PROTOCOLS = [IpProtocol.Tcp, IpProtocol.Udp, IpProtocol.Dccp, IpProtocol.Sctp, IpProtocol.UdpLite];
/** PORTED_PROTOCOLS as a table indexed by protocol number (asked once or twice per packet). */
const HAS_PORTS = new Uint8Array(256);
for (const protocol of PORTED_PROTOCOLS) HAS_PORTS[protocol] = 1;

export function protocolHasPorts(protocol: number): boolean {
  return (protocol & ~0xff) === 0 && HAS_PORTS[protocol] === 1;
}

const PROTOCOL_NAMES = Object.freeze({
  any: ANY_PROTOCOL,
  icmp: IpProtocol.Icmpv4,
  ipip: IpProtocol.Ipv4,
  tcp: IpProtocol.Tcp,
  udp: IpProtocol.Udp,
  ipv6: IpProtocol.Ipv6,
  esp: IpProtocol.Esp,
  icmpv6: IpProtocol.Icmpv6,
  sctp: IpProtocol.Sctp,
  mh: IpProtocol.Mobility,
});

export type ProtocolSpec = number | keyof typeof PROTOCOL_NAMES;
/** "any", "opaque", a port number, or "first-last". */
export type PortSpec = number | string;

export interface IcmpSpec {
  type: number | 'any';
  code?: number | 'any';
}

/** Configuration form of a selector set; every field defaults to ANY. */
export interface TrafficSelectorSpec {
  local?: string;
  remote?: string;
  protocol?: ProtocolSpec;
  localPort?: PortSpec;
  remotePort?: PortSpec;
  /** ICMP (protocol icmp) or ICMPv6 (protocol icmpv6) message type and code. */
  icmp?: IcmpSpec;
  /** Mobility Header message type (protocol mh). */
  mhType?: number | 'any';
}

export interface PortRange {
  readonly lo: number;
  readonly hi: number;
}

export const PORTS_ANY: PortRange = Object.freeze({ lo: 0, hi: PORT_OPAQUE });
export const PORTS_OPAQUE: PortRange = Object.freeze({ lo: PORT_OPAQUE, hi: PORT_OPAQUE });

/** A validated selector set. family 0 means both addresses are ANY of either family. */
export interface TrafficSelector {
  readonly family: 0 | AddressFamily;
  /** null exactly when family is 0. */
  readonly local: AddressRange | null;
  readonly remote: AddressRange | null;
  /** A protocol number, or ANY_PROTOCOL. */
  readonly protocol: number;
  readonly localPort: PortRange;
  readonly remotePort: PortRange;
}

/** The selector of a destination (outbound) or source (inbound) prefix: `remote` = the range, everything else ANY. */
export function remoteRangeSelector(range: AddressRange): TrafficSelector {
  return Object.freeze({ family: range.family, local: fullRange(range.family), remote: range, protocol: ANY_PROTOCOL, localPort: PORTS_ANY, remotePort: PORTS_ANY });
}


function isByte(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 255;
}

/** Parses a protocol selector ("any", a name, or 0..255); reports and returns null when invalid. */
export function parseProtocol(spec: ProtocolSpec | undefined, path: string, issues: IssueList): number | null {
  if (spec === undefined) return ANY_PROTOCOL;
  if (typeof spec === 'string' && Object.hasOwn(PROTOCOL_NAMES, spec)) return PROTOCOL_NAMES[spec as keyof typeof PROTOCOL_NAMES];
  if (isByte(spec)) return spec;
  issues.add(path, `${quote(spec)} is not a protocol: use "any", one of ${Object.keys(PROTOCOL_NAMES).filter((n) => n !== 'any').join(', ')}, or a number 0 to 255`);
  return null;
}

/** Parses a port selector; reports and returns null when invalid. */
export function parsePortRange(spec: PortSpec | undefined, path: string, issues: IssueList): PortRange | null {
  if (spec === undefined || spec === 'any') return PORTS_ANY;
  if (spec === 'opaque') return PORTS_OPAQUE;
  const bad = () => {
    issues.add(path, `${quote(spec)} is not a port selector: use "any", "opaque", a port 0 to 65535, or "first-last"`);
    return null;
  };
  if (typeof spec === 'number') {
    return Number.isInteger(spec) && spec >= 0 && spec <= 65535 ? { lo: spec, hi: spec } : bad();
  }
  if (typeof spec !== 'string') return bad();
  const m = /^(\d{1,5})\s*-\s*(\d{1,5})$/.exec(spec);
  if (m === null) return /^\d{1,5}$/.test(spec) && Number(spec) <= 65535 ? { lo: Number(spec), hi: Number(spec) } : bad();
  const lo = Number(m[1]);
  const hi = Number(m[2]);
  if (hi > 65535) return bad();
  if (lo > hi) {
    issues.add(path, `${quote(spec)} is not a port range: the first port is above the last`);
    return null;
  }
  return { lo, hi };
}

/** Local-port interval for an ICMP type/code selector (§4.4.1.1: type high byte, code low byte). */
function parseIcmp(spec: IcmpSpec, path: string, issues: IssueList): PortRange | null {
  const type = spec.type;
  const code = spec.code ?? 'any';
  if (type === 'any') {
    if (code !== 'any') issues.add(`${path}.code`, 'an ICMP code needs a specific type: set icmp.type too');
    return code === 'any' ? PORTS_ANY : null;
  }
  if (!isByte(type)) {
    issues.add(`${path}.type`, `${quote(type)} is not an ICMP type: use "any" or 0 to 255`);
    return null;
  }
  if (code === 'any') return { lo: type << 8, hi: (type << 8) | 0xff };
  if (!isByte(code)) {
    issues.add(`${path}.code`, `${quote(code)} is not an ICMP code: use "any" or 0 to 255`);
    return null;
  }
  return { lo: (type << 8) | code, hi: (type << 8) | code };
}

/** Parses an address selector ("any", an address, "a/len" or "a-b"); reports and returns null when invalid. */
export function parseAddressSelector(text: unknown, path: string, issues: IssueList): AddressRange | 'any' | null {
  if (text === 'any') return 'any';
  if (typeof text !== 'string') {
    issues.add(path, `${quote(text)} is not an address selector: use "any", an address, "a/len" or "a-b"`);
    return null;
  }
  const parsed = parseAddressRange(text.trim());
  if (typeof parsed === 'string') {
    issues.add(path, `${JSON.stringify(text)} ${parsed}`);
    return null;
  }
  return parsed;
}

/**
 * Validates a selector spec. Reports every problem under `path` (e.g. `spd[3]`) and returns null
 * if there was any.
 */
export function parseTrafficSelector(spec: TrafficSelectorSpec, path: string, issues: IssueList): TrafficSelector | null {
  const before = issues.count;
  const local = parseAddressSelector(spec.local === undefined ? 'any' : spec.local, `${path}.local`, issues);
  const remote = parseAddressSelector(spec.remote === undefined ? 'any' : spec.remote, `${path}.remote`, issues);
  const protocol = parseProtocol(spec.protocol, `${path}.protocol`, issues);
  let localPort = parsePortRange(spec.localPort, `${path}.localPort`, issues);
  const remotePort = parsePortRange(spec.remotePort, `${path}.remotePort`, issues);

  let family: 0 | AddressFamily = 0;
  if (local !== null && remote !== null && local !== 'any' && remote !== 'any' && local.family !== remote.family) {
    issues.add(`${path}.remote`, `is IPv${remote.family} but local is IPv${local.family}: both addresses must be the same family`);
  } else if (local !== null && local !== 'any') family = local.family;
  else if (remote !== null && remote !== 'any') family = remote.family;

  if (protocol !== null) {
    const portsGiven = (spec.localPort !== undefined && spec.localPort !== 'any') || (spec.remotePort !== undefined && spec.remotePort !== 'any');
    const concretePorts = [localPort, remotePort].some((r) => r !== null && r !== PORTS_ANY && r !== PORTS_OPAQUE);
    if (concretePorts && !protocolHasPorts(protocol)) {
      issues.add(`${path}.protocol`, 'port ranges need a protocol with ports: set protocol to tcp, udp, sctp, 33 (DCCP) or 136 (UDP-Lite)');
    }
    if (spec.icmp !== undefined) {
      if (protocol !== IpProtocol.Icmpv4 && protocol !== IpProtocol.Icmpv6) {
        issues.add(`${path}.icmp`, 'an ICMP type/code selector needs protocol "icmp" or "icmpv6"');
      } else if ((protocol === IpProtocol.Icmpv4 && family === 6) || (protocol === IpProtocol.Icmpv6 && family === 4)) {
        issues.add(`${path}.protocol`, `protocol ${protocol} does not fit IPv${family} addresses: use "icmp" with IPv4 and "icmpv6" with IPv6`);
      } else if (portsGiven) {
        issues.add(`${path}.icmp`, 'ICMP type/code is carried in the port selector: remove localPort/remotePort');
      } else {
        localPort = parseIcmp(spec.icmp, `${path}.icmp`, issues);
      }
    }
    if (spec.mhType !== undefined) {
      if (protocol !== IpProtocol.Mobility) issues.add(`${path}.mhType`, 'a Mobility Header type selector needs protocol "mh"');
      else if (family === 4) issues.add(`${path}.mhType`, 'the Mobility Header exists only in IPv6: use IPv6 addresses or "any"');
      else if (portsGiven) issues.add(`${path}.mhType`, 'the MH type is carried in the port selector: remove localPort/remotePort');
      else if (spec.mhType === 'any') localPort = PORTS_ANY;
      else if (isByte(spec.mhType)) localPort = { lo: spec.mhType << 8, hi: (spec.mhType << 8) | 0xff };
      else issues.add(`${path}.mhType`, `${quote(spec.mhType)} is not an MH type: use "any" or 0 to 255`);
    }
  }

  if (issues.count !== before || local === null || remote === null || protocol === null || localPort === null || remotePort === null) {
    return null;
  }
  return Object.freeze({
    family,
    local: family === 0 ? null : local === 'any' ? fullRange(family) : local,
    remote: family === 0 ? null : remote === 'any' ? fullRange(family) : remote,
    protocol,
    localPort,
    remotePort,
  });
}

/** "any", "opaque", "53" or "1000-2000". */
export function describePortRange(r: PortRange): string {
  if (r.lo === 0 && r.hi === PORT_OPAQUE) return 'any';
  if (r.lo === PORT_OPAQUE) return 'opaque';
  const hi = Math.min(r.hi, 65535);
  return r.lo === hi ? String(r.lo) : `${r.lo}-${hi}`;
}

/** "any" (null) or the range's canonical text. */
export function describeAddressSelector(range: AddressRange | null): string {
  return range === null ? 'any' : formatAddressRange(range);
}

/** "any" or the protocol number. */
export function describeProtocol(protocol: number): string {
  return protocol === ANY_PROTOCOL ? 'any' : String(protocol);
}

/** One-line description for logs and console output: "192.0.2.0/24 -> any proto 17 ports any -> 500". */
export function describeTrafficSelector(sel: TrafficSelector): string {
  return `${describeAddressSelector(sel.local)} -> ${describeAddressSelector(sel.remote)} proto ${describeProtocol(sel.protocol)} ports ${describePortRange(sel.localPort)} -> ${describePortRange(sel.remotePort)}`;
}

/** Words per row in SelectorTable.addr: local lo, local hi, remote lo, remote hi (4 words each). */
const ADDR_STRIDE = 16;

/**
 * Compiled selector sets, one row each, in typed arrays. `matches` and `firstMatch` compare a
 * packet's selectors without allocating.
 */
export class SelectorTable {
  readonly size: number;
  private readonly family: Uint8Array;
  private readonly addr: Uint32Array;
  private readonly protocol: Int16Array;
  /** Per row: local lo, local hi, remote lo, remote hi. */
  private readonly ports: Int32Array;

  constructor(selectors: readonly TrafficSelector[]) {
    const n = selectors.length;
    this.size = n;
    this.family = new Uint8Array(n);
    this.addr = new Uint32Array(n * ADDR_STRIDE);
    this.protocol = new Int16Array(n);
    this.ports = new Int32Array(n * 4);
    selectors.forEach((sel, row) => {
      this.family[row] = sel.family;
      if (sel.family !== 0 && sel.local !== null && sel.remote !== null) {
        const a = row * ADDR_STRIDE;
        writeAddressWords(sel.family, sel.local.lo, this.addr, a);
        writeAddressWords(sel.family, sel.local.hi, this.addr, a + 4);
        writeAddressWords(sel.family, sel.remote.lo, this.addr, a + 8);
        writeAddressWords(sel.family, sel.remote.hi, this.addr, a + 12);
      }
      this.protocol[row] = sel.protocol;
      this.ports[row * 4] = sel.localPort.lo;
      this.ports[row * 4 + 1] = sel.localPort.hi;
      this.ports[row * 4 + 2] = sel.remotePort.lo;
      this.ports[row * 4 + 3] = sel.remotePort.hi;
    });
  }

  /** True when the packet's selectors fall inside every selector of `row` (§4.4.1.1). */
  matches(row: number, p: PacketSelectors): boolean {
    if (p.family === 0) return false;
    const family = this.family[row];
    if (family !== 0) {
      if (family !== p.family) return false;
      const words = family === 4 ? 1 : 4;
      const a = row * ADDR_STRIDE;
      if (!within(p.local, this.addr, a, a + 4, words)) return false;
      if (!within(p.remote, this.addr, a + 8, a + 12, words)) return false;
    }
    const protocol = this.protocol[row];
    if (protocol !== ANY_PROTOCOL && protocol !== p.protocol) return false;
    const q = row * 4;
    const ports = this.ports;
    const lp = p.localPort;
    const rp = p.remotePort;
    return lp >= ports[q] && lp <= ports[q + 1] && rp >= ports[q + 2] && rp <= ports[q + 3];
  }

  /** Index of the first matching row, or -1. */
  firstMatch(p: PacketSelectors): number {
    for (let row = 0; row < this.size; row++) if (this.matches(row, p)) return row;
    return -1;
  }
}

/** lo <= value <= hi, comparing `words` u32 words most significant first. */
function within(value: Uint32Array, bounds: Uint32Array, loOff: number, hiOff: number, words: number): boolean {
  for (let i = 0; i < words; i++) {
    const v = value[i];
    const lo = bounds[loOff + i];
    if (v !== lo) {
      if (v < lo) return false;
      break;
    }
  }
  for (let i = 0; i < words; i++) {
    const v = value[i];
    const hi = bounds[hiOff + i];
    if (v !== hi) {
      if (v > hi) return false;
      break;
    }
  }
  return true;
}
