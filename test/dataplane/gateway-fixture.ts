/** Two 6in4 gateways (RFC 4891 §5.1 shape) wired back to back in memory, for pipeline tests and benches. */
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import type { AeadBackend } from '../../src/crypto/aead.js';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { DropCounters } from '../../src/dataplane/drop-reason.js';
import { formatMacAddress } from '../../src/link/link-addresses.js';
import { compileLinkSettings } from '../../src/link/link-config.js';
import { LinkServices } from '../../src/link/link-services.js';
import { Pipeline } from '../../src/dataplane/pipeline.js';
import type { DataplaneSettings } from '../../src/dataplane/settings.js';
import { SecurityAssociationDatabase } from '../../src/ipsec/sad.js';
import { parseTrafficSelector, type TrafficSelector } from '../../src/policy/selectors.js';
import { SecurityPolicyDatabase, type SpdEntryConfig } from '../../src/policy/spd.js';
import { IssueList } from '../../src/policy/validation.js';
import { writeU32 } from '../../src/wire/bytes.js';
import { fillIcmpv6Checksum, writeIcmpv6Echo } from '../../src/wire/icmpv6.js';
import { Ipv6Header, writeIpv6Header } from '../../src/wire/ipv6.js';
import { writeEthernetHeader, NO_VLAN } from '../../src/wire/ethernet.js';
import { ipv6Bytes } from '../link/link-fixture.js';

export const TEP_A = 0xc0000201; // 192.0.2.1
export const TEP_B = 0xc0000202; // 192.0.2.2
export const MAC = { redA: 0x02000000000a, blackA: 0x0200000000ba, redB: 0x02000000000b, blackB: 0x0200000000bb, hostA: 0x020000000a10, hostB: 0x020000000b10 };

export const ADDR = {
  routerA: ipv6Bytes('2001:db8:a::1'), hostA: ipv6Bytes('2001:db8:a::10'),
  routerB: ipv6Bytes('2001:db8:b::1'), hostB: ipv6Bytes('2001:db8:b::10'),
};

function selector(spec: { local?: string; remote?: string }): TrafficSelector {
  const issues = new IssueList();
  const sel = parseTrafficSelector(spec, 'test', issues);
  issues.throwIfAny();
  return sel!;
}

/** The real link layer of a gateway, with its red host and its peer already resolved. */
function linkFor(redMac: number, blackMac: number, router: string, tep: number, drops: DropCounters, host: Uint8Array, hostMac: number, peerTep: number, peerMac: number): LinkServices {
  const settings = compileLinkSettings({
    redMac: formatMacAddress(redMac), blackMac: formatMacAddress(blackMac), routerAddress: ipv6Bytes(router), routerPrefixLength: 64,
    tepAddress: tep, tepPrefixLength: 24, tunnelInnerMtu: 1446,
    icmpErrors: { perSecond: 10_000, burst: 10_000 },
  });
  const link = new LinkServices(settings, drops);
  link.arp.neighbors.learn(peerTep, peerMac, 0);
  link.neighborDiscovery.neighbors.learn(host, 0, hostMac, 0);
  return link;
}

export interface Gateway {
  pipeline: Pipeline;
  sad: SecurityAssociationDatabase;
  spd: SecurityPolicyDatabase;
  link: LinkServices;
  /** Removes and reinstalls the inbound SA (same key): a fresh anti-replay window, for benches. */
  resetInbound(): void;
}

const KEY_AB = Uint8Array.from({ length: 20 }, (_, i) => i + 1);
const KEY_BA = Uint8Array.from({ length: 20 }, (_, i) => 0x80 + i);

function spdFor(local: string, remote: string, extra: SpdEntryConfig[] = []): SecurityPolicyDatabase {
  return SecurityPolicyDatabase.build([
    ...extra,
    { id: 1, name: 'sit', local: `${local}/32`, remote: `${remote}/32`, protocol: 41, action: 'protect', protect: { mode: 'transport', algorithms: ['aes-gcm-16-128'] } },
    { id: 2, name: 'v4-bypass', local: '198.51.100.0/24', remote: '198.51.100.0/24', action: 'bypass' },
  ]);
}

function u32(v: number): Uint8Array {
  const b = new Uint8Array(4);
  writeU32(b, 0, v);
  return b;
}

export interface GatewayPairOptions {
  backend?: AeadBackend;
  blackMtu?: number;
  /** B's red MTU (A's is 1500). */
  redMtuB?: number;
  batch?: number;
  /** SPD entries ahead of the fixture's own (sit PROTECT, IPv4 bypass). */
  policy?: SpdEntryConfig[];
  flowCacheEntries?: number;
  /** B's prefix for peer A (default 2001:db8:a::/64): what B routes into the tunnel. */
  bRoutesToA?: string;
}

export function gatewayPair(options: GatewayPairOptions = {}): { a: Gateway; b: Gateway } {
  const backend = options.backend ?? new NobleAeadBackend();
  const make = (self: number, peer: number, router: string, host: Uint8Array, peerPrefix: string, outSpi: number, inSpi: number, outKey: Uint8Array, inKey: Uint8Array, macs: [number, number, number, number]): Gateway => {
    const selfText = self === TEP_A ? '192.0.2.1' : '192.0.2.2';
    const peerText = peer === TEP_A ? '192.0.2.1' : '192.0.2.2';
    const spd = spdFor(selfText, peerText, options.policy);
    const sad = new SecurityAssociationDatabase({ backend, warn: () => {} });
    sad.installManual({ spi: outSpi, direction: 'outbound', mode: 'transport', source: u32(self), destination: u32(peer), algorithm: 'aes-gcm-16-128', keyAndSalt: outKey.slice(), policyId: 1 }, 0);
    const installInbound = () => sad.installManual({ spi: inSpi, direction: 'inbound', mode: 'transport', source: u32(peer), destination: u32(self), algorithm: 'aes-gcm-16-128', keyAndSalt: inKey.slice(), policyId: 1 }, 0);
    let inbound = installInbound();
    const settings: DataplaneSettings = {
      gateway: { tep: self },
      bridge: true,
      peers: [{ name: 'peer', tep: peer, prefixes: [selector({ local: '::/0', remote: peerPrefix })] }],
      blackMtu: options.blackMtu ?? 1500,
      redMtu: self === TEP_B ? options.redMtuB ?? 1500 : 1500,
      tunnelTtl: 64,
    };
    const drops = new DropCounters();
    const link = linkFor(macs[0], macs[1], router, self, drops, host, macs[3], peer, macs[2]);
    const pipeline = new Pipeline({ settings, spd, sad, link, drops, batchCapacity: options.batch ?? 64, flowCacheEntries: options.flowCacheEntries });
    const resetInbound = () => {
      sad.remove(inbound);
      inbound = installInbound();
    };
    return { pipeline, sad, spd, link, resetInbound };
  };
  return {
    a: make(TEP_A, TEP_B, '2001:db8:a::1', ADDR.hostA, '2001:db8:b::/64', 0x1001, 0x1002, KEY_AB, KEY_BA, [MAC.redA, MAC.blackA, MAC.blackB, MAC.hostA]),
    b: make(TEP_B, TEP_A, '2001:db8:b::1', ADDR.hostB, options.bRoutesToA ?? '2001:db8:a::/64', 0x1002, 0x1001, KEY_BA, KEY_AB, [MAC.redB, MAC.blackB, MAC.blackA, MAC.hostB]),
  };
}

/** Writes an Ethernet + IPv6 + ICMPv6 echo request frame at `off`; returns its length. */
export function writePing6(bytes: Uint8Array, off: number, src: Uint8Array, dst: Uint8Array, dstMac: number, srcMac: number, payload: number, hopLimit = 64, seq = 1): number {
  writeEthernetHeader(bytes, off, dstMac, srcMac, NO_VLAN, 0x86dd);
  const ip = off + 14;
  const h = new Ipv6Header();
  h.payloadLength = 8 + payload;
  h.nextHeader = 58;
  h.hopLimit = hopLimit;
  writeIpv6Header(bytes, ip, h, src, 0, dst, 0);
  writeIcmpv6Echo(bytes, ip + 40, 128, 0x4242, seq);
  for (let k = 0; k < payload; k++) bytes[ip + 48 + k] = (k * 7) & 0xff;
  fillIcmpv6Checksum(bytes, ip + 40, 8 + payload, ip + 8, ip + 24);
  return 14 + 40 + 8 + payload;
}

/** Puts a frame into slot i of `slots` at the headroom. */
export function loadSlot(slots: FrameSlots, i: number, frame: Uint8Array): void {
  const at = slots.base(i) + slots.headroom;
  slots.bytes.set(frame, at);
  slots.start[i] = at;
  slots.length[i] = frame.length;
}

/** Copies the frame of slot i out. */
export function frameOf(slots: FrameSlots, i: number): Uint8Array {
  return slots.bytes.slice(slots.start[i], slots.start[i] + slots.length[i]);
}
