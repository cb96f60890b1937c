import { describe, expect, it } from 'vitest';
import type { AeadAlgorithm } from '../../src/crypto/aead.js';
import { DropReason } from '../../src/dataplane/drop-reason.js';
import { PolicyDecisions, RedDecision } from '../../src/dataplane/policy-decisions.js';
import type { PeerSettings } from '../../src/dataplane/settings.js';
import { fillSelectorsFromTuple, PacketSelectors, type SelectorTuple } from '../../src/policy/packet-selectors.js';
import { parseTrafficSelector } from '../../src/policy/selectors.js';
import { NO_MATCH, SecurityPolicyDatabase } from '../../src/policy/spd.js';
import { IssueList } from '../../src/policy/validation.js';

const TEP = 0xc0000201; // 192.0.2.1
const AES: AeadAlgorithm[] = ['aes-gcm-16-128'];

function peer(name: string, tep: number, prefix: string): PeerSettings {
  const issues = new IssueList();
  const sel = parseTrafficSelector({ local: '::/0', remote: prefix }, name, issues)!;
  return { name, tep, prefixes: [sel] };
}

// Peer b (192.0.2.2) is protected by 6in4 under ESP transport; peer c (192.0.2.3) gets clear
// 6in4 by policy; peer d (192.0.2.4) has no 6in4 entry at all; 2001:db8:e::/64 goes in tunnel mode.
const spd = SecurityPolicyDatabase.build([
  { id: 1, name: 'no-telnet', local: '::/0', remote: '::/0', protocol: 'tcp', remotePort: 23, action: 'discard' },
  { id: 2, name: 'to-e', local: '2001:db8:a::/64', remote: '2001:db8:e::/64', action: 'protect', protect: { mode: 'tunnel', tunnel: { local: '192.0.2.1', remote: '192.0.2.2' }, algorithms: AES } },
  { id: 3, name: 'sit-b', local: '192.0.2.1', remote: '192.0.2.2', protocol: 41, action: 'protect', protect: { mode: 'transport', algorithms: AES } },
  { id: 4, name: 'sit-c', local: '192.0.2.1', remote: '192.0.2.3', protocol: 41, action: 'bypass' },
]);
const peers = [peer('b', 0xc0000202, '2001:db8:b::/48'), peer('c', 0xc0000203, '2001:db8:c::/48'), peer('d', 0xc0000204, '2001:db8:d::/48')];
const endpoints = peers.map((p) => ({ local: TEP, remote: p.tep, ttl: 64 }));

function selectors(tuple: Partial<SelectorTuple> & { remote: string }): PacketSelectors {
  const p = new PacketSelectors();
  fillSelectorsFromTuple(p, { local: '2001:db8:a::10', protocol: 'udp', localPort: 1000, remotePort: 53, ...tuple });
  return p;
}

describe('PolicyDecisions: IPv6 from red (RFC 4891 §5.1, App. A)', () => {
  const cases: [string, Partial<SelectorTuple> & { remote: string }, number, number, number][] = [
    ['6in4 under ESP transport to the peer that owns the destination', { remote: '2001:db8:b::10' }, RedDecision.SealSixInFour, 0, 2],
    ['clear 6in4 where the SPD bypasses protocol 41 to that peer', { remote: '2001:db8:c::10' }, RedDecision.BypassSixInFour, 1, NO_MATCH],
    ['tunnel mode where an entry protects the IPv6 header itself', { remote: '2001:db8:e::10' }, RedDecision.SealTunnel, 1, NO_MATCH],
    ['DISCARD by an earlier entry, whatever the route', { remote: '2001:db8:b::10', protocol: 'tcp', remotePort: 23 }, RedDecision.Drop, DropReason.Discard, NO_MATCH],
    ['no route where no peer owns the destination', { remote: '2001:db8:f::1' }, RedDecision.Drop, DropReason.NoRoute, NO_MATCH],
    ['no policy where no entry covers the 6in4 packet', { remote: '2001:db8:d::1' }, RedDecision.Drop, DropReason.NoPolicy, NO_MATCH],
  ];
  it.each(cases)('%s', (_, tuple, kind, value, sixInFourPolicy) => {
    const decisions = new PolicyDecisions(spd, peers, endpoints, 16);
    for (let round = 0; round < 2; round++) {
      decisions.redIpv6(selectors(tuple));
      expect({ kind: decisions.kind, value: decisions.value, sixInFourPolicy: decisions.sixInFourPolicy }).toEqual({ kind, value, sixInFourPolicy });
    }
    // The second answer came from the cache.
    expect(decisions.flows.counters).toMatchObject({ hits: 1, misses: 1 });
  });
});

describe('PolicyDecisions: inbound checks', () => {
  it('an inner source is allowed only behind the peer whose prefix holds it (RFC 4213 §3.6)', () => {
    const decisions = new PolicyDecisions(spd, peers, endpoints);
    const fromB = new PacketSelectors();
    fillSelectorsFromTuple(fromB, { local: '2001:db8:a::10', remote: '2001:db8:b::10', protocol: 'udp' });
    expect([0, 1, 2, -1].map((p) => decisions.innerSourceAllowed(fromB, p))).toEqual([true, false, false, false]);
    expect([0, 1, 2, -1].map((p) => decisions.innerSourceAllowed(fromB, p))).toEqual([true, false, false, false]);
  });

  it('policyIndex is the SPD\'s first match, cached', () => {
    const decisions = new PolicyDecisions(spd, peers, endpoints);
    const telnet = selectors({ remote: '2001:db8:b::10', protocol: 'tcp', remotePort: 23 });
    expect(decisions.policyIndex(telnet)).toBe(spd.lookup(telnet));
    expect(decisions.policyIndex(telnet)).toBe(0);
    expect(decisions.policyIndex(selectors({ remote: '2001:db8:9::1' }))).toBe(NO_MATCH);
  });
});
