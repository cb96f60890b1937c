import { describe, expect, it } from 'vitest';
import {
  ALL_NODES, ipv4NextHop, isRouterDestination, isUnicastMac, linkLocalFromMac, multicastMac, parseMacAddress,
  writeSolicitedNodeAddress,
} from '../../src/link/link-addresses.js';
import { compileLinkSettings, NO_IPV4_NEXT_HOP } from '../../src/link/link-config.js';
import { LINK_CONFIG_WITH_NEXT_HOP } from './link-fixture.js';

const ip6 = (hex: string) => Uint8Array.from(Buffer.from(hex, 'hex'));

const SETTINGS = compileLinkSettings(LINK_CONFIG_WITH_NEXT_HOP);

describe('link addresses', () => {
  it('parses MAC text with ":" or "-" and rejects mixed separators', () => {
    expect(parseMacAddress('02:00:5e:10:00:01')).toBe(0x02005e100001);
    expect(parseMacAddress('FF-FF-FF-FF-FF-FF')).toBe(0xffffffffffff);
    expect(parseMacAddress('02:00-5e:10:00:01')).toBeNull();
    expect(parseMacAddress('02:00:5e:10:00')).toBeNull();
  });

  it('tells unicast MACs from group and zero MACs', () => {
    expect(isUnicastMac(0x02005e100001)).toBe(true);
    expect(isUnicastMac(0x01005e000001)).toBe(false);
    expect(isUnicastMac(0)).toBe(false);
  });

  it('derives the modified EUI-64 link-local address (RFC 4291 App. A): U/L bit inverted, fffe inserted', () => {
    // RFC 4291 App. A example style: 34-56-78-9A-BC-DE -> 3656:78ff:fe9a:bcde.
    expect(Buffer.from(linkLocalFromMac(0x3456789abcde)).toString('hex')).toBe('fe80000000000000365678fffe9abcde');
    expect(Buffer.from(linkLocalFromMac(0x02005e100001)).toString('hex')).toBe('fe8000000000000000005efffe100001');
  });

  it('forms the solicited-node group and the multicast MAC (RFC 4291 §2.7.1, RFC 2464 §7)', () => {
    const group = new Uint8Array(16);
    writeSolicitedNodeAddress(group, 0, ip6('20010db800010000000000000abcdef1'), 0);
    expect(Buffer.from(group).toString('hex')).toBe('ff0200000000000000000001ffbcdef1');
    expect(multicastMac(group, 0)).toBe(0x3333ffbcdef1);
    expect(multicastMac(ALL_NODES, 0)).toBe(0x333300000001);
  });

  it('knows which IPv6 destinations are the router', () => {
    const yes = ['20010db8000100000000000000000001', 'fe8000000000000002005efffe005301', 'ff020000000000000000000000000001',
      'ff020000000000000000000000000002', 'ff0200000000000000000001ff000001', 'ff0200000000000000000001ff005301'];
    const no = ['20010db8000100000000000000000002', 'ff0200000000000000000001ff000002', 'ff050000000000000000000000000002'];
    for (const a of yes) expect(isRouterDestination(SETTINGS, ip6(a), 0)).toBe(true);
    for (const a of no) expect(isRouterDestination(SETTINGS, ip6(a), 0)).toBe(false);
  });

  it('sends on-link IPv4 destinations directly and others to the next hop, as int32 bit patterns', () => {
    expect(ipv4NextHop(SETTINGS, 0xc0000263 | 0)).toBe(0xc0000263 | 0);
    expect(ipv4NextHop(SETTINGS, 0xcb007109 | 0)).toBe(0xc00002fe | 0);
    expect(ipv4NextHop(SETTINGS, 0xcb007109)).toBe(0xc00002fe | 0);
    const { ipv4NextHop: _, ...rest } = { ...SETTINGS };
    expect(ipv4NextHop({ ...rest, ipv4NextHop: NO_IPV4_NEXT_HOP }, 0xcb007109)).toBe(NO_IPV4_NEXT_HOP);
  });
});
