import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AEAD_OP_STRIDE, AeadStatus, ESP_HEADER_BYTES, ESP_ICV_BYTES } from '../../src/crypto/aead.js';
import { NobleAeadBackend } from '../../src/crypto/noble-backend.js';
import { SecurityAssociationDatabase } from '../../src/ipsec/sad.js';
import type { SecurityAssociation } from '../../src/ipsec/security-association.js';
import { loadConfigFile } from '../../src/config/load-config.js';
import { SpdAction } from '../../src/policy/spd.js';

const EXAMPLES = join(import.meta.dirname, '../../examples');
const exampleFiles = readdirSync(EXAMPLES).filter((f) => f.endsWith('.yaml')).sort();

function load(file: string) {
  return loadConfigFile(join(EXAMPLES, file));
}

function ipv4(a: number, b: number, c: number, d: number): number {
  return ((a << 24) | (b << 16) | (c << 8) | d) >>> 0;
}

/** Installs `file`'s manual SAs into a fresh SAD and returns them by direction. */
function installed(file: string, backend: NobleAeadBackend): { outbound: SecurityAssociation; inbound: SecurityAssociation } {
  const { config } = load(file);
  const sad = new SecurityAssociationDatabase({ backend, warn: () => {} });
  const sas = config.manualSecurityAssociations().map((c) => sad.installManual(c, 0));
  config.dispose();
  return { outbound: sas.find((s) => s.direction === 'outbound')!, inbound: sas.find((s) => s.direction === 'inbound')! };
}

/** Seals a packet with `sender` and opens it with `receiver`; returns the open status and text. */
function sealThenOpen(backend: NobleAeadBackend, sender: SecurityAssociation, receiver: SecurityAssociation): { status: number; text: number[] } {
  const text = [0x60, 0, 0, 0, 1, 2, 3, 4];
  const buf = new Uint8Array(ESP_HEADER_BYTES + text.length + ESP_ICV_BYTES);
  new DataView(buf.buffer).setUint32(0, sender.spi);
  new DataView(buf.buffer).setUint32(4, 1);
  buf.set(text, ESP_HEADER_BYTES);
  const ops = new Int32Array(AEAD_OP_STRIDE);
  const status = new Uint8Array(1);
  ops[0] = sender.handle; ops[1] = 0; ops[2] = text.length; ops[3] = 0;
  backend.sealBatch(buf, ops, 1, status);
  expect(status[0]).toBe(AeadStatus.Ok);
  ops[0] = receiver.handle;
  backend.openBatch(buf, ops, 1, status);
  return { status: status[0], text: Array.from(buf.subarray(ESP_HEADER_BYTES, ESP_HEADER_BYTES + text.length)) };
}

describe('examples/', () => {
  it('holds the RFC 4891, transparent and lab examples', () => {
    expect(exampleFiles).toEqual([
      'lab-a.yaml', 'lab-b.yaml', 'lab-tunnel-a.yaml', 'lab-tunnel-b.yaml',
      'rfc4891-a2-host1.yaml', 'rfc4891-a2-host2.yaml', 'rfc4891-a3-host.yaml', 'rfc4891-a3-router.yaml',
      'rfc4891-router1.yaml', 'rfc4891-router2.yaml',
      'transparent-6in4.yaml', 'transparent-ipip.yaml',
    ]);
  });

  it.each(exampleFiles)('%s loads, and its only warning is the lab-only note on manual keys', (file) => {
    const { config, warnings } = load(file);
    expect(warnings.map((w) => w.path)).toEqual(['manualKeys']);
    expect(warnings[0].message).toContain('RFC 4891 §6');
    expect(config.manualKeys.length).toBe(2);
    config.dispose();
  });

  it('RFC 4891 §5.1: Router1 is a gateway with one PAD entry (its SPD, row by row: rfc4891-tables.test.ts)', () => {
    const { config } = load('rfc4891-router1.yaml');
    expect(config.role).toBe('gateway');
    expect(config.pad.entries).toHaveLength(1);
    config.dispose();
  });

  it('RFC 4891 App. A: tunnel-mode examples run between the gateway TEP and a peer TEP', () => {
    for (const file of exampleFiles.filter((f) => f.startsWith('rfc4891-a'))) {
      const { config } = load(file);
      const protect = config.spd.entries.find((e) => e.protect !== null)!.protect!;
      expect(protect.mode).toBe('tunnel');
      expect(protect.tunnel!.local).toBe(BigInt(config.gateway!.tep));
      expect(config.peers.map((p) => BigInt(p.tep))).toContain(protect.tunnel!.remote);
      config.dispose();
    }
  });

  it('the transparent examples have no gateway and protect the router tunnels (protocols 41 and 4) in transport mode', () => {
    for (const [file, protocol] of [['transparent-6in4.yaml', 41], ['transparent-ipip.yaml', 4]] as const) {
      const { config } = load(file);
      expect(config.role).toBe('transparent');
      expect(config.spd.entries).toHaveLength(1);
      expect(config.spd.entries[0].selector.protocol).toBe(protocol);
      expect(config.spd.entries[0].protect!.mode).toBe('transport');
      config.dispose();
    }
  });

  it('lab-a and lab-b are mirror images on the lab addressing plan', () => {
    const a = load('lab-a.yaml').config;
    const b = load('lab-b.yaml').config;
    expect(a.gateway!.tep).toBe(ipv4(192, 0, 2, 1));
    expect(b.gateway!.tep).toBe(ipv4(192, 0, 2, 2));
    expect(a.peers.map((p) => [p.name, p.tep])).toEqual([['rb-b', ipv4(192, 0, 2, 2)]]);
    expect(b.peers.map((p) => [p.name, p.tep])).toEqual([['rb-a', ipv4(192, 0, 2, 1)]]);
    expect(a.toJSON()).toMatchObject({ gateway: { redAddress: '2001:db8:a::1/64' }, peers: [{ prefixes: ['2001:db8:b::/64'] }] });
    expect(b.toJSON()).toMatchObject({ gateway: { redAddress: '2001:db8:b::1/64' }, peers: [{ prefixes: ['2001:db8:a::/64'] }] });
    const bypass = a.spd.entries.find((e) => e.action === SpdAction.Bypass)!;
    expect(bypass.selector.local!.lo).toBe(BigInt(ipv4(198, 51, 100, 0)));
    expect(bypass.selector.remote!.hi).toBe(BigInt(ipv4(198, 51, 100, 255)));
    expect(a.bridgeIpv4 && b.bridgeIpv4).toBe(true);
    a.dispose();
    b.dispose();
  });

  it.each([
    ['lab-a.yaml', 'lab-b.yaml'],
    ['lab-tunnel-a.yaml', 'lab-tunnel-b.yaml'],
    ['rfc4891-router1.yaml', 'rfc4891-router2.yaml'],
    ['rfc4891-a2-host1.yaml', 'rfc4891-a2-host2.yaml'],
    ['rfc4891-a3-host.yaml', 'rfc4891-a3-router.yaml'],
  ])('%s seals what %s opens, in both directions, with matching SPIs and addresses', (fileA, fileB) => {
    const backend = new NobleAeadBackend();
    const a = installed(fileA, backend);
    const b = installed(fileB, backend);
    for (const [sender, receiver] of [[a.outbound, b.inbound], [b.outbound, a.inbound]]) {
      expect(receiver.spi).toBe(sender.spi);
      expect(Array.from(receiver.destination)).toEqual(Array.from(sender.destination));
      expect(Array.from(receiver.source)).toEqual(Array.from(sender.source));
      expect(sealThenOpen(backend, sender, receiver)).toEqual({ status: AeadStatus.Ok, text: [0x60, 0, 0, 0, 1, 2, 3, 4] });
    }
    // A site's own outbound and inbound keys differ: a packet cannot be reflected back to it.
    expect(sealThenOpen(backend, a.outbound, a.inbound).status).toBe(AeadStatus.AuthFailed);
  });
});
