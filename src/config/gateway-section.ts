/**
 * The `gateway` section: the 6in4 gateway role (RFC 4891 §5.1, App. A). The appliance is the
 * IPv6 router of the red site and the IPv4 tunnel endpoint (TEP, RFC 4213 §3) on black.
 */

import { formatAddress } from '../policy/address-text.js';
import type { IssueList } from '../policy/validation.js';
import type { GatewaySettings, RouterAdvertisementSettings } from './appliance-config.js';
import { addressBytes, inSubnet, type InterfaceAddress, readHostAddress, readInterfaceAddress } from './address-fields.js';
import { readBoolean, readInteger, readSection } from './field-readers.js';
import { isIpv6LinkLocal } from '../wire/ipv6.js';

/** RFC 4861 §6.2.1: MaxRtrAdvInterval is 4 to 1800 seconds, default 600. */
export const MIN_RA_INTERVAL_SECONDS = 4;
export const MAX_RA_INTERVAL_SECONDS = 1800;
export const DEFAULT_RA_INTERVAL_SECONDS = 600;

const DEFAULT_ROUTER_ADVERTISEMENTS: RouterAdvertisementSettings = Object.freeze({ enabled: false, intervalSeconds: DEFAULT_RA_INTERVAL_SECONDS });
const GATEWAY_FIELDS = ['redAddress', 'routerAdvertisements', 'tep', 'nextHop'];

/**
 * Parses `gateway`. The settings come back whenever the addresses are valid, even if the router
 * advertisement settings are not, so the peers can still be checked against the TEP; the loader
 * rejects the file for any reported issue.
 */
export function parseGateway(value: unknown, issues: IssueList): GatewaySettings | null {
  const section = readSection(value, 'gateway', GATEWAY_FIELDS, 'an object { redAddress, tep, routerAdvertisements?, nextHop? }', issues);
  if (section === null) return null;
  let red = readInterfaceAddress(section.redAddress, 'gateway.redAddress', 6, issues);
  if (red !== null && isIpv6LinkLocal(addressBytes(6, red.value), 0)) {
    // RFC 4291 §2.4: the routed prefix needs a global or unique-local address; the router's link-local one comes from its MAC.
    issues.add('gateway.redAddress', 'is link-local: use a global or unique-local address of the red LAN\'s prefix (the link-local address is derived from the red MAC)');
    red = null;
  }
  const tep = readInterfaceAddress(section.tep, 'gateway.tep', 4, issues);
  const ra = parseRouterAdvertisements(section.routerAdvertisements, issues);
  const nextHop = section.nextHop === undefined ? null : readNextHop(section.nextHop, tep, issues);
  if (red === null || tep === null || nextHop === undefined) return null;
  return Object.freeze({
    redAddress: addressBytes(6, red.value),
    redPrefixLength: red.length,
    routerAdvertisements: ra,
    tep: Number(tep.value),
    tepPrefixLength: tep.length,
    nextHop,
  });
}

/** The next hop as a u32: on-link with the TEP and not the TEP itself; undefined when invalid. */
function readNextHop(value: unknown, tep: InterfaceAddress | null, issues: IssueList): number | undefined {
  const hop = readHostAddress(value, 'gateway.nextHop', 4, issues);
  if (hop === null) return undefined;
  if (tep === null) return Number(hop);
  const subnet = `${formatAddress(4, tep.value)}/${tep.length}`;
  if (hop === tep.value) {
    issues.add('gateway.nextHop', `is the gateway's own TEP ${subnet}: use the address of the IPv4 router on black`);
    return undefined;
  }
  if (!inSubnet(4, tep, hop)) {
    issues.add('gateway.nextHop', `${formatAddress(4, hop)} is not on-link with gateway.tep ${subnet}: use a router inside that subnet`);
    return undefined;
  }
  return Number(hop);
}

/** Router advertisements; invalid settings are reported and the defaults (off) returned. */
function parseRouterAdvertisements(value: unknown, issues: IssueList): RouterAdvertisementSettings {
  const path = 'gateway.routerAdvertisements';
  if (value === undefined) return DEFAULT_ROUTER_ADVERTISEMENTS;
  const section = readSection(value, path, ['enabled', 'intervalSeconds'], 'an object { enabled, intervalSeconds? }', issues);
  if (section === null) return DEFAULT_ROUTER_ADVERTISEMENTS;
  const enabled = readBoolean(section.enabled, `${path}.enabled`, false, issues);
  const interval = section.intervalSeconds === undefined
    ? DEFAULT_RA_INTERVAL_SECONDS
    : readInteger(section.intervalSeconds, `${path}.intervalSeconds`, MIN_RA_INTERVAL_SECONDS, MAX_RA_INTERVAL_SECONDS, 'an interval', 'RFC 4861 §6.2.1 MaxRtrAdvInterval', issues);
  return interval === null ? DEFAULT_ROUTER_ADVERTISEMENTS : Object.freeze({ enabled, intervalSeconds: interval });
}
