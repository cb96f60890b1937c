/** The `interfaces` section: the red (protected site) and black (untrusted IPv4 network) NICs. */

import { type IssueList, quote } from '../policy/validation.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import type { InterfaceSettings } from './appliance-config.js';
import { readInteger, readSection } from './field-readers.js';

/** RFC 791 §3.1: every IPv4 module must forward a 68-octet datagram unfragmented. */
export const MIN_IPV4_MTU = 68;
export const MAX_MTU = 65535;

/** Linux dev_valid_name: 1 to 15 bytes (IFNAMSIZ 16), no "/", ":" or white space, not "." or "..". */
const INTERFACE_NAME = /^[^/:\s]{1,15}$/;

/**
 * Parses `interfaces`. In the gateway role red carries IPv6, so its MTU must be at least 1280
 * (RFC 8200 §5); black, and red of the transparent protector, carry IPv4.
 */
export function parseInterfaces(
  value: unknown,
  gatewayRole: boolean,
  issues: IssueList,
): { red: InterfaceSettings; black: InterfaceSettings } | null {
  const section = readSection(value, 'interfaces', ['red', 'black'], 'an object { red: { name, mtu? }, black: { name, mtu? } }', issues);
  if (section === null) return null;
  const red = parseInterface(section.red, 'interfaces.red', gatewayRole ? IPV6_MIN_MTU : MIN_IPV4_MTU, gatewayRole ? 'RFC 8200 §5: red carries IPv6 in the gateway role' : 'RFC 791 §3.1', issues);
  const black = parseInterface(section.black, 'interfaces.black', MIN_IPV4_MTU, 'RFC 791 §3.1', issues);
  const redName = (section.red as { name?: unknown } | undefined)?.name;
  const blackName = (section.black as { name?: unknown } | undefined)?.name;
  if (typeof redName === 'string' && redName === blackName) {
    issues.add('interfaces.black.name', `${quote(blackName)} is also the red interface: red and black must be different NICs`);
    return null;
  }
  return red === null || black === null ? null : { red, black };
}

function parseInterface(value: unknown, path: string, minMtu: number, why: string, issues: IssueList): InterfaceSettings | null {
  const section = readSection(value, path, ['name', 'mtu'], 'an object { name, mtu? }', issues);
  if (section === null) return null;
  const name = section.name;
  const nameOk = typeof name === 'string' && INTERFACE_NAME.test(name) && name !== '.' && name !== '..';
  if (!nameOk) issues.add(`${path}.name`, `${quote(name)} is not a network interface name: use 1 to 15 characters without "/", ":" or spaces`);
  const mtu = section.mtu === undefined ? null : readInteger(section.mtu, `${path}.mtu`, minMtu, MAX_MTU, 'an MTU', why, issues);
  if (!nameOk || (section.mtu !== undefined && mtu === null)) return null;
  return Object.freeze({ name: name as string, mtu });
}
