import { describe, expect, it } from 'vitest';
import { compileLinkSettings, Icmpv4ErrorSource, LinkConfigError, NO_IPV4_NEXT_HOP, type LinkConfig } from '../../src/link/link-config.js';
import { ipv6Bytes, LINK_CONFIG_WITH_NEXT_HOP } from './link-fixture.js';

/** The black MAC in the "-" upper-case form, which compiles like the ":" form. */
const VALID: LinkConfig = { ...LINK_CONFIG_WITH_NEXT_HOP, blackMac: '00-00-5E-00-53-02' };

function issues(config: Partial<LinkConfig> & Record<string, unknown>): string[] {
  try {
    compileLinkSettings({ ...VALID, ...config } as LinkConfig);
  } catch (err) {
    expect(err).toBeInstanceOf(LinkConfigError);
    expect((err as Error).name).toBe('LinkConfigError');
    return [...(err as LinkConfigError).issues];
  }
  return [];
}

describe('compileLinkSettings', () => {
  it('compiles the MACs, takes the addresses as the config loader validated them, derives the EUI-64 link-local address and applies defaults', () => {
    const s = compileLinkSettings(VALID);
    expect(s.redMac).toBe(0x00005e005301);
    expect(s.blackMac).toBe(0x00005e005302);
    expect(Buffer.from(s.linkLocalAddress).toString('hex')).toBe('fe8000000000000002005efffe005301');
    expect(Buffer.from(s.routerPrefix).toString('hex')).toBe('20010db8000100000000000000000000');
    expect(Buffer.from(s.routerAddress).toString('hex')).toBe('20010db8000100000000000000000001');
    expect(s.tepAddress).toBe(0xc0000201);
    expect(s.tepPrefixLength).toBe(24);
    expect(s.ipv4NextHop).toBe(0xc00002fe);
    expect(s.routerAdvertisements).toEqual({
      answerSolicitations: true,
      intervalSeconds: 0,
      routerLifetimeSeconds: 1800,
      prefixValidLifetimeSeconds: 2_592_000,
      prefixPreferredLifetimeSeconds: 604_800,
      curHopLimit: 64,
    });
    expect(s.neighborCache).toEqual({ capacity: 256, pendingFramesPerNeighbor: 3, pendingFrames: 64, retransmitMs: 1000, solicitations: 3, reachableMs: 30_000 });
    expect(s.icmpErrors).toEqual({ perSecond: 100, burst: 10, ipv4Source: Icmpv4ErrorSource.Tep });
    expect(Object.isFrozen(s)).toBe(true);
  });

  it('clears the host bits of the advertised prefix', () => {
    const routerAddress = ipv6Bytes('2001:db8:1:ff::1');
    const s = compileLinkSettings({ ...VALID, routerAddress, routerPrefixLength: 52 });
    expect(Buffer.from(s.routerPrefix).toString('hex')).toBe('20010db8000100000000000000000000');
    expect(Buffer.from(routerAddress).toString('hex')).toBe('20010db8000100ff0000000000000001');
  });

  it('has no IPv4 next hop unless configured', () => {
    const { ipv4NextHop: _, ...rest } = VALID;
    expect(compileLinkSettings(rest).ipv4NextHop).toBe(NO_IPV4_NEXT_HOP);
  });

  it('reports every problem at once, naming the field and the fix', () => {
    const found = issues({ redMac: '01:00:5e:00:00:01', tunnelInnerMtu: 1000 });
    expect(found).toEqual([
      expect.stringMatching(/^link\.redMac: must be a unicast MAC/),
      expect.stringMatching(/^link\.tunnelInnerMtu: must be an integer from 1280 to 9000, got 1000/),
    ]);
  });

  it.each([
    [{ blackMac: '00:00:5e:00:53' }, /^link\.blackMac: must be a MAC address like/],
    [{ routerAdvertisements: { intervalSeconds: 2 } }, /^link\.routerAdvertisements\.intervalSeconds: must be 0 .* or from 4 to 1800/],
    [{ routerAdvertisements: { intervalSeconds: 600, routerLifetimeSeconds: 300 } }, /^link\.routerAdvertisements\.routerLifetimeSeconds: must be 0 or at least intervalSeconds/],
    [{ routerAdvertisements: { prefixValidLifetimeSeconds: 100, prefixPreferredLifetimeSeconds: 200 } }, /prefixPreferredLifetimeSeconds: must not exceed prefixValidLifetimeSeconds/],
    [{ icmpErrors: { ipv4Source: 'router' as never } }, /^link\.icmpErrors\.ipv4Source: must be "tep" or "invoking-destination", got "router"/],
    [{ neighborCache: { capacity: 0 } }, /^link\.neighborCache\.capacity: must be an integer from 1 to 65536, got 0/],
  ])('rejects %j', (bad, message) => {
    const found = issues(bad as Partial<LinkConfig>);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(message);
  });
});
