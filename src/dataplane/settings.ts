/** What the data plane needs to know about the appliance, derived from a validated configuration. */
import type { TrafficSelector } from '../policy/selectors.js';

export interface PeerSettings {
  readonly name: string;
  /** Remote tunnel endpoint, IPv4 as u32: the outer source 6in4/IPIP must come from (RFC 4213 §3.6). */
  readonly tep: number;
  /**
   * Prefixes behind the peer as selectors with `remote` = the prefix and everything else ANY:
   * outbound they route IPv6 into the tunnel (remote = destination), inbound they are the
   * ingress filter for the inner source (remote = source).
   */
  readonly prefixes: readonly TrafficSelector[];
}

/** The 6in4 gateway role (RFC 4891 §5.1, App. A): IPv6 router on red, tunnel endpoint on black. */
export interface GatewaySettings {
  /** This appliance's tunnel endpoint on black, u32 (next hops are the link layer's). */
  readonly tep: number;
}

export interface DataplaneSettings {
  /** null: the transparent protector role (inline on a router's IPv4 link, RFC 3884 IIPtran). */
  readonly gateway: GatewaySettings | null;
  /** Bridge ARP and the IPv4 (and IPv6, in the transparent role) traffic the SPD lets bypass. */
  readonly bridge: boolean;
  readonly peers: readonly PeerSettings[];
  /** MTU of the black link: the starting path MTU toward every peer. */
  readonly blackMtu: number;
  /** MTU of the red link: what goes out there must fit (reassembled datagrams may not). */
  readonly redMtu: number;
  /** TTL of 6in4 outer headers (RFC 4213 §3.3). */
  readonly tunnelTtl: number;
}

/** The index of the peer with this TEP (TEPs and `tepBits` as int32 bit patterns, unboxed in V8), or -1. */
export function peerIndexOfTep(teps: Int32Array, tepBits: number): number {
  for (let p = 0; p < teps.length; p++) if (teps[p] === tepBits) return p;
  return -1;
}
