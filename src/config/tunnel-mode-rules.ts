/**
 * How tunnel-mode PROTECT entries fit the appliance's role. Tunnel mode carries the red site's
 * IPv6 inside ESP over IPv4 (RFC 4891 App. A), so only the gateway role can originate it: its SAs
 * start at the gateway's own TEP and end at a configured peer's TEP. The transparent protector
 * uses transport mode on the router's tunnel packets instead (RFC 3884 IIPtran).
 */

import { formatAddress } from '../policy/address-text.js';
import { formatIpv4 } from './address-fields.js';
import type { SecurityPolicyDatabase } from '../policy/spd.js';
import type { IssueList } from '../policy/validation.js';
import type { GatewaySettings, PeerSettings } from './appliance-config.js';

/**
 * `gatewayRole` is whether the file has a gateway block; `gateway` and `peers` are null when
 * their sections are invalid (those issues are already reported).
 */
export function checkTunnelModeEntries(
  spd: SecurityPolicyDatabase,
  gatewayRole: boolean,
  gateway: GatewaySettings | null,
  peers: readonly PeerSettings[] | null,
  issues: IssueList,
): void {
  for (const entry of spd.entries) {
    const tunnel = entry.protect?.mode === 'tunnel' ? entry.protect.tunnel : null;
    if (tunnel === null) continue;
    const path = `spd[${entry.index}].protect`;
    if (!gatewayRole) {
      issues.add(`${path}.mode`, 'tunnel mode needs the gateway role: add a gateway block (RFC 4891 App. A), or protect the router\'s tunnel packets in transport mode (RFC 3884)');
      continue;
    }
    if (entry.selector.family === 4) {
      // The inner packet of a tunnel is delivered to red as routed IPv6; IPv4 crosses the gateway as a bridge.
      issues.add(`spd[${entry.index}].local`, 'is IPv4, but tunnel mode carries the red site\'s IPv6 (RFC 4891 App. A) and the gateway bridges IPv4: bypass it, or protect it in transport mode');
    }
    if (gateway === null) continue;
    if (tunnel.family !== 4) {
      issues.add(`${path}.tunnel.local`, 'is IPv6, but the gateway\'s tunnel endpoint is IPv4: use gateway.tep and the peer\'s TEP as outer addresses');
      continue;
    }
    const ownTep = formatIpv4(gateway.tep);
    if (tunnel.local !== BigInt(gateway.tep)) {
      issues.add(`${path}.tunnel.local`, `${formatAddress(4, tunnel.local)} is not this appliance's TEP: use gateway.tep (${ownTep})`);
    }
    if (peers !== null && !peers.some((p) => BigInt(p.tep) === tunnel.remote)) {
      issues.add(`${path}.tunnel.remote`, `${formatAddress(4, tunnel.remote)} is not the TEP of any peer: add it under peers with the prefixes behind it`);
    }
  }
}
