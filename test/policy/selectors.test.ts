import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseAddressRange, readAddressWords, type AddressRange } from '../../src/policy/address-text.js';
import { fillSelectorsFromTuple, PacketSelectors, type SelectorTuple } from '../../src/policy/packet-selectors.js';
import {
  ANY_PROTOCOL,
  describeTrafficSelector,
  parseTrafficSelector,
  remoteRangeSelector,
  SelectorTable,
  type TrafficSelector,
  type TrafficSelectorSpec,
} from '../../src/policy/selectors.js';
import { IssueList, PolicyValidationError } from '../../src/policy/validation.js';

function selector(spec: TrafficSelectorSpec): TrafficSelector {
  const issues = new IssueList();
  const sel = parseTrafficSelector(spec, 'ts', issues);
  issues.throwIfAny();
  if (sel === null) throw new Error('unreachable');
  return sel;
}

function problems(spec: TrafficSelectorSpec): string[] {
  const issues = new IssueList();
  parseTrafficSelector(spec, 'spd[3]', issues);
  try {
    issues.throwIfAny();
    return [];
  } catch (e) {
    return (e as PolicyValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
}

function packet(tuple: SelectorTuple): PacketSelectors {
  const p = new PacketSelectors();
  fillSelectorsFromTuple(p, tuple);
  return p;
}

function matches(spec: TrafficSelectorSpec, tuple: SelectorTuple): boolean {
  return new SelectorTable([selector(spec)]).matches(0, packet(tuple));
}

describe('selector validation (RFC 4301 §4.4.1.1)', () => {
  it('names the field and quotes the bad value', () => {
    expect(problems({ remote: '2001:db8::/129' })).toEqual([
      'spd[3].remote: "2001:db8::/129" is not a valid IPv6 prefix: the length must be 0 to 128',
    ]);
    expect(problems({ local: '192.0.2.0/24', remote: '2001:db8::/32' })).toEqual([
      'spd[3].remote: is IPv6 but local is IPv4: both addresses must be the same family',
    ]);
    expect(problems({ protocol: 'udpp' as never })[0]).toMatch(/^spd\[3\]\.protocol: "udpp" is not a protocol/);
    expect(problems({ protocol: 'udp', localPort: '2000-1000' })[0]).toMatch(/^spd\[3\]\.localPort: .*first port is above the last/);
    expect(problems({ protocol: 'udp', remotePort: 70000 })[0]).toMatch(/^spd\[3\]\.remotePort: 70000 is not a port selector/);
  });

  it('refuses selectors that cannot apply to the protocol', () => {
    expect(problems({ protocol: 'esp', localPort: 500 })[0]).toMatch(/^spd\[3\]\.protocol: port ranges need a protocol with ports/);
    expect(problems({ protocol: 'udp', icmp: { type: 8 } })[0]).toMatch(/^spd\[3\]\.icmp: .*needs protocol "icmp" or "icmpv6"/);
    expect(problems({ protocol: 'icmp', local: '2001:db8::/32', icmp: { type: 8 } })[0]).toMatch(/^spd\[3\]\.protocol: protocol 1 does not fit IPv6/);
    expect(problems({ protocol: 'icmp', icmp: { type: 'any', code: 3 } })[0]).toMatch(/^spd\[3\]\.icmp\.code: /);
    expect(problems({ protocol: 'icmpv6', icmp: { type: 300 } })[0]).toMatch(/^spd\[3\]\.icmp\.type: 300 is not an ICMP type/);
    expect(problems({ protocol: 'tcp', mhType: 5 })[0]).toMatch(/^spd\[3\]\.mhType: .*needs protocol "mh"/);
    expect(problems({ protocol: 'mh', local: '192.0.2.1', mhType: 5 })[0]).toMatch(/^spd\[3\]\.mhType: the Mobility Header exists only in IPv6/);
  });

  it('describes a selector for logs', () => {
    expect(describeTrafficSelector(selector({ local: '192.0.2.0/24', protocol: 'udp', remotePort: 500 }))).toBe(
      '192.0.2.0/24 -> 0.0.0.0/0 proto 17 ports any -> 500',
    );
    expect(describeTrafficSelector(selector({}))).toBe('any -> any proto any ports any -> any');
  });
});

describe('selector matching', () => {
  const udp = (localPort: number | 'opaque', remotePort: number | 'opaque'): SelectorTuple => ({
    local: '192.0.2.10',
    remote: '198.51.100.20',
    protocol: 'udp',
    localPort,
    remotePort,
  });

  it('ANY ports match concrete and OPAQUE ports; a concrete range never matches OPAQUE', () => {
    expect(matches({ protocol: 'udp' }, udp(1, 2))).toBe(true);
    expect(matches({ protocol: 'udp' }, udp('opaque', 'opaque'))).toBe(true);
    expect(matches({ protocol: 'udp', remotePort: '4000-4999' }, udp(1, 4242))).toBe(true);
    expect(matches({ protocol: 'udp', remotePort: '4000-4999' }, udp(1, 5000))).toBe(false);
    expect(matches({ protocol: 'udp', remotePort: '4000-4999' }, udp('opaque', 'opaque'))).toBe(false);
  });

  it('OPAQUE matches only packets whose ports are not visible (non-initial fragments)', () => {
    expect(matches({ protocol: 'udp', localPort: 'opaque', remotePort: 'opaque' }, udp('opaque', 'opaque'))).toBe(true);
    expect(matches({ protocol: 'udp', localPort: 'opaque', remotePort: 'opaque' }, udp(1, 2))).toBe(false);
  });

  it('ICMP type and code, with ANY code', () => {
    const unreachable = { local: '192.0.2.10', remote: '198.51.100.20', protocol: 'icmp' as const, icmp: { type: 3, code: 4 } };
    expect(matches({ protocol: 'icmp', icmp: { type: 3 } }, unreachable)).toBe(true);
    expect(matches({ protocol: 'icmp', icmp: { type: 3, code: 4 } }, unreachable)).toBe(true);
    expect(matches({ protocol: 'icmp', icmp: { type: 3, code: 1 } }, unreachable)).toBe(false);
    expect(matches({ protocol: 'icmp', icmp: { type: 8 } }, unreachable)).toBe(false);
    expect(matches({ protocol: 'icmpv6', icmp: { type: 3 } }, unreachable)).toBe(false);
    expect(matches({ protocol: 'icmp', icmp: { type: 'any' } }, unreachable)).toBe(true);
  });

  it('Mobility Header type', () => {
    const bu = { local: '2001:db8:1::100', remote: '2001:db8:1::1', protocol: 'mh' as const, mhType: 5 };
    expect(matches({ protocol: 'mh', mhType: 5 }, bu)).toBe(true);
    expect(matches({ protocol: 'mh', mhType: 6 }, bu)).toBe(false);
    expect(matches({ protocol: 'mh' }, bu)).toBe(true);
  });

  it('IPv6 prefixes and ranges compare all 128 bits', () => {
    const v6 = (local: string): SelectorTuple => ({ local, remote: '2001:db8:ffff::1', protocol: 'tcp', localPort: 1, remotePort: 2 });
    const range = { local: '2001:db8:0:1::ffff:0-2001:db8:0:2::1' };
    expect(matches(range, v6('2001:db8:0:1::ffff:0'))).toBe(true);
    expect(matches(range, v6('2001:db8:0:1:8000::'))).toBe(true);
    expect(matches(range, v6('2001:db8:0:2::1'))).toBe(true);
    expect(matches(range, v6('2001:db8:0:2::2'))).toBe(false);
    expect(matches(range, v6('2001:db8:0:1::fffe:ffff'))).toBe(false);
    expect(matches({ local: '2001:db8::/32' }, v6('2001:db9::1'))).toBe(false);
    expect(matches({ local: '2001:db8::/32' }, v6('2001:db8:ffff:ffff:ffff:ffff:ffff:ffff'))).toBe(true);
  });

  it('a family-specific selector never matches the other family; ANY addresses match both', () => {
    const v4 = udp(1, 2);
    const v6: SelectorTuple = { local: '2001:db8::1', remote: '2001:db8::2', protocol: 'udp', localPort: 1, remotePort: 2 };
    expect(matches({ remote: '2001:db8::/32' }, v4)).toBe(false);
    expect(matches({ remote: '0.0.0.0/0' }, v6)).toBe(false);
    expect(matches({ remote: 'any' }, v4)).toBe(true);
    expect(matches({ remote: 'any' }, v6)).toBe(true);
  });

  it('an unfilled PacketSelectors matches nothing, not even ANY (fail closed)', () => {
    expect(new SelectorTable([selector({})]).matches(0, new PacketSelectors())).toBe(false);
  });

  it('fillSelectorsFromTuple refuses a bad description with a typed error', () => {
    expect(() => packet({ local: '192.0.2.1', remote: '2001:db8::1', protocol: 'udp' })).toThrow(PolicyValidationError);
    expect(() => packet({ local: '192.0.2.1', remote: '192.0.2.2', protocol: 'any' })).toThrow(/one protocol/);
  });
});

/** Reference semantics over bigints, independent of the compiled word layout. */
function referenceMatch(sel: TrafficSelector, p: PacketSelectors): boolean {
  if (sel.family !== 0) {
    if (sel.family !== p.family || sel.local === null || sel.remote === null) return false;
    const local = readAddressWords(sel.family, p.local, 0);
    const remote = readAddressWords(sel.family, p.remote, 0);
    if (local < sel.local.lo || local > sel.local.hi || remote < sel.remote.lo || remote > sel.remote.hi) return false;
  }
  if (sel.protocol !== ANY_PROTOCOL && sel.protocol !== p.protocol) return false;
  return p.localPort >= sel.localPort.lo && p.localPort <= sel.localPort.hi && p.remotePort >= sel.remotePort.lo && p.remotePort <= sel.remotePort.hi;
}

describe('compiled table against reference semantics (property)', () => {
  // Small address pools so that random packets often land on range edges.
  const v6Pool = ['2001:db8::', '2001:db8::1', '2001:db8::ffff:ffff', '2001:db8:0:0:1::', '2001:db8:1::', '2001:db8:ffff::1', '::1'];
  const v4Pool = ['192.0.2.0', '192.0.2.1', '192.0.2.255', '198.51.100.7', '203.0.113.1', '0.0.0.0', '255.255.255.255'];
  const v6Selector = fc.oneof(
    fc.constant('any'),
    fc.constantFrom('2001:db8::/32', '2001:db8::/127', '2001:db8::1-2001:db8:0:0:1::', '2001:db8:1::/48', '::1'),
  );
  const v4Selector = fc.oneof(fc.constant('any'), fc.constantFrom('192.0.2.0/24', '192.0.2.1-198.51.100.7', '0.0.0.0/0', '203.0.113.1'));
  const ports = fc.oneof(fc.constant<string | number>('any'), fc.constant('opaque'), fc.integer({ min: 0, max: 65535 }), fc.constantFrom('1000-2000', '0-65535'));
  const spec = fc.oneof(
    fc.record({ local: v4Selector, remote: v4Selector, protocol: fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'), localPort: ports, remotePort: ports }),
    fc.record({ local: v6Selector, remote: v6Selector, protocol: fc.constantFrom<'udp' | 'any' | 'esp'>('udp', 'any', 'esp') }),
  );
  const portValue = fc.oneof(fc.constant<number | 'opaque'>('opaque'), fc.integer({ min: 0, max: 65535 }), fc.constantFrom(999, 1000, 2000, 2001));
  const tuple = fc.oneof(
    fc.record({ local: fc.constantFrom(...v4Pool), remote: fc.constantFrom(...v4Pool), protocol: fc.constantFrom<'udp' | 'tcp'>('udp', 'tcp'), localPort: portValue, remotePort: portValue }),
    fc.record({ local: fc.constantFrom(...v6Pool), remote: fc.constantFrom(...v6Pool), protocol: fc.constantFrom<'udp' | 'esp'>('udp', 'esp'), localPort: portValue, remotePort: portValue }),
  );

  it('SelectorTable.firstMatch equals a scan with the reference predicate', () => {
    fc.assert(
      fc.property(fc.array(spec, { minLength: 1, maxLength: 6 }), fc.array(tuple, { minLength: 1, maxLength: 8 }), (specs, tuples) => {
        const sels = specs.map((s) => selector(s as TrafficSelectorSpec));
        const table = new SelectorTable(sels);
        for (const t of tuples) {
          const p = packet(t as SelectorTuple);
          expect(table.firstMatch(p)).toBe(sels.findIndex((s) => referenceMatch(s, p)));
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('remoteRangeSelector', () => {
  it('is the selector a peer prefix parses to: remote the prefix, everything else ANY', () => {
    for (const [prefix, any] of [['2001:db8:b::/48', '::/0'], ['198.51.100.0/24', '0.0.0.0/0'], ['2001:db8::1/128', '::/0']]) {
      expect(remoteRangeSelector(parseAddressRange(prefix) as AddressRange)).toEqual(selector({ local: any, remote: prefix }));
    }
  });
});
