import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DisposedConfigError } from '../../src/config/appliance-config.js';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigFile, parseConfigText } from '../../src/config/load-config.js';
import { validateSaConfig } from '../../src/ipsec/security-association.js';

/** The 1-based line of the first line of `text` containing `needle`. */
function lineOf(text: string, needle: string): number {
  const index = text.split('\n').findIndex((l) => l.includes(needle));
  if (index < 0) throw new Error(`test bug: "${needle}" is not in the text`);
  return index + 1;
}

function rejection(text: string): ConfigError {
  try {
    parseConfigText(text, 'test.yaml');
  } catch (e) {
    if (e instanceof ConfigError) return e;
    throw e;
  }
  throw new Error('the configuration was accepted');
}

/** path@line of every issue, sorted. */
function where(e: ConfigError): string[] {
  return e.issues.map((i) => `${i.path}@${i.line}`).sort();
}

const HEAD = `version: 1
name: site-a
interfaces:
  red: { name: red }
  black: { name: black }
`;
const GATEWAY = `gateway:
  redAddress: 2001:db8:a::1/64
  tep: 192.0.2.1/24
`;
const SIT_ENTRY = `  - id: 1
    name: sit-b
    local: 192.0.2.1
    remote: 192.0.2.2
    protocol: 41
    action: protect
    protect: { mode: transport, algorithms: [aes-gcm-16-128], lifetime: { hardSeconds: 0 } }
`;
const KEY_20 = '0x000102030405060708090a0b0c0d0e0f10111213';
const KEY_36 = '0x' + Buffer.from(Array.from({ length: 36 }, (_, i) => 0x40 + i)).toString('hex');

describe('parseConfigText', () => {
  it('applies the defaults: MTU from the NIC, IPv4 bridging on, no RAs, on-link peers, SA settings from the SPD entry', () => {
    const text = `${HEAD}${GATEWAY}spd:
  - id: 7
    name: sit
    local: 192.0.2.1
    remote: 192.0.2.2
    protocol: 41
    action: protect
    protect: { mode: transport, algorithms: [chacha20-poly1305, aes-gcm-16-128] }
manualKeys:
  - { policy: sit, direction: outbound, spi: 4096, key: "${KEY_36}" }
`;
    const { config, warnings } = parseConfigText(text, 'test.yaml');
    expect(config.interfaces.red).toEqual({ name: 'red', mtu: null });
    expect(config.bridgeIpv4).toBe(true);
    expect(config.peers).toEqual([]);
    expect(config.pad.entries).toEqual([]);
    expect(config.gateway).toMatchObject({
      redPrefixLength: 64,
      routerAdvertisements: { enabled: false, intervalSeconds: 600 },
      tep: 0xc000_0201,
      tepPrefixLength: 24,
      nextHop: null,
    });
    expect(Array.from(config.gateway!.redAddress)).toEqual([0x20, 0x01, 0x0d, 0xb8, 0, 0x0a, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    const [sa] = config.manualSecurityAssociations();
    expect(sa).toMatchObject({
      spi: 4096, direction: 'outbound', mode: 'transport', policyId: 7,
      algorithm: 'chacha20-poly1305', // the entry's preferred algorithm
      esn: true, replayWindow: 1024, udpEncapsulation: undefined,
      lifetime: { soft: { seconds: 3240, bytes: 0, packets: 0 }, hard: { seconds: 3600, bytes: 0, packets: 0 } },
    });
    expect(Buffer.from(sa.keyAndSalt).toString('hex')).toBe(KEY_36.slice(2));
    expect(warnings.map((w) => [w.path, w.line])).toEqual([
      ['manualKeys', lineOf(text, 'manualKeys:')],
      ['manualKeys[0]', lineOf(text, '{ policy: sit')],
      ['spd[0]', lineOf(text, 'id: 7')],
    ]);
    expect(warnings[1].message).toContain('3600 seconds');
    expect(warnings[2].message).toContain('no inbound one');
  });

  it('gives manual SAs the outer addresses of the entry, swapped for inbound, and the UDP ports likewise', () => {
    const text = `${HEAD}${GATEWAY}peers:
  - { name: b, tep: 192.0.2.2, prefixes: [2001:db8:b::/48] }
spd:
  - id: 3
    name: tun
    local: 2001:db8:a::/64
    remote: 2001:db8:b::/48
    action: protect
    protect:
      mode: tunnel
      tunnel: { local: 192.0.2.1, remote: 192.0.2.2 }
      algorithms: [aes-gcm-16-128]
      udpEncapsulation: { localPort: 4500, remotePort: 4501 }
      lifetime: { hardSeconds: 0 }
manualKeys:
  - { policy: tun, direction: outbound, spi: 0x1001, key: "${KEY_20}" }
  - { policy: tun, direction: inbound, spi: 0x1002, key: "${KEY_20}" }
`;
    const { config } = parseConfigText(text, 'test.yaml');
    const [out, inb] = config.manualSecurityAssociations();
    expect([out.mode, Array.from(out.source), Array.from(out.destination)]).toEqual(['tunnel', [192, 0, 2, 1], [192, 0, 2, 2]]);
    expect([inb.mode, Array.from(inb.source), Array.from(inb.destination)]).toEqual(['tunnel', [192, 0, 2, 2], [192, 0, 2, 1]]);
    expect(out.udpEncapsulation).toEqual({ sourcePort: 4500, destinationPort: 4501 });
    expect(inb.udpEncapsulation).toEqual({ sourcePort: 4501, destinationPort: 4500 });
    expect([out.spi, inb.spi]).toEqual([0x1001, 0x1002]);
  });

  it('hands out fresh key buffers on every call, and none after dispose', () => {
    const text = `${HEAD}${GATEWAY}spd:\n${SIT_ENTRY}manualKeys:\n  - { policy: sit-b, direction: outbound, spi: 0x1001, key: "${KEY_20}" }\n`;
    const { config } = parseConfigText(text, 'test.yaml');
    const first = config.manualSecurityAssociations()[0];
    first.keyAndSalt.fill(0); // what the SAD does after install
    expect(Buffer.from(config.manualSecurityAssociations()[0].keyAndSalt).toString('hex')).toBe(KEY_20.slice(2));
    config.dispose();
    expect(() => config.manualSecurityAssociations()).toThrow(DisposedConfigError);
  });

  it('reports every issue of a broken file with its path and line', () => {
    const text = `version: 1
name: site-a
interfaces:
  red: { name: red }
  black: { name: red }
gateway:
  redAddress: 2001:db8:a::1/64
  tep: 192.0.2.1/24
  routerAdvertisements: { enabled: yes }
peers:
  - name: b
    tep: 198.51.100.7
    prefixes: [2001:db8:b::/48]
  - name: c
    tep: 192.0.2.3
    prefixes: [2001:db8:b:1::/64]
spd:
${SIT_ENTRY}  - id: 2
    name: tunnel-c
    local: 2001:db8:a::/64
    remote: 2001:db8:b::/48
    action: protect
    protect:
      mode: tunnel
      tunnel: { local: 192.0.2.9, remote: 192.0.2.3 }
      algorithms: [aes-gcm-16-256]
  - id: 3
    name: pass
    action: bypass
manualKeys:
  - policy: sit-b
    direction: outbound
    spi: 0x1001
    algorithm: aes-gcm-16-256
    key: "${KEY_36}"
  - policy: pass
    direction: inbound
    spi: 0x1002
    key: "${KEY_20}"
  - policy: sit-b
    direction: inbound
    spi: 255
    key: "0x0011223344556677"
  - policy: missing
    direction: inbound
    spi: 0x1003
    key: "zz"
`;
    const e = rejection(text);
    expect(where(e)).toEqual([
      `gateway.routerAdvertisements.enabled@${lineOf(text, 'enabled: yes')}`,
      `interfaces.black.name@${lineOf(text, 'black: { name: red }')}`,
      `manualKeys[0].algorithm@${lineOf(text, 'algorithm: aes-gcm-16-256')}`,
      `manualKeys[1].policy@${lineOf(text, 'policy: pass')}`,
      `manualKeys[2].key@${lineOf(text, '0x0011223344556677')}`,
      `manualKeys[2].spi@${lineOf(text, 'spi: 255')}`,
      `manualKeys[3].key@${lineOf(text, 'key: "zz"')}`,
      `manualKeys[3].policy@${lineOf(text, 'policy: missing')}`,
      `peers[0].tep@${lineOf(text, '198.51.100.7')}`,
      `peers[1].prefixes[0]@${lineOf(text, '2001:db8:b:1::/64')}`,
      `spd[1].protect.tunnel.local@${lineOf(text, '192.0.2.9')}`,
    ].sort());
    const message = (path: string) => e.issues.find((i) => i.path === path)!.message;
    expect(message('peers[0].tep')).toContain('set gateway.nextHop');
    expect(message('peers[1].prefixes[0]')).toContain('overlaps peers[0].prefixes[0] (2001:db8:b::/48)');
    expect(message('manualKeys[0].algorithm')).toContain('not in spd[0].protect.algorithms (aes-gcm-16-128)');
    expect(message('manualKeys[1].policy')).toContain('has action "bypass"');
    expect(message('manualKeys[2].key')).toBe('is 8 bytes: aes-gcm-16-128 needs 20 (a 16-byte key followed by the 4-byte salt)');
    expect(message('spd[1].protect.tunnel.local')).toContain('use gateway.tep (192.0.2.1)');
    // The error names the file and line of each issue, in file order.
    expect(e.message.split('\n')[0]).toBe(`test.yaml:5: interfaces.black.name: "red" is also the red interface: red and black must be different NICs`);
    expect(e.issues.map((i) => i.line)).toEqual(e.issues.map((i) => i.line).slice().sort((a, b) => a - b));
  });

  it('cites the line of SPD and PAD issues reported by the policy layer', () => {
    const text = `${HEAD}spd:
  - id: 1
    name: x
    action: protect
    protect: { mode: transport, algorithms: [aes-cbc] }
pad:
  - id: 1
    name: peer
    identity: { type: ipv4, value: 192.0.2.2 }
    auth: { method: psk, psk: "0x0102" }
    childSa: { local: [{ address: any }], remote: [{ address: any }] }
`;
    expect(where(rejection(text))).toEqual([
      `pad[0].auth.psk@${lineOf(text, 'psk:')}`,
      `spd[0].protect.algorithms[0]@${lineOf(text, 'aes-cbc')}`,
    ]);
  });

  it('reports unknown fields, a missing version and wrong types anywhere in the file', () => {
    const text = `name: x
colour: blue
interfaces:
  red: { name: red, mtu: 9000, speed: 10 }
  black: { name: black, mtu: 40 }
bridgeIpv4: "yes"
spd: []
`;
    expect(where(rejection(text))).toEqual([
      `bridgeIpv4@${lineOf(text, 'bridgeIpv4')}`,
      `colour@${lineOf(text, 'colour')}`,
      `interfaces.black.mtu@${lineOf(text, 'mtu: 40')}`,
      `interfaces.red.speed@${lineOf(text, 'speed')}`,
      'version@1',
    ].sort());
  });

  it('requires the gateway role for tunnel-mode entries, ending at a peer', () => {
    const tunnelEntry = `spd:
  - id: 1
    name: tun
    local: 2001:db8:a::/64
    remote: 2001:db8:b::/48
    action: protect
    protect: { mode: tunnel, tunnel: { local: 192.0.2.1, remote: 192.0.2.2 }, algorithms: [aes-gcm-16-128] }
`;
    const transparent = `${HEAD}${tunnelEntry}`;
    const e = rejection(transparent);
    expect(where(e)).toEqual([`spd[0].protect.mode@${lineOf(transparent, 'mode: tunnel')}`]);
    expect(e.issues[0].message).toContain('add a gateway block');
    const noPeer = `${HEAD}${GATEWAY}${tunnelEntry}`;
    const e2 = rejection(noPeer);
    expect(where(e2)).toEqual([`spd[0].protect.tunnel.remote@${lineOf(noPeer, 'mode: tunnel')}`]);
    expect(e2.issues[0].message).toBe('192.0.2.2 is not the TEP of any peer: add it under peers with the prefixes behind it');
    // IPv4 selectors: the far gateway could only drop what such an entry seals.
    const ipv4 = `${HEAD}${GATEWAY}peers:
  - { name: b, tep: 192.0.2.2, prefixes: [2001:db8:b::/48] }
${tunnelEntry.replace('2001:db8:a::/64', '198.51.100.0/24').replace('2001:db8:b::/48', '203.0.113.0/24')}`;
    const e3 = rejection(ipv4);
    expect(where(e3)).toEqual([`spd[0].local@${lineOf(ipv4, '198.51.100.0/24')}`]);
    expect(e3.issues[0].message).toContain('tunnel mode carries the red site\'s IPv6');
  });

  it('checks peers against the gateway: own TEP, on-link unless a next hop is set, IPv6 prefixes only', () => {
    const peers = `peers:
  - { name: self, tep: 192.0.2.1, prefixes: [2001:db8:c::/48] }
  - { name: far, tep: 203.0.113.9, prefixes: [10.0.0.0/8] }
spd: []
`;
    const text = `${HEAD}${GATEWAY}${peers}`;
    expect(where(rejection(text))).toEqual([
      `peers[0].tep@${lineOf(text, 'name: self')}`,
      `peers[1].prefixes[0]@${lineOf(text, 'name: far')}`,
      `peers[1].tep@${lineOf(text, 'name: far')}`,
    ]);
    const routed = `${HEAD}${GATEWAY}  nextHop: 192.0.2.254\npeers:\n  - { name: far, tep: 203.0.113.9, prefixes: [2001:db8:c::/48] }\nspd: []\n`;
    const { config } = parseConfigText(routed, 'test.yaml');
    expect(config.gateway!.nextHop).toBe(0xc000_02fe);
    expect(config.peers[0]).toMatchObject({ name: 'far', tep: 0xcb00_7109, prefixes: [{ range: { family: 6 }, length: 48 }] });
  });

  it('rejects interface addresses that are not host addresses', () => {
    const text = `${HEAD}gateway:
  redAddress: ff02::1/64
  tep: 192.0.2.255/24
  nextHop: 192.0.2.1
spd: []
`;
    const e = rejection(text);
    expect(where(e)).toEqual([`gateway.redAddress@${lineOf(text, 'ff02')}`, `gateway.tep@${lineOf(text, 'tep:')}`]);
    expect(e.issues.find((i) => i.path === 'gateway.tep')!.message).toContain('broadcast address of 192.0.2.0/24');
  });

  it('refuses a next hop that is the TEP itself or off the TEP subnet', () => {
    const withHop = (hop: string) => `${HEAD}${GATEWAY}  nextHop: ${hop}\nspd: []\n`;
    const own = rejection(withHop('192.0.2.1'));
    expect(where(own)).toEqual([`gateway.nextHop@${lineOf(withHop('192.0.2.1'), 'nextHop')}`]);
    expect(own.issues[0].message).toBe('is the gateway\'s own TEP 192.0.2.1/24: use the address of the IPv4 router on black');
    const far = rejection(withHop('198.51.100.1'));
    expect(where(far)).toEqual([`gateway.nextHop@${lineOf(withHop('198.51.100.1'), 'nextHop')}`]);
    expect(far.issues[0].message).toBe('198.51.100.1 is not on-link with gateway.tep 192.0.2.1/24: use a router inside that subnet');
  });

  it('accepts a /31 and a /32 TEP, where no address is the subnet or broadcast address', () => {
    const pointToPoint = `${HEAD}gateway:\n  redAddress: 2001:db8:a::1/64\n  tep: 192.0.2.0/31\n  nextHop: 192.0.2.1\nspd: []\n`;
    expect(parseConfigText(pointToPoint, 'test.yaml').config.gateway).toMatchObject({ tep: 0xc000_0200, tepPrefixLength: 31, nextHop: 0xc000_0201 });
    const host = `${HEAD}gateway:\n  redAddress: 2001:db8:a::1/64\n  tep: 192.0.2.1/32\nspd: []\n`;
    expect(parseConfigText(host, 'test.yaml').config.gateway).toMatchObject({ tep: 0xc000_0201, tepPrefixLength: 32, nextHop: null });
  });

  it('rejects a link-local red address', () => {
    const text = `${HEAD}gateway:\n  redAddress: fe80::1/64\n  tep: 192.0.2.1/24\nspd: []\n`;
    const e = rejection(text);
    expect(where(e)).toEqual([`gateway.redAddress@${lineOf(text, 'fe80')}`]);
    expect(e.issues[0].message).toContain('is link-local');
  });

  it('needs explicit SA addresses when a transport selector is a range, and keeps them inside it', () => {
    const text = `${HEAD}spd:
  - id: 1
    name: net
    local: 192.0.2.0/24
    remote: 192.0.2.200
    protocol: 41
    action: protect
    protect: { mode: transport, algorithms: [aes-gcm-16-128], lifetime: { hardSeconds: 0 } }
manualKeys:
  - { policy: net, direction: outbound, spi: 0x1001, key: "${KEY_20}" }
  - { policy: net, direction: inbound, spi: 0x1002, key: "${KEY_20}", destination: 198.51.100.1 }
`;
    const e = rejection(text);
    expect(where(e)).toEqual([
      `manualKeys[0].source@${lineOf(text, 'spi: 0x1001')}`,
      `manualKeys[1].destination@${lineOf(text, 'spi: 0x1002')}`,
    ]);
    expect(e.issues[0].message).toContain('spd[0].local is 192.0.2.0/24, not a single address');
    expect(e.issues[1].message).toContain('198.51.100.1 is outside spd[0].local (192.0.2.0/24)');
    const fixed = text.replace('key: "' + KEY_20 + '" }', `key: "${KEY_20}", source: 192.0.2.5 }`).replace('198.51.100.1', '192.0.2.6');
    const [out, inb] = parseConfigText(fixed, 'test.yaml').config.manualSecurityAssociations();
    expect([Array.from(out.source), Array.from(out.destination)]).toEqual([[192, 0, 2, 5], [192, 0, 2, 200]]);
    expect([Array.from(inb.source), Array.from(inb.destination)]).toEqual([[192, 0, 2, 200], [192, 0, 2, 6]]);
  });

  it('holds SA lifetimes and replay windows to the SA layer\'s edges, naming the file\'s fields', () => {
    const text = `${HEAD}spd:
  - id: 1
    name: sit-b
    local: 192.0.2.1
    remote: 192.0.2.2
    protocol: 41
    action: protect
    protect:
      mode: transport
      algorithms: [aes-gcm-16-128]
      replayWindow: 31
      lifetime: { hardSeconds: 0, softPackets: 1000, hardPackets: 1000 }
manualKeys:
  - { policy: sit-b, direction: inbound, spi: 0x1002, key: "${KEY_20}" }
`;
    const e = rejection(text);
    expect(where(e)).toEqual([
      `spd[0].protect.lifetime.softPackets@${lineOf(text, 'lifetime:')}`,
      `spd[0].protect.replayWindow@${lineOf(text, 'replayWindow: 31')}`,
    ]);
    expect(e.message).toContain('spd[0].protect.replayWindow: 31 is not a window: use a whole number of packets from 32 to 4096 (RFC 4303 §3.4.3)');
    expect(e.message).toContain('spd[0].protect.lifetime.softPackets: 1000 must be below the hard limit of 1000 packets');
    const fixed = text.replace('replayWindow: 31', 'replayWindow: 100').replace('softPackets: 1000', 'softPackets: 999');
    const [sa] = parseConfigText(fixed, 'test.yaml').config.manualSecurityAssociations();
    expect(sa).toMatchObject({ replayWindow: 100, lifetime: { soft: { packets: 999 }, hard: { seconds: 0, packets: 1000 } } });
    expect(() => validateSaConfig(sa)).not.toThrow();
  });

  it('keeps SPIs unique and one outbound SA per entry', () => {
    const text = `${HEAD}spd:
  - id: 1
    name: sit-b
    local: 192.0.2.1
    remote: 192.0.2.2
    protocol: 41
    action: protect
    protect: { mode: transport, algorithms: [aes-gcm-16-128], lifetime: { hardSeconds: 0 } }
manualKeys:
  - { policy: sit-b, direction: outbound, spi: 0x1001, key: "${KEY_20}" }
  - { policy: sit-b, direction: outbound, spi: 0x1001, key: "${KEY_20}" }
  - { policy: sit-b, direction: inbound, spi: 0x1002, key: "${KEY_20}" }
  - { policy: sit-b, direction: inbound, spi: 0x1002, key: "${KEY_20}" }
`;
    const e = rejection(text);
    const line = (n: number) => lineOf(text, '  - { policy') + n;
    expect(where(e)).toEqual([
      `manualKeys[1].policy@${line(1)}`,
      `manualKeys[1].spi@${line(1)}`,
      `manualKeys[3].spi@${line(3)}`,
    ]);
    expect(e.issues.find((i) => i.path === 'manualKeys[3].spi')!.message).toContain('0x00001002 is already the SPI of inbound manualKeys[2]');
  });

  it('reports YAML problems with their lines and reads nothing else', () => {
    const dup = `version: 1\nname: a\nname: b\n`;
    expect(where(rejection(dup))).toEqual(['@3']);
    expect(rejection(dup).issues[0].message).toContain('unique');
    expect(rejection('version: 1\n---\nversion: 1\n').issues[0].message).toContain('multiple documents');
    expect(rejection('').issues[0].message).toContain('empty');
    expect(rejection('- 1\n- 2\n').issues[0].message).toContain('must be a YAML mapping');
  });

  it('warns about SPD entries that earlier entries shadow', () => {
    const text = `${HEAD}spd:
  - { id: 9, name: all, action: bypass }
${SIT_ENTRY}pad:
  - id: 1
    name: b
    identity: { type: ipv4, value: 192.0.2.2 }
    auth: { method: certificate, trustAnchor: ca }
    childSa: { local: [{ address: any }], remote: [{ address: any }] }
`;
    const { warnings } = parseConfigText(text, 'test.yaml');
    expect(warnings.map((w) => `${w.path}@${w.line}`)).toEqual([`spd[1]@${lineOf(text, '  - id: 1')}`]);
    expect(warnings[0].message).toBe('"sit-b" can never match: spd[0] "all" cover all its traffic with a different action, so its own action is never applied; move it up or remove it');
  });
});

describe('secrets', () => {
  const PSK = '0x' + 'a5'.repeat(32);
  const withSecrets = `${HEAD}spd:
${SIT_ENTRY}pad:
  - id: 1
    name: b
    identity: { type: ipv4, value: 192.0.2.2 }
    auth: { method: psk, psk: "${PSK}" }
    childSa: { local: [{ address: 192.0.2.1 }], remote: [{ address: 192.0.2.2 }] }
manualKeys:
  - { policy: sit-b, direction: outbound, spi: 0x1001, key: "${KEY_20}" }
  - { policy: sit-b, direction: inbound, spi: 0x1002, key: "${KEY_20}" }
`;
  /** Every text form of the key bytes a careless serializer could produce. */
  function leaks(text: string): boolean {
    const key = KEY_20.slice(2);
    const bytes = Array.from(Buffer.from(key, 'hex'));
    return [key, key.toUpperCase(), PSK.slice(2), bytes.join(','), bytes.join(', '), Buffer.from(key, 'hex').toString('base64')]
      .some((form) => text.includes(form));
  }

  it('never show in JSON, toString or inspect of a loaded configuration', () => {
    const { config } = parseConfigText(withSecrets, 'test.yaml');
    expect(leaks(JSON.stringify(config))).toBe(false);
    expect(leaks(String(config))).toBe(false);
    expect(leaks(inspect(config, { depth: null }))).toBe(false);
    expect(JSON.stringify(config)).toContain('[redacted]');
    // ...while the SAD still gets them.
    expect(Buffer.from(config.manualSecurityAssociations()[0].keyAndSalt).toString('hex')).toBe(KEY_20.slice(2));
  });

  it('never show in errors, whatever field the key text ends up in', () => {
    const misplaced = withSecrets
      .replace('spi: 0x1001', `spi: "${KEY_20}"`)
      .replace('policy: sit-b, direction: inbound', `policy: "${KEY_20}", direction: inbound`)
      .replace(`psk: "${PSK}"`, `psk: "${PSK.slice(0, 20)}"`)
      + `  - { policy: sit-b, direction: inbound, spi: 0x1003, key: "${KEY_20}00", source: "${KEY_20}" }\n`
      + `  - { policy: sit-b, direction: outbound, spi: 0x1004, key: ${KEY_20.slice(2).replace(/[a-f]/g, '1')} }\n`;
    const e = rejection(misplaced);
    expect(e.issues.length).toBeGreaterThanOrEqual(5);
    expect(leaks(e.message) || leaks(JSON.stringify(e.issues)) || leaks(inspect(e))).toBe(false);
    expect(leaks(e.message.replace(/[a-f]/g, '1'))).toBe(false);
    expect(e.message).not.toContain(KEY_20.slice(2).replace(/[a-f]/g, '1').slice(0, 16));
  });

  it('are wiped by dispose', () => {
    const { config } = parseConfigText(withSecrets, 'test.yaml');
    config.dispose();
    expect(config.manualKeys.every((k) => k.keyAndSalt.zeroized)).toBe(true);
    const auth = config.pad.entries[0].auth;
    expect(auth.method === 'psk' && auth.psk.zeroized).toBe(true);
  });

  it('stay out of YAML syntax errors on the key line', () => {
    const e = rejection(`${HEAD}spd: []\nmanualKeys:\n  - { policy: a, key: "${KEY_20} }\n`);
    expect(e.issues.length).toBeGreaterThan(0);
    expect(leaks(e.message)).toBe(false);
  });
});

describe('ApplianceConfig', () => {
  it('is immutable', () => {
    const { config } = parseConfigText(`${HEAD}${GATEWAY}spd: []\n`, 'test.yaml');
    expect(() => { (config as { name: string }).name = 'other'; }).toThrow(TypeError);
    expect(() => { (config.peers as unknown[]).push({}); }).toThrow(TypeError);
    expect(() => { (config.gateway as { tep: number }).tep = 1; }).toThrow(TypeError);
  });
});

describe('loadConfigFile', () => {
  it('loads a file, and names it in errors, with a line-less issue when it cannot be read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rb-config-'));
    try {
      const file = join(dir, 'bad.yaml');
      writeFileSync(file, `${HEAD}spd: []\nextra: 1\n`);
      expect(() => loadConfigFile(file)).toThrow(`${file}:7: extra: unknown field`);
      writeFileSync(file, `${HEAD}spd: []\n`);
      expect(loadConfigFile(file).config.name).toBe('site-a');
      const missing = loadConfigFile.bind(null, join(dir, 'none.yaml'));
      expect(missing).toThrow(ConfigError);
      expect(missing).toThrow(/none\.yaml: cannot read the file \(ENOENT\)/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
