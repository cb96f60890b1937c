/*
 * The SPD tables of RFC 4891 §5.1 and Appendix A.2/A.3 as the examples ship them. Real packet
 * bytes go through the selector extractor and the example's SPD: a packet an RFC row is meant to
 * match gets that row's entry and action, and where rows overlap the earlier one decides
 * (RFC 4301 §4.4.1). The tables, from the RFC text (https://datatracker.ietf.org/doc/html/rfc4891):
 *
 *    §5.1 Router1's SPD:
 *                                  Next Layer
 *     Rule     Local     Remote     Protocol   Action
 *       1     IPV4-TEP1  IPV4-TEP2    ESP       BYPASS
 *       2     IPV4-TEP1  IPV4-TEP2    IKE       BYPASS
 *       3     IPv4-TEP1  IPV4-TEP2     41       PROTECT(ESP,transport)
 *    Router2's SPD: the same with IPV4-TEP1 and IPV4-TEP2 exchanged.
 *    In both SPD entries, "IKE" refers to UDP destination port 500 and possibly also port 4500 if
 *    NAT traversal is used.
 *
 *    A.2 Host1's SPD:
 *       1     IPV6-EP1  IPV6-EP2      ESP      BYPASS
 *       2     IPV6-EP1  IPV6-EP2      IKE      BYPASS
 *       3     IPv6-EP1  IPV6-EP2       41      PROTECT(ESP, tunnel{IPV4-TEP1,IPV4-TEP2})
 *    Host2's SPD: the same with EP1/EP2 exchanged and tunnel{IPV4-TEP2,IPV4-TEP1}.
 *
 *    A.3 Host's SPD:
 *       1     IPV6-EP1  IPV6-EP2      ESP      BYPASS
 *       2     IPV6-EP1  IPV6-EP2      IKE      BYPASS
 *       3     IPV6-EP1  IPV6-EP1      ANY      BYPASS
 *       4     IPV6-EP1    ANY         ANY      PROTECT(ESP, tunnel{IPV4-TEP1,IPV4-TEP2})
 *    Router's SPD:
 *       1     IPV6-EP2  IPV6-EP1      ESP      BYPASS
 *       2     IPV6-EP2  IPV6-EP1      IKE      BYPASS
 *       3       ANY     IPV6-EP1      ANY      PROTECT(ESP, tunnel{IPV4-TEP1,IPV4-TEP2})
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { addressBytes } from '../../src/config/address-fields.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { formatAddress, parseIpv4 } from '../../src/policy/address-text.js';
import { Direction, PacketSelectorExtractor, PacketSelectors } from '../../src/policy/packet-selectors.js';
import { describeTrafficSelector } from '../../src/policy/selectors.js';
import { InboundSelectorCheck, NO_MATCH, type SecurityPolicyDatabase } from '../../src/policy/spd.js';
import { IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';
import { writeIpv4Packet, writeIpv6Packet } from '../ipsec/esp-fixtures.js';
import { ipv6Bytes } from '../link/link-fixture.js';

/** The RFC's placeholders as the examples map them (each example's header comment says so too). */
const TEP1 = '192.0.2.1';
const TEP2 = '192.0.2.2';
const EP1 = '2001:db8:1::10';
/** A.2: Host2. */
const EP2 = '2001:db8:2::10';
/** A.3: IPV6-EP2, the router's IPv6 address. */
const ROUTER = '2001:db8:2::1';
const ELSEWHERE = '2001:db8:abcd::1';

const OUT = Direction.Outbound;
const IN = Direction.Inbound;
const ACTIONS = ['DISCARD', 'BYPASS', 'PROTECT'];

function spdOf(file: string): SecurityPolicyDatabase {
  const { config } = loadConfigFile(join(import.meta.dirname, '../../examples', file));
  config.dispose();
  return config.spd;
}

/** The SPD in the RFC's notation, one line per entry: its selectors, then its action. */
function table(spd: SecurityPolicyDatabase): string[] {
  return spd.entries.map((e) => {
    const p = e.protect;
    const tunnel = p?.tunnel ?? null;
    const action = p === null
      ? ACTIONS[e.action]
      : tunnel === null
        ? `PROTECT(ESP,${p.mode})`
        : `PROTECT(ESP,tunnel{${formatAddress(tunnel.family, tunnel.local)},${formatAddress(tunnel.family, tunnel.remote)}})`;
    return `${describeTrafficSelector(e.selector)}  ${action}`;
  });
}

/** An IPv4 or IPv6 packet (by the addresses) from `src` to `dst` carrying `protocol`. */
function packet(src: string, dst: string, protocol: number, payload: Uint8Array): Uint8Array {
  const [s, d] = [src, dst].map((text) => (text.includes(':') ? ipv6Bytes(text) : addressBytes(4, parseIpv4(text)!)));
  const bytes = new Uint8Array(40 + payload.length);
  const length = s.length === 4
    ? writeIpv4Packet(bytes, 0, { src: s, dst: d, protocol, payload })
    : writeIpv6Packet(bytes, 0, { src: s, dst: d, nextHeader: protocol, payload });
  return bytes.subarray(0, length);
}

/** UDP header; a TCP header (data offset 5) starts with the same two ports. */
const udp = (sport: number, dport: number) => Uint8Array.of(sport >> 8, sport & 0xff, dport >> 8, dport & 0xff, 0, 8, 0, 0);
function tcp(sport: number, dport: number): Uint8Array {
  const h = new Uint8Array(20);
  h.set(udp(sport, dport).subarray(0, 4));
  h[12] = 0x50;
  return h;
}
/** ESP header (SPI 0x3001, sequence 1) and ciphertext. */
const ESP = Uint8Array.of(0, 0, 0x30, 0x01, 0, 0, 0, 1, ...new Array<number>(24).fill(0xcc));
/** An IPv6 ICMPv6 Echo Request, the payload of protocol 41 (RFC 4213 §3.5; IPv6-in-IPv6 in A.2). */
const inner6 = (src: string, dst: string) => packet(src, dst, IpProtocol.Icmpv6, Uint8Array.of(128, 0, 0, 0, 0, 1, 0, 1));

const extractor = new PacketSelectorExtractor();

function selectorsOf(bytes: Uint8Array, direction: Direction): PacketSelectors {
  const p = new PacketSelectors();
  expect(extractor.extract(bytes, 0, bytes.length, direction, p)).toBe(WireStatus.Ok);
  return p;
}

function decide(spd: SecurityPolicyDatabase, bytes: Uint8Array, direction: Direction): string {
  const i = spd.lookup(selectorsOf(bytes, direction));
  return i === NO_MATCH ? 'DISCARD (no policy)' : `${ACTIONS[spd.actionOf(i)]} ${spd.entries[i].name}`;
}

/** True when the PROTECT entry at `index` matches the packet on its own (verifyInbound checks one entry). */
function protectEntryMatches(spd: SecurityPolicyDatabase, index: number, bytes: Uint8Array, direction: Direction): boolean {
  return spd.verifyInbound(index, selectorsOf(bytes, direction)) === InboundSelectorCheck.Ok;
}

describe('RFC 4891 §5.1: rfc4891-router1.yaml and rfc4891-router2.yaml', () => {
  const router1 = spdOf('rfc4891-router1.yaml');
  const router2 = spdOf('rfc4891-router2.yaml');

  it('each SPD is its table, row for row', () => {
    expect(table(router1)).toEqual([
      `${TEP1} -> ${TEP2} proto 50 ports any -> any  BYPASS`,
      `${TEP1} -> ${TEP2} proto 17 ports any -> 500  BYPASS`,
      `${TEP1} -> ${TEP2} proto 41 ports any -> any  PROTECT(ESP,transport)`,
    ]);
    expect(table(router2)).toEqual([
      `${TEP2} -> ${TEP1} proto 50 ports any -> any  BYPASS`,
      `${TEP2} -> ${TEP1} proto 17 ports any -> 500  BYPASS`,
      `${TEP2} -> ${TEP1} proto 41 ports any -> any  PROTECT(ESP,transport)`,
    ]);
  });

  it('rule 1: ESP between the tunnel endpoints is bypassed, in both directions', () => {
    const fromRouter1 = packet(TEP1, TEP2, IpProtocol.Esp, ESP);
    const fromRouter2 = packet(TEP2, TEP1, IpProtocol.Esp, ESP);
    expect(decide(router1, fromRouter1, OUT)).toBe('BYPASS esp');
    expect(decide(router2, fromRouter1, IN)).toBe('BYPASS esp');
    expect(decide(router2, fromRouter2, OUT)).toBe('BYPASS esp');
    expect(decide(router1, fromRouter2, IN)).toBe('BYPASS esp');
  });

  it('rule 2: IKE (UDP destination port 500) is bypassed, whatever the source port', () => {
    const ike = packet(TEP1, TEP2, IpProtocol.Udp, udp(500, 500));
    const reply = packet(TEP2, TEP1, IpProtocol.Udp, udp(500, 500));
    expect(decide(router1, ike, OUT)).toBe('BYPASS ike');
    expect(decide(router2, ike, IN)).toBe('BYPASS ike');
    expect(decide(router2, reply, OUT)).toBe('BYPASS ike');
    expect(decide(router1, reply, IN)).toBe('BYPASS ike');
    expect(decide(router1, packet(TEP1, TEP2, IpProtocol.Udp, udp(50000, 500)), OUT)).toBe('BYPASS ike');
    // Other UDP between the endpoints is not IKE.
    expect(decide(router1, packet(TEP1, TEP2, IpProtocol.Udp, udp(500, 53)), OUT)).toBe('DISCARD (no policy)');
  });

  it('rule 3: 6in4 between the endpoints is protected in transport mode, and the peer accepts it after decryption', () => {
    const sixIn4 = packet(TEP1, TEP2, IpProtocol.Ipv6, inner6('2001:db8:1::5', '2001:db8:2::2'));
    expect(decide(router1, sixIn4, OUT)).toBe('PROTECT ipv6-in-ipv4');
    expect(router1.entries[2].protect!.mode).toBe('transport');
    const atRouter2 = selectorsOf(sixIn4, IN);
    expect(router2.verifyInbound(router2.lookup(atRouter2), atRouter2)).toBe(InboundSelectorCheck.Ok);
    expect(decide(router2, packet(TEP2, TEP1, IpProtocol.Ipv6, inner6('2001:db8:2::2', '2001:db8:1::5')), OUT)).toBe('PROTECT ipv6-in-ipv4');
  });

  it('anything else between or beyond the endpoints matches no rule and is discarded (RFC 4301 §5)', () => {
    for (const [spd, own, peer] of [[router1, TEP1, TEP2], [router2, TEP2, TEP1]] as const) {
      expect(decide(spd, packet(own, peer, IpProtocol.Tcp, tcp(40000, 22)), OUT)).toBe('DISCARD (no policy)');
      expect(decide(spd, packet(own, '203.0.113.9', IpProtocol.Ipv6, inner6(EP1, EP2)), OUT)).toBe('DISCARD (no policy)');
      expect(decide(spd, inner6(EP1, EP2), OUT)).toBe('DISCARD (no policy)');
    }
  });
});

describe('RFC 4891 App. A.2: rfc4891-a2-host1.yaml and rfc4891-a2-host2.yaml', () => {
  const host1 = spdOf('rfc4891-a2-host1.yaml');
  const host2 = spdOf('rfc4891-a2-host2.yaml');

  it('each SPD is its table, row for row', () => {
    expect(table(host1)).toEqual([
      `${EP1} -> ${EP2} proto 50 ports any -> any  BYPASS`,
      `${EP1} -> ${EP2} proto 17 ports any -> 500  BYPASS`,
      `${EP1} -> ${EP2} proto 41 ports any -> any  PROTECT(ESP,tunnel{${TEP1},${TEP2}})`,
    ]);
    expect(table(host2)).toEqual([
      `${EP2} -> ${EP1} proto 50 ports any -> any  BYPASS`,
      `${EP2} -> ${EP1} proto 17 ports any -> 500  BYPASS`,
      `${EP2} -> ${EP1} proto 41 ports any -> any  PROTECT(ESP,tunnel{${TEP2},${TEP1}})`,
    ]);
  });

  it('rules 1 and 2: ESP and IKE between the two host addresses are bypassed, in both directions', () => {
    const esp = packet(EP1, EP2, IpProtocol.Esp, ESP);
    const ike = packet(EP1, EP2, IpProtocol.Udp, udp(500, 500));
    expect(decide(host1, esp, OUT)).toBe('BYPASS esp');
    expect(decide(host2, esp, IN)).toBe('BYPASS esp');
    expect(decide(host1, ike, OUT)).toBe('BYPASS ike');
    expect(decide(host2, ike, IN)).toBe('BYPASS ike');
  });

  it('rule 3: protocol 41 between the host addresses is tunnelled, and the peer accepts it after decryption', () => {
    const tunnelled = packet(EP1, EP2, IpProtocol.Ipv6, inner6('2001:db8:1::5', '2001:db8:2::5'));
    expect(decide(host1, tunnelled, OUT)).toBe('PROTECT host1-host2');
    const atHost2 = selectorsOf(tunnelled, IN);
    expect(host2.verifyInbound(host2.lookup(atHost2), atHost2)).toBe(InboundSelectorCheck.Ok);
    expect(decide(host2, packet(EP2, EP1, IpProtocol.Ipv6, inner6('2001:db8:2::5', '2001:db8:1::5')), OUT)).toBe('PROTECT host2-host1');
  });

  it('as printed, rule 3 selects protocol 41 only: other traffic between the hosts matches no rule', () => {
    expect(decide(host1, inner6(EP1, EP2), OUT)).toBe('DISCARD (no policy)');
    expect(decide(host1, packet(EP1, EP2, IpProtocol.Tcp, tcp(40000, 443)), OUT)).toBe('DISCARD (no policy)');
    expect(decide(host1, packet(EP1, '2001:db8:3::3', IpProtocol.Ipv6, inner6(EP1, EP2)), OUT)).toBe('DISCARD (no policy)');
  });
});

describe('RFC 4891 App. A.3: rfc4891-a3-host.yaml and rfc4891-a3-router.yaml', () => {
  const host = spdOf('rfc4891-a3-host.yaml');
  const router = spdOf('rfc4891-a3-router.yaml');

  it('each SPD is its table, row for row (the router is the local end of its tunnel)', () => {
    expect(table(host)).toEqual([
      `${EP1} -> ${ROUTER} proto 50 ports any -> any  BYPASS`,
      `${EP1} -> ${ROUTER} proto 17 ports any -> 500  BYPASS`,
      `${EP1} -> ${EP1} proto any ports any -> any  BYPASS`,
      `${EP1} -> ::/0 proto any ports any -> any  PROTECT(ESP,tunnel{${TEP1},${TEP2}})`,
    ]);
    expect(table(router)).toEqual([
      `${ROUTER} -> ${EP1} proto 50 ports any -> any  BYPASS`,
      `${ROUTER} -> ${EP1} proto 17 ports any -> 500  BYPASS`,
      `::/0 -> ${EP1} proto any ports any -> any  PROTECT(ESP,tunnel{${TEP2},${TEP1}})`,
    ]);
  });

  it("host rules 1 to 3 lie inside rule 4 and come first: ESP and IKE to the router, and the host's own traffic, are bypassed", () => {
    const cases = [
      [packet(EP1, ROUTER, IpProtocol.Esp, ESP), 'BYPASS esp'],
      [packet(EP1, ROUTER, IpProtocol.Udp, udp(500, 500)), 'BYPASS ike'],
      [packet(EP1, EP1, IpProtocol.Tcp, tcp(40000, 443)), 'BYPASS host-itself'],
    ] as const;
    for (const [bytes, decision] of cases) {
      expect(decide(host, bytes, OUT)).toBe(decision);
      expect(protectEntryMatches(host, 3, bytes, OUT)).toBe(true);
    }
  });

  it('host rule 4: everything else from the host, to any address, is tunnelled', () => {
    expect(decide(host, packet(EP1, ELSEWHERE, IpProtocol.Tcp, tcp(40000, 443)), OUT)).toBe('PROTECT host-to-any');
    expect(decide(host, packet(EP1, ROUTER, IpProtocol.Tcp, tcp(40000, 443)), OUT)).toBe('PROTECT host-to-any');
    expect(decide(host, packet(EP1, ROUTER, IpProtocol.Udp, udp(500, 53)), OUT)).toBe('PROTECT host-to-any');
    expect(decide(host, packet('2001:db8:1::11', ELSEWHERE, IpProtocol.Tcp, tcp(40000, 443)), OUT)).toBe('DISCARD (no policy)');
  });

  it('router rules 1 and 2 lie inside rule 3 and come first: ESP and IKE from the router to the host are bypassed', () => {
    for (const [bytes, decision] of [
      [packet(ROUTER, EP1, IpProtocol.Esp, ESP), 'BYPASS esp'],
      [packet(ROUTER, EP1, IpProtocol.Udp, udp(500, 500)), 'BYPASS ike'],
    ] as const) {
      expect(decide(router, bytes, OUT)).toBe(decision);
      expect(protectEntryMatches(router, 2, bytes, OUT)).toBe(true);
    }
  });

  it('router rule 3: anything addressed to the host is tunnelled, and the host accepts it after decryption', () => {
    const toHost = packet(ELSEWHERE, EP1, IpProtocol.Tcp, tcp(443, 40000));
    expect(decide(router, toHost, OUT)).toBe('PROTECT any-to-host');
    const atHost = selectorsOf(toHost, IN);
    expect(host.entries[host.lookup(atHost)].name).toBe('host-to-any');
    expect(host.verifyInbound(host.lookup(atHost), atHost)).toBe(InboundSelectorCheck.Ok);
    // What the router decrypts must come from the host's address: the selectors filter ingress (A.1).
    expect(protectEntryMatches(router, 2, packet(EP1, ELSEWHERE, IpProtocol.Tcp, tcp(40000, 443)), IN)).toBe(true);
    expect(protectEntryMatches(router, 2, packet('2001:db8:1::99', ELSEWHERE, IpProtocol.Tcp, tcp(40000, 443)), IN)).toBe(false);
  });
});
