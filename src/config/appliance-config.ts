/**
 * A validated, immutable appliance configuration: interfaces, the optional 6in4 gateway role
 * (RFC 4891 §5.1, App. A), IPv4 bridging, peers, the SPD and PAD (RFC 4301 §4.4.1, §4.4.3) and
 * lab-only manual SAs. Addresses are in the forms the data plane compares (IPv4 as u32, IPv6 as
 * 16 bytes). Manual keys are held as SecretBytes, so toString, JSON and util.inspect never show
 * them; `manualSecurityAssociations` hands out fresh copies for the SAD, which wipes them.
 */

import { formatAddress, formatAddressBytes, type AddressPrefix } from '../policy/address-text.js';
import type { PeerAuthorizationDatabase } from '../policy/pad.js';
import { REDACTED, type SecretBytes } from '../policy/secret-bytes.js';
import { describeTrafficSelector } from '../policy/selectors.js';
import type { SecurityPolicyDatabase } from '../policy/spd.js';
import type { SecurityAssociationConfig } from '../ipsec/security-association.js';
import { formatIpv4 } from './address-fields.js';
import { formatSpi } from '../wire/esp.js';

export interface InterfaceSettings {
  /** Linux interface name. */
  readonly name: string;
  /** Link MTU; null means "read it from the NIC at start". */
  readonly mtu: number | null;
}

export interface RouterAdvertisementSettings {
  readonly enabled: boolean;
  /** MaxRtrAdvInterval (RFC 4861 §6.2.1). */
  readonly intervalSeconds: number;
}

/** The 6in4 gateway role (RFC 4891 §5.1, App. A); absent for the transparent protector (RFC 3884). */
export interface GatewaySettings {
  /** The appliance's IPv6 router address on red: 16 bytes (do not modify), and its on-link prefix length. */
  readonly redAddress: Uint8Array;
  readonly redPrefixLength: number;
  readonly routerAdvertisements: RouterAdvertisementSettings;
  /** The appliance's IPv4 tunnel endpoint on black as a u32, and its subnet's prefix length. */
  readonly tep: number;
  readonly tepPrefixLength: number;
  /** IPv4 next hop (u32) towards the peers' TEPs, or null when they are on-link. */
  readonly nextHop: number | null;
}

/** A peer's prefix: its addresses (host bits from lo to hi) and its length. */
export type PeerPrefix = AddressPrefix;

export interface PeerSettings {
  readonly name: string;
  /** The peer's IPv4 TEP as a u32: the required outer source of its 6in4/IPIP packets (RFC 4213 §3.6). */
  readonly tep: number;
  /** Destinations routed to this peer; inner sources it may use after decapsulation. */
  readonly prefixes: readonly PeerPrefix[];
}

/** A lab-only manually keyed SA (RFC 4891 §6 forbids manual keying in production). */
export interface ManualKey {
  /** Position in the file's `manualKeys` list. */
  readonly index: number;
  /** Name of the SPD entry the SA serves (its id is `sa.policyId`). */
  readonly policyName: string;
  /** Everything but the key; `source` and `destination` are 4 or 16 bytes (do not modify). */
  readonly sa: Readonly<Omit<SecurityAssociationConfig, 'keyAndSalt'>>;
  /** KEYMAT: key || 4-byte salt. */
  readonly keyAndSalt: SecretBytes;
}

export interface ApplianceConfigParts {
  name: string;
  interfaces: { red: InterfaceSettings; black: InterfaceSettings };
  gateway: GatewaySettings | null;
  bridgeIpv4: boolean;
  peers: readonly PeerSettings[];
  spd: SecurityPolicyDatabase;
  pad: PeerAuthorizationDatabase;
  manualKeys: readonly ManualKey[];
}

/** Thrown when the manual keys of a disposed configuration are asked for. */
export class DisposedConfigError extends Error {
  override readonly name = 'DisposedConfigError';
}

const ACTION_NAMES = ['discard', 'bypass', 'protect'] as const;

export class ApplianceConfig {
  readonly name: string;
  readonly interfaces: { readonly red: InterfaceSettings; readonly black: InterfaceSettings };
  readonly gateway: GatewaySettings | null;
  readonly bridgeIpv4: boolean;
  readonly peers: readonly PeerSettings[];
  readonly spd: SecurityPolicyDatabase;
  readonly pad: PeerAuthorizationDatabase;
  readonly manualKeys: readonly ManualKey[];

  /** Use parseConfigText or loadConfigFile: they validate the parts. */
  constructor(parts: ApplianceConfigParts) {
    this.name = parts.name;
    this.interfaces = Object.freeze({ red: parts.interfaces.red, black: parts.interfaces.black });
    this.gateway = parts.gateway;
    this.bridgeIpv4 = parts.bridgeIpv4;
    this.peers = Object.freeze(parts.peers.slice());
    this.spd = parts.spd;
    this.pad = parts.pad;
    this.manualKeys = Object.freeze(parts.manualKeys.slice());
    Object.freeze(this);
  }

  /** 'gateway' (6in4 gateway, RFC 4891) or 'transparent' (inline protector, RFC 3884). */
  get role(): 'gateway' | 'transparent' {
    return this.gateway === null ? 'transparent' : 'gateway';
  }

  /**
   * The manual SAs for SecurityAssociationDatabase.installManual, in file order. Each call returns
   * fresh copies of the keys and addresses; the SAD wipes the key buffers it is given.
   */
  manualSecurityAssociations(): SecurityAssociationConfig[] {
    if (this.manualKeys.some((k) => k.keyAndSalt.zeroized)) {
      throw new DisposedConfigError('this configuration was disposed and its manual keys wiped: load the configuration again');
    }
    return this.manualKeys.map((k) => ({
      ...k.sa,
      source: Uint8Array.from(k.sa.source),
      destination: Uint8Array.from(k.sa.destination),
      keyAndSalt: Uint8Array.from(k.keyAndSalt.reveal()),
    }));
  }

  /** Wipes the manual keys and the PAD's pre-shared keys; call when this configuration is retired. */
  dispose(): void {
    for (const k of this.manualKeys) k.keyAndSalt.zeroize();
    this.pad.dispose();
  }

  /** Operator view with addresses as text; keys and PSKs show as "[redacted]". */
  toJSON(): object {
    const g = this.gateway;
    return {
      name: this.name,
      role: this.role,
      interfaces: this.interfaces,
      gateway: g === null ? null : {
        redAddress: `${formatAddressBytes(g.redAddress)}/${g.redPrefixLength}`,
        routerAdvertisements: g.routerAdvertisements,
        tep: `${formatIpv4(g.tep)}/${g.tepPrefixLength}`,
        nextHop: g.nextHop === null ? null : formatIpv4(g.nextHop),
      },
      bridgeIpv4: this.bridgeIpv4,
      peers: this.peers.map((p) => ({
        name: p.name,
        tep: formatIpv4(p.tep),
        prefixes: p.prefixes.map((x) => `${formatAddress(x.range.family, x.range.lo)}/${x.length}`),
      })),
      spd: this.spd.entries.map((e) => ({
        id: e.id,
        name: e.name,
        action: ACTION_NAMES[e.action],
        selector: describeTrafficSelector(e.selector),
        mode: e.protect?.mode ?? null,
      })),
      pad: this.pad.toJSON(),
      manualKeys: this.manualKeys.map((k) => ({
        policy: k.policyName,
        direction: k.sa.direction,
        spi: formatSpi(k.sa.spi),
        algorithm: k.sa.algorithm,
        source: formatAddressBytes(k.sa.source),
        destination: formatAddressBytes(k.sa.destination),
        keyAndSalt: REDACTED,
      })),
    };
  }
}
