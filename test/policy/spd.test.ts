import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Direction,
  fillSelectorsFromTuple,
  PacketSelectorExtractor,
  PacketSelectors,
  type SelectorTuple,
} from '../../src/policy/packet-selectors.js';
import {
  InboundSelectorCheck,
  NO_MATCH,
  SecurityPolicyDatabase,
  SpdAction,
  type SpdEntryConfig,
} from '../../src/policy/spd.js';
import { PolicyValidationError } from '../../src/policy/validation.js';
import { WireStatus } from '../../src/wire/status.js';

const AES = ['aes-gcm-16-256' as const];

function sel(tuple: SelectorTuple): PacketSelectors {
  const p = new PacketSelectors();
  fillSelectorsFromTuple(p, tuple);
  return p;
}

function decide(spd: SecurityPolicyDatabase, tuple: SelectorTuple): string {
  const index = spd.lookup(sel(tuple));
  const action = ['DISCARD', 'BYPASS', 'PROTECT'][spd.actionOf(index)];
  return index === NO_MATCH ? `${action} (no policy)` : `${action} ${spd.entries[index].name}`;
}

function errorsOf(configs: unknown[]): string[] {
  try {
    SecurityPolicyDatabase.build(configs as SpdEntryConfig[]);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyValidationError);
    expect((e as Error).name).toBe('PolicyValidationError');
    return (e as PolicyValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

function hex(text: string): Uint8Array {
  return Uint8Array.from(Buffer.from(text, 'hex'));
}

describe('ordered lookup, first match wins (RFC 4301 §4.4.1)', () => {
  const web: SpdEntryConfig = { id: 10, name: 'web-in-clear', local: '192.0.2.0/24', remote: 'any', protocol: 'tcp', remotePort: 443, action: 'bypass' };
  const site: SpdEntryConfig = {
    id: 20,
    name: 'site-to-site',
    local: '192.0.2.0/24',
    remote: '198.51.100.0/24',
    action: 'protect',
    protect: { mode: 'tunnel', tunnel: { local: '203.0.113.1', remote: '203.0.113.2' }, algorithms: AES },
  };
  const https: SelectorTuple = { local: '192.0.2.5', remote: '198.51.100.9', protocol: 'tcp', localPort: 40000, remotePort: 443 };
  const ssh: SelectorTuple = { local: '192.0.2.5', remote: '198.51.100.9', protocol: 'tcp', localPort: 40000, remotePort: 22 };

  it('the earlier of two overlapping entries decides, and reordering changes the decision', () => {
    const a = SecurityPolicyDatabase.build([web, site]);
    expect(decide(a, https)).toBe('BYPASS web-in-clear');
    expect(decide(a, ssh)).toBe('PROTECT site-to-site');
    const b = SecurityPolicyDatabase.build([site, web]);
    expect(decide(b, https)).toBe('PROTECT site-to-site');
  });

  it('missing policy means DISCARD; an empty SPD discards everything (RFC 4301 §5)', () => {
    const spd = SecurityPolicyDatabase.build([site]);
    expect(decide(spd, { local: '192.0.2.5', remote: '203.0.113.77', protocol: 'udp', localPort: 1, remotePort: 2 })).toBe('DISCARD (no policy)');
    expect(decide(SecurityPolicyDatabase.build([]), https)).toBe('DISCARD (no policy)');
    expect(spd.actionOf(99)).toBe(SpdAction.Discard);
  });

  it('the same entries serve both directions: inbound local is the destination', () => {
    const spd = SecurityPolicyDatabase.build([site]);
    const extractor = new PacketSelectorExtractor();
    const p = new PacketSelectors();
    // 192.0.2.10 -> 198.51.100.20 TCP 40000 -> 443, leaving red (outbound)...
    const fromRed = hex('450000280001000040068e7dc000020ac63364149c4001bb00000000000000005002200005950000');
    expect(extractor.extract(fromRed, 0, fromRed.length, Direction.Outbound, p)).toBe(WireStatus.Ok);
    expect(spd.entries[spd.lookup(p)]?.name).toBe('site-to-site');
    // ...and the same bytes read as arriving from black do not match (local would be 198.51.100.20).
    expect(extractor.extract(fromRed, 0, fromRed.length, Direction.Inbound, p)).toBe(WireStatus.Ok);
    expect(spd.lookup(p)).toBe(NO_MATCH);
  });

  it('entries are frozen and the SPD does not follow later edits of the configuration', () => {
    const config = [{ ...web }];
    const spd = SecurityPolicyDatabase.build(config);
    config[0].remotePort = 22;
    expect(decide(spd, https)).toBe('BYPASS web-in-clear');
    expect(Object.isFrozen(spd.entries)).toBe(true);
    expect(Object.isFrozen(spd.entries[0])).toBe(true);
    expect(spd.indexOfId(10)).toBe(0);
    expect(spd.indexOfId(11)).toBe(NO_MATCH);
  });
});

describe('fragments, ICMP and MH through the SPD', () => {
  const spd = SecurityPolicyDatabase.build([
    { id: 1, name: 'dns', protocol: 'udp', remotePort: 53, action: 'bypass' },
    { id: 2, name: 'udp-fragments', protocol: 'udp', localPort: 'opaque', remotePort: 'opaque', action: 'bypass' },
    { id: 3, name: 'unreachable', protocol: 'icmp', icmp: { type: 3 }, action: 'bypass' },
    { id: 4, name: 'echo6', protocol: 'icmpv6', icmp: { type: 128, code: 0 }, action: 'bypass' },
    { id: 5, name: 'binding-update', protocol: 'mh', mhType: 5, action: 'bypass' },
  ]);
  const extractor = new PacketSelectorExtractor();
  const p = new PacketSelectors();
  const classify = (hexText: string) => {
    const bytes = hex(hexText);
    expect(extractor.extract(bytes, 0, bytes.length, Direction.Outbound, p)).toBe(WireStatus.Ok);
    const i = spd.lookup(p);
    return i === NO_MATCH ? 'DISCARD' : spd.entries[i].name;
  };

  it('a first fragment shows its ports, a non-initial fragment only matches OPAQUE', () => {
    // scapy: fragment(IP(src="192.0.2.10", dst="198.51.100.20")/UDP(sport=1234, dport=4242)/(b"y"*100), 48)
    expect(classify('450000440005200040116e52c000020ac633641404d21092006c43a679797979797979797979797979797979797979797979797979797979797979797979797979797979')).toBe('DISCARD');
    expect(classify('450000440005200640116e4cc000020ac6336414797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979797979')).toBe('udp-fragments');
  });

  it('ICMP type/code and MH type select entries', () => {
    // scapy: IP(src="192.0.2.10", dst="198.51.100.20")/ICMP(type=3, code=4)/(b"z"*28)
    expect(classify('450000380001000040018e72c000020ac633641403044a49000000007a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a7a')).toBe('unreachable');
    // scapy: IPv6(src="2001:db8:1::5", dst="2001:db8:2::2")/ICMPv6EchoRequest(id=1, seq=1)
    expect(classify('6000000000083a4020010db800010000000000000000000520010db80002000000000000000000028000243f00010001')).toBe('echo6');
    // RFC 3776 §3.1 Binding Update before ESP (see packet-selectors.test.ts for the scapy command).
    expect(
      classify(
        '6000000000383c4020010db800ff0000000000000000000120010db8000100000000000000000001870201020000c91020010db80001000000000000000001003b030500cfab0007600000640100031020010db800ff00000000000000000001',
      ),
    ).toBe('binding-update');
  });
});

describe('post-decryption selector check (RFC 4301 §5.2 step 4, RFC 3884)', () => {
  const spd = SecurityPolicyDatabase.build([
    { id: 1, name: 'ike', protocol: 'udp', localPort: 500, remotePort: 500, action: 'bypass' },
    {
      id: 2,
      name: 'ipip-transport',
      local: '192.0.2.1',
      remote: '198.51.100.2',
      protocol: 'ipip',
      action: 'protect',
      protect: { mode: 'transport', algorithms: AES },
    },
    {
      id: 3,
      name: 'nets',
      local: '2001:db8:1::/48',
      remote: '2001:db8:2::/48',
      action: 'protect',
      protect: { mode: 'tunnel', tunnel: { local: '192.0.2.1', remote: '198.51.100.2' }, algorithms: AES },
    },
  ]);

  it('accepts a decrypted packet inside the entry the SA came from', () => {
    const inner = sel({ local: '2001:db8:1::7', remote: '2001:db8:2::9', protocol: 'tcp', localPort: 22, remotePort: 50000 });
    expect(spd.verifyInbound(2, inner)).toBe(InboundSelectorCheck.Ok);
    const restored = sel({ local: '192.0.2.1', remote: '198.51.100.2', protocol: 'ipip' });
    expect(spd.verifyInbound(1, restored)).toBe(InboundSelectorCheck.Ok);
  });

  it('detects a decrypted packet that claims addresses outside its SA', () => {
    // The peer is authorized for 2001:db8:2::/48 only; a spoofed inner source is refused
    // even though it was sent under a valid SA.
    const spoofed = sel({ local: '2001:db8:1::7', remote: '2001:db8:66::1', protocol: 'tcp', localPort: 22, remotePort: 50000 });
    expect(spd.verifyInbound(2, spoofed)).toBe(InboundSelectorCheck.Mismatch);
    // RFC 3884: an IPIP transport SA carries protocol 4 between the tunnel endpoints only.
    const wrongProtocol = sel({ local: '192.0.2.1', remote: '198.51.100.2', protocol: 'udp', localPort: 9, remotePort: 9 });
    expect(spd.verifyInbound(1, wrongProtocol)).toBe(InboundSelectorCheck.Mismatch);
  });

  it('refuses indexes that are not PROTECT entries (fail closed)', () => {
    const ike = sel({ local: '192.0.2.1', remote: '198.51.100.2', protocol: 'udp', localPort: 500, remotePort: 500 });
    expect(spd.verifyInbound(0, ike)).toBe(InboundSelectorCheck.NotProtected);
    expect(spd.verifyInbound(NO_MATCH, ike)).toBe(InboundSelectorCheck.NotProtected);
    expect(spd.verifyInbound(7, ike)).toBe(InboundSelectorCheck.NotProtected);
  });
});

describe('validation names the entry and field', () => {
  it('reports the example of the brief verbatim', () => {
    expect(errorsOf([{ id: 1, name: 'a', action: 'bypass' }, { id: 2, name: 'b', action: 'bypass' }, { id: 3, name: 'c', action: 'bypass' }, { id: 4, name: 'd', remote: '2001:db8::/129', action: 'discard' }])).toEqual([
      'spd[3].remote: "2001:db8::/129" is not a valid IPv6 prefix: the length must be 0 to 128',
    ]);
  });

  it('collects every problem of a configuration at once', () => {
    const errors = errorsOf([
      { id: 1, name: 'dup', action: 'bypass' },
      { id: 1, name: 'dup', action: 'drop' },
      { id: -4, name: 'has space', remtoe: 'any', action: 'discard' },
      { id: 5, name: 'p', action: 'protect' },
      { id: 6, name: 'q', action: 'bypass', protect: { mode: 'transport', algorithms: AES } },
    ]);
    expect(errors).toEqual([
      'spd[1].id: 1 is already used by spd[0]: ids must be unique',
      'spd[1].name: "dup" is already used by spd[0]: names must be unique',
      'spd[1].action: "drop" is not an action: use "bypass", "discard" or "protect"',
      expect.stringMatching(/^spd\[2\]\.remtoe: unknown field: use one of id, name, action, /),
      'spd[2].id: -4 is not an id: use an integer 0 to 4294967295',
      expect.stringMatching(/^spd\[2\]\.name: "has space" is not a name/),
      'spd[3].protect: is required when action is "protect": give mode and algorithms',
      'spd[4].protect: is only allowed when action is "protect" (this entry is "bypass"): remove it',
    ]);
  });

  it('checks PROTECT parameters', () => {
    const protect = (p: object) => errorsOf([{ id: 1, name: 'x', action: 'protect', protect: p }]);
    expect(protect({ mode: 'tunnel', algorithms: AES })).toEqual(['spd[0].protect.tunnel: is required in tunnel mode: give { local, remote } outer addresses']);
    expect(protect({ mode: 'transport', tunnel: { local: '192.0.2.1', remote: '192.0.2.2' }, algorithms: AES })[0]).toMatch(/^spd\[0\]\.protect\.tunnel: is only allowed in tunnel mode/);
    expect(protect({ mode: 'tunnel', tunnel: { local: '192.0.2.0/24', remote: '2001:db8::1' }, algorithms: AES })[0]).toMatch(
      /^spd\[0\]\.protect\.tunnel\.local: "192\.0\.2\.0\/24" is not a single IPv4 or IPv6 address/,
    );
    expect(protect({ mode: 'tunnel', tunnel: { local: '192.0.2.1', remote: '2001:db8::1' }, algorithms: AES })).toEqual([
      'spd[0].protect.tunnel.remote: is IPv6 but tunnel.local is IPv4: both outer addresses must be the same family',
    ]);
    expect(protect({ mode: 'transport', algorithms: [] })[0]).toMatch(/^spd\[0\]\.protect\.algorithms: must list at least one of aes-gcm-16-128/);
    expect(protect({ mode: 'transport', algorithms: ['aes-gcm-16-256', 'des-cbc', 'aes-gcm-16-256'] })).toEqual([
      'spd[0].protect.algorithms[1]: "des-cbc" is not supported: use one of aes-gcm-16-128, aes-gcm-16-256, chacha20-poly1305',
      'spd[0].protect.algorithms[2]: "aes-gcm-16-256" is listed twice: list each algorithm once',
    ]);
    expect(protect({ mode: 'transport', algorithms: AES, replayWindow: 31 })).toEqual([
      'spd[0].protect.replayWindow: 31 is not a window: use a whole number of packets from 32 to 4096 (RFC 4303 §3.4.3)',
    ]);
    expect(protect({ mode: 'transport', algorithms: AES, lifetime: { hardSeconds: 600, softSeconds: 600 } })).toEqual([
      'spd[0].protect.lifetime.softSeconds: 600 must be below the hard limit of 600 seconds so the SA is rekeyed before it dies (RFC 4301 §4.4.2.1)',
    ]);
    expect(protect({ mode: 'transport', algorithms: AES, udpEncapsulation: { remotePort: 0 } })[0]).toMatch(/^spd\[0\]\.protect\.udpEncapsulation\.remotePort: 0 is not a UDP port/);
    expect(protect({ mode: 'bridge', algorithms: AES })[0]).toMatch(/^spd\[0\]\.protect\.mode: "bridge" is not a mode/);
  });

  it('takes the SA layer\'s edges for lifetimes (RFC 4301 §4.4.2.1) and replay windows (RFC 4303 §3.4.3)', () => {
    const protect = (p: object) => errorsOf([{ id: 1, name: 'x', action: 'protect', protect: { mode: 'transport', algorithms: AES, ...p } }]);
    for (const replayWindow of [32, 100, 4096]) expect(protect({ replayWindow })).toEqual([]);
    expect(protect({ replayWindow: 4097 })).toEqual([
      'spd[0].protect.replayWindow: 4097 is not a window: use a whole number of packets from 32 to 4096 (RFC 4303 §3.4.3)',
    ]);
    expect(protect({ lifetime: { softSeconds: 599, hardSeconds: 600, softPackets: 9, hardPackets: 10 } })).toEqual([]);
    expect(protect({ lifetime: { softBytes: 5000, hardBytes: 0 } })).toEqual([]); // no hard limit to come before
    expect(protect({ lifetime: { softPackets: 10, hardPackets: 10, hardBytes: -1, softSeconds: 'soon' } })).toEqual([
      'spd[0].protect.lifetime.hardBytes: -1 is not a count: use a whole number, 0 for no limit',
      'spd[0].protect.lifetime.softPackets: 10 must be below the hard limit of 10 packets so the SA is rekeyed before it dies (RFC 4301 §4.4.2.1)',
      'spd[0].protect.lifetime.softSeconds: "soon" is not a count: use a whole number, 0 for no limit',
    ]);
    // An invalid hard lifetime gives no default soft one to complain about.
    expect(protect({ lifetime: { hardSeconds: -5 } })).toEqual(['spd[0].protect.lifetime.hardSeconds: -5 is not a count: use a whole number, 0 for no limit']);
  });

  it('fills PROTECT defaults: ESN on, window 1024 (RFC 4303 §3.4.3 allows more than 64), NAT-T port 4500 (RFC 3948)', () => {
    const spd = SecurityPolicyDatabase.build([
      { id: 1, name: 'x', action: 'protect', protect: { mode: 'transport', algorithms: ['chacha20-poly1305', 'aes-gcm-16-128'], udpEncapsulation: true }, pfp: { remoteAddress: true } },
    ]);
    const p = spd.entries[0].protect;
    expect(p).toMatchObject({ esn: true, replayWindow: 1024, udpEncapsulation: { localPort: 4500, remotePort: 4500 }, algorithms: ['chacha20-poly1305', 'aes-gcm-16-128'] });
    expect(p?.lifetime).toEqual({ soft: { seconds: 3240, bytes: 0, packets: 0 }, hard: { seconds: 3600, bytes: 0, packets: 0 } });
    expect(spd.entries[0].pfp).toEqual({ localAddress: false, remoteAddress: true, protocol: false, localPort: false, remotePort: false });
  });

  it('renders an operator view as JSON', () => {
    const spd = SecurityPolicyDatabase.build([
      { id: 7, name: 'nets', local: '2001:db8:1::/48', remote: '2001:db8:2::/48', protocol: 'tcp', remotePort: 22, action: 'protect', protect: { mode: 'tunnel', tunnel: { local: '192.0.2.1', remote: '198.51.100.2' }, algorithms: AES } },
      { id: 8, name: 'rest', action: 'discard' },
    ]);
    const view = JSON.parse(JSON.stringify(spd));
    expect(view[0]).toMatchObject({ id: 7, name: 'nets', selector: '2001:db8:1::/48 -> 2001:db8:2::/48 proto 6 ports any -> 22', action: 'protect', protect: { mode: 'tunnel', tunnel: { local: '192.0.2.1', remote: '198.51.100.2' } } });
    expect(view[1]).toMatchObject({ id: 8, selector: 'any -> any proto any ports any -> any', action: 'discard' });
  });
});

describe('shadowing analysis', () => {
  const base = { action: 'bypass' as const };
  it('reports an entry covered by one earlier entry', () => {
    const spd = SecurityPolicyDatabase.build([
      { id: 1, name: 'all-udp', protocol: 'udp', ...base },
      { id: 2, name: 'dns', protocol: 'udp', remotePort: 53, ...base },
      { id: 3, name: 'tcp', protocol: 'tcp', ...base },
    ]);
    expect(spd.findShadowedEntries()).toEqual({ shadowed: [{ index: 1, id: 2, name: 'dns', coveredBy: [1], kind: 'redundant' }], undecided: [] });
  });

  it('reports an entry covered only by the union of earlier entries, and flags a conflicting action', () => {
    const spd = SecurityPolicyDatabase.build([
      { id: 1, name: 'low', local: '192.0.2.0/25', ...base },
      { id: 2, name: 'high', local: '192.0.2.128/25', action: 'discard' },
      { id: 3, name: 'site', local: '192.0.2.0/24', remote: '198.51.100.0/24', action: 'protect', protect: { mode: 'transport', algorithms: AES } },
    ]);
    expect(spd.findShadowedEntries().shadowed).toEqual([{ index: 2, id: 3, name: 'site', coveredBy: [1, 2], kind: 'conflicting' }]);
  });

  it('does not report partial overlaps, or an any-family entry covered for IPv4 only', () => {
    const spd = SecurityPolicyDatabase.build([
      { id: 1, name: 'v4', local: '0.0.0.0/0', ...base },
      { id: 2, name: 'some', local: '192.0.2.0/24', remote: '198.51.100.0/25', protocol: 'udp', ...base },
      { id: 3, name: 'more', local: '192.0.2.0/24', remote: '198.51.100.0/24', protocol: 'udp', action: 'discard' },
      { id: 4, name: 'everything', action: 'discard' },
    ]);
    expect(spd.findShadowedEntries().shadowed.map((f) => f.name)).toEqual(['some', 'more']);
  });

  it('is sound: a shadowed entry is never the first match of any packet (property)', () => {
    const addr = fc.constantFrom('any', '192.0.2.0/24', '192.0.2.0/25', '192.0.2.128/25', '192.0.2.64-192.0.2.191', '192.0.2.7');
    const port = fc.constantFrom<string | number>('any', 'opaque', 53, '0-1023', '1024-65535');
    const entry = fc.record({ local: addr, remote: addr, protocol: fc.constantFrom<'udp' | 'any'>('udp', 'any'), remotePort: port });
    const host = fc.constantFrom('192.0.2.0', '192.0.2.7', '192.0.2.64', '192.0.2.127', '192.0.2.128', '192.0.2.191', '192.0.2.255', '198.51.100.1');
    const packet = fc.record({ local: host, remote: host, protocol: fc.constantFrom<'udp' | 'esp'>('udp', 'esp'), localPort: fc.constantFrom<number | 'opaque'>(53, 'opaque'), remotePort: fc.constantFrom<number | 'opaque'>(0, 53, 1023, 1024, 65535, 'opaque') });
    fc.assert(
      fc.property(fc.array(entry, { minLength: 2, maxLength: 6 }), fc.array(packet, { minLength: 1, maxLength: 20 }), (entries, packets) => {
        const configs: SpdEntryConfig[] = entries.map((e, i) => ({
          id: i,
          name: `e${i}`,
          action: 'bypass',
          local: e.local,
          remote: e.remote,
          protocol: e.protocol,
          ...(e.protocol === 'udp' ? { remotePort: e.remotePort } : {}),
        }));
        const spd = SecurityPolicyDatabase.build(configs);
        const shadowed = new Set(spd.findShadowedEntries().shadowed.map((f) => f.index));
        for (const t of packets) {
          const tuple = t.protocol === 'esp' ? { local: t.local, remote: t.remote, protocol: 'esp' as const } : t;
          expect(shadowed.has(spd.lookup(sel(tuple)))).toBe(false);
        }
      }),
      { numRuns: 300 },
    );
  });
});
