import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  authorizesChild,
  type PadEntryConfig,
  PeerAuthorizationDatabase,
  type PeerIdentity,
} from '../../src/policy/pad.js';
import { PolicyValidationError } from '../../src/policy/validation.js';

const PSK_TEXT = 'pear-elephant-quartz-919-SECRET';
const PSK_HEX = '0x5345435245542d6b65792d6d6174657269616c2d3132333435';
const anyChild = { local: [{ address: 'any' }], remote: [{ address: 'any' }] };
const psk = { method: 'psk' as const, psk: PSK_TEXT };
const cert = { method: 'certificate' as const, trustAnchor: 'example-root-ca' };

function entry(id: number, name: string, type: PeerIdentity['type'], value: string | Uint8Array, auth: PadEntryConfig['auth'] = cert): PadEntryConfig {
  return { id, name, identity: { type, value }, auth, childSa: anyChild };
}

function errorsOf(configs: unknown[]): string[] {
  try {
    PeerAuthorizationDatabase.build(configs as PadEntryConfig[]);
  } catch (e) {
    expect(e).toBeInstanceOf(PolicyValidationError);
    return (e as PolicyValidationError).issues.map((i) => `${i.path}: ${i.message}`);
  }
  return [];
}

describe('PAD lookup by identity type (RFC 4301 §4.4.3.1)', () => {
  const pad = PeerAuthorizationDatabase.build([
    entry(1, 'branch-v4', 'ipv4', '198.51.100.0/24'),
    entry(2, 'branch-v6', 'ipv6', '2001:db8:2::/48'),
    entry(3, 'gw-exact', 'fqdn', 'gw1.example.com', psk),
    entry(4, 'gw-wild', 'fqdn', '*.branches.example.com'),
    entry(5, 'ops-mail', 'rfc822', 'Ops@Example.com'),
    entry(6, 'any-mail', 'rfc822', '*@example.net'),
    entry(7, 'key', 'key-id', '0x0102030405'),
    entry(8, 'dn', 'dn', 'CN=gw2, O=Example, C=SE'),
    entry(9, 'v4-range', 'ipv4', '203.0.113.10-203.0.113.20'),
  ]);
  const who = (identity: PeerIdentity) => pad.lookup(identity)?.name ?? null;

  it('IPv4/IPv6 addresses, prefixes and ranges, as text or as ID payload bytes', () => {
    expect(who({ type: 'ipv4', value: '198.51.100.77' })).toBe('branch-v4');
    expect(who({ type: 'ipv4', value: Uint8Array.of(198, 51, 100, 1) })).toBe('branch-v4');
    expect(who({ type: 'ipv4', value: '203.0.113.20' })).toBe('v4-range');
    expect(who({ type: 'ipv4', value: '203.0.113.21' })).toBeNull();
    expect(who({ type: 'ipv6', value: '2001:db8:2:ffff::1' })).toBe('branch-v6');
    expect(who({ type: 'ipv6', value: '2001:db8:3::1' })).toBeNull();
    // The type must agree with the value: an IPv4 text under ID_IPV6_ADDR is refused.
    expect(who({ type: 'ipv6', value: '198.51.100.77' })).toBeNull();
    expect(who({ type: 'ipv4', value: Uint8Array.of(198, 51, 100) })).toBeNull();
  });

  it('FQDN: exact (case-insensitive, root dot ignored) and wildcard suffix', () => {
    expect(who({ type: 'fqdn', value: 'GW1.Example.COM.' })).toBe('gw-exact');
    expect(who({ type: 'fqdn', value: 'gw2.example.com' })).toBeNull();
    expect(who({ type: 'fqdn', value: 'b7.branches.example.com' })).toBe('gw-wild');
    expect(who({ type: 'fqdn', value: 'x.b7.branches.example.com' })).toBe('gw-wild');
    expect(who({ type: 'fqdn', value: 'branches.example.com' })).toBeNull();
    expect(who({ type: 'fqdn', value: 'evilbranches.example.com' })).toBeNull();
  });

  it('RFC822: full address (domain case-insensitive, local part exact) or a whole domain', () => {
    expect(who({ type: 'rfc822', value: 'Ops@example.COM' })).toBe('ops-mail');
    expect(who({ type: 'rfc822', value: 'ops@example.com' })).toBeNull();
    expect(who({ type: 'rfc822', value: 'anyone@Example.net' })).toBe('any-mail');
    expect(who({ type: 'rfc822', value: 'anyone@sub.example.net' })).toBeNull();
  });

  it('KEY_ID bytes and DN text match exactly', () => {
    expect(who({ type: 'key-id', value: Uint8Array.of(1, 2, 3, 4, 5) })).toBe('key');
    expect(who({ type: 'key-id', value: Uint8Array.of(1, 2, 3, 4) })).toBeNull();
    expect(who({ type: 'dn', value: 'CN=gw2, O=Example, C=SE' })).toBe('dn');
    expect(who({ type: 'dn', value: 'CN=gw2,O=Example,C=SE' })).toBeNull();
  });

  it('types never cross: an FQDN that spells a DN or a key id matches nothing', () => {
    expect(who({ type: 'fqdn', value: 'CN=gw2, O=Example, C=SE' })).toBeNull();
    expect(who({ type: 'dn', value: 'gw1.example.com' })).toBeNull();
    expect(who({ type: 'nonsense' } as unknown as PeerIdentity)).toBeNull();
  });

  it('is ordered: the first matching entry wins', () => {
    const ordered = PeerAuthorizationDatabase.build([entry(1, 'wild', 'fqdn', '*.example.com'), entry(2, 'exact', 'fqdn', 'gw1.example.com', psk)]);
    expect(ordered.lookup({ type: 'fqdn', value: 'gw1.example.com' })?.name).toBe('wild');
  });
});

describe('child-SA authorization (RFC 4301 §4.4.3.3)', () => {
  const pad = PeerAuthorizationDatabase.build([
    {
      id: 1,
      name: 'branch',
      identity: { type: 'fqdn', value: 'branch.example.com' },
      auth: cert,
      childSa: {
        local: [{ address: '192.0.2.0/25' }, { address: '192.0.2.128/25', protocol: 'tcp', port: '0-1023' }],
        remote: [{ address: '198.51.100.0/24' }, { address: '2001:db8:2::/48' }],
      },
    },
  ]);
  const branch = pad.entries[0];

  it('accepts proposals inside the allowed selectors, including across adjacent entries', () => {
    expect(authorizesChild(branch, [{ address: '192.0.2.0/25' }], [{ address: '198.51.100.0/24' }])).toBe(true);
    expect(authorizesChild(branch, [{ address: '192.0.2.10-192.0.2.20', protocol: 'udp', port: 53 }], [{ address: '198.51.100.7' }])).toBe(true);
    // 192.0.2.0/24 TCP 22 spans both local entries: the union covers it.
    expect(authorizesChild(branch, [{ address: '192.0.2.0/24', protocol: 'tcp', port: 22 }], [{ address: '2001:db8:2:1::/64' }])).toBe(true);
  });

  it('refuses proposals that reach outside', () => {
    expect(authorizesChild(branch, [{ address: '192.0.2.0/24' }], [{ address: '198.51.100.0/24' }])).toBe(false);
    expect(authorizesChild(branch, [{ address: '192.0.2.0/24', protocol: 'tcp', port: 8080 }], [{ address: '198.51.100.0/24' }])).toBe(false);
    expect(authorizesChild(branch, [{ address: '192.0.2.0/25' }], [{ address: '198.51.0.0/16' }])).toBe(false);
    expect(authorizesChild(branch, [{ address: '192.0.2.0/25' }], [{ address: 'any' }])).toBe(false);
    expect(authorizesChild(branch, [{ address: '192.0.2.0/25' }], [{ address: '198.51.100.0/24' }, { address: '203.0.113.0/24' }])).toBe(false);
  });

  it('refuses empty or malformed proposals (fail closed)', () => {
    expect(authorizesChild(branch, [], [{ address: '198.51.100.0/24' }])).toBe(false);
    expect(authorizesChild(branch, [{ address: '192.0.2.0/33' }], [{ address: '198.51.100.0/24' }])).toBe(false);
    expect(authorizesChild(branch, [{ address: '192.0.2.1', port: 'x' }], [{ address: '198.51.100.1' }])).toBe(false);
  });
});

describe('PAD validation and secrecy', () => {
  it('names the field of each problem', () => {
    expect(
      errorsOf([
        { id: 1, name: 'a', identity: { type: 'ipv6', value: '2001:db8::/129' }, auth: cert, childSa: anyChild },
        { id: 1, name: 'b', identity: { type: 'fqdn', value: 'bad..name' }, auth: { method: 'password' }, childSa: { local: [], remote: [{ address: 'any' }] } },
        { id: 3, name: 'c', identity: { type: 'ipv4', value: '2001:db8::1' }, auth: cert, childSa: anyChild },
        { id: 4, name: 'd', identity: { type: 'x500', value: 'CN=x' }, auth: { method: 'certificate' }, childSa: anyChild },
      ]),
    ).toEqual([
      'pad[0].identity.value: "2001:db8::/129" is not a valid IPv6 prefix: the length must be 0 to 128',
      'pad[1].id: 1 is already used by pad[0]: ids must be unique',
      expect.stringMatching(/^pad\[1\]\.identity\.value: "bad\.\.name" is not a domain name/),
      'pad[1].auth.method: "password" is not a method: use "psk" or "certificate"',
      expect.stringMatching(/^pad\[1\]\.childSa\.local: must list at least one selector/),
      'pad[2].identity.value: "2001:db8::1" is IPv6, but the type is ipv4: change one of them',
      'pad[3].identity.type: "x500" is not an identity type: use ipv4, ipv6, fqdn, rfc822, key-id or dn',
      expect.stringMatching(/^pad\[3\]\.auth\.trustAnchor: undefined is not a trust anchor reference/),
    ]);
  });

  it('PSK problems are reported by length and kind, never by value', () => {
    const errors = errorsOf([
      entry(1, 'short', 'fqdn', 'a.example.com', { method: 'psk', psk: 'SECRET-short' }),
      entry(2, 'badhex', 'fqdn', 'b.example.com', { method: 'psk', psk: '0xSECRET' }),
      // A valid PSK in an entry that fails for another reason must not show up either.
      { ...entry(3, 'other', 'fqdn', 'c.example.com', psk), childSa: { local: [{ address: 'nowhere' }], remote: [{ address: 'any' }] } },
    ]);
    expect(errors).toEqual([
      'pad[0].auth.psk: is 12 bytes: use at least 16 random bytes (RFC 7296 §2.15)',
      'pad[1].auth.psk: is not valid hex after "0x": use an even number of hex digits',
      expect.stringMatching(/^pad\[2\]\.childSa\.local\[0\]\.address: "nowhere" is not a valid/),
    ]);
    for (const e of errors) expect(e).not.toContain('SECRET');
  });

  it('PSKs never appear in JSON, toString or inspect output', () => {
    const pad = PeerAuthorizationDatabase.build([entry(1, 'text', 'fqdn', 'a.example.com', psk), entry(2, 'hex', 'fqdn', 'b.example.com', { method: 'psk', psk: PSK_HEX })]);
    const hexBody = PSK_HEX.slice(2);
    const outputs = [
      JSON.stringify(pad),
      JSON.stringify(pad.entries),
      String(pad.entries[0]),
      inspect(pad, { depth: 10 }),
      inspect(pad.entries[1].auth, { depth: 10 }),
      `${pad.entries[1].auth.method === 'psk' ? pad.entries[1].auth.psk : ''}`,
    ];
    for (const out of outputs) {
      expect(out).not.toContain('SECRET');
      expect(out).not.toContain(hexBody);
      expect(out).not.toContain(Buffer.from(PSK_TEXT).toString('base64'));
    }
    expect(JSON.parse(JSON.stringify(pad))[0]).toEqual({
      id: 1,
      name: 'text',
      identity: 'fqdn:a.example.com',
      auth: { method: 'psk', psk: '[redacted]' },
      childSa: { local: ['any proto any port any'], remote: ['any proto any port any'] },
    });
  });

  it('IKE reads the key bytes; dispose() zeroizes them', () => {
    const pad = PeerAuthorizationDatabase.build([entry(1, 'hex', 'fqdn', 'b.example.com', { method: 'psk', psk: PSK_HEX })]);
    const auth = pad.entries[0].auth;
    if (auth.method !== 'psk') throw new Error('expected a PSK entry');
    expect(Buffer.from(auth.psk.reveal()).toString()).toBe('SECRET-key-material-12345');
    pad.dispose();
    expect(auth.psk.zeroized).toBe(true);
    expect(auth.psk.reveal().every((b) => b === 0)).toBe(true);
  });

  it('accepts base64 ("0s") and byte PSKs', () => {
    const bytes = Uint8Array.from({ length: 32 }, (_, i) => i);
    const pad = PeerAuthorizationDatabase.build([
      entry(1, 'b64', 'fqdn', 'a.example.com', { method: 'psk', psk: `0s${Buffer.from(bytes).toString('base64')}` }),
      entry(2, 'raw', 'fqdn', 'b.example.com', { method: 'psk', psk: bytes }),
    ]);
    for (const e of pad.entries) {
      expect(e.auth.method === 'psk' && Buffer.from(e.auth.psk.reveal()).equals(Buffer.from(bytes))).toBe(true);
    }
    bytes.fill(0xff);
    expect(pad.entries[1].auth.method === 'psk' && pad.entries[1].auth.psk.reveal()[1]).toBe(1);
  });
});
