/**
 * Interop with an independent ESP implementation: scapy 2.5 (Debian python3-scapy) decrypts
 * what redblack sealed, and redblack opens what scapy sealed, through test/ipsec/scapy_esp.py.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { AEAD_ALGORITHMS, type AeadAlgorithm } from '../../src/crypto/aead.js';
import { EspStatus } from '../../src/ipsec/esp.js';
import type { EspMode } from '../../src/ipsec/security-association.js';
import { EspLab, V4_A, V4_B, V6_A, V6_B, availableBackends, keyFor, writeIpv4Packet, writeIpv6Packet } from './esp-fixtures.js';

const PYTHON = '/usr/bin/python3';
const SCRIPT = fileURLToPath(new URL('./scapy_esp.py', import.meta.url));
const scapyReady = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import scapy.layers.ipsec'], { timeout: 30_000 }).status === 0;

const SCAPY_ALG: Record<AeadAlgorithm, string> = {
  'aes-gcm-16-128': 'AES-GCM',
  'aes-gcm-16-256': 'AES-GCM',
  'chacha20-poly1305': 'CHACHA20-POLY1305',
};
/** Experimental protocol number (RFC 3692): scapy keeps the payload as raw bytes. */
const EXPERIMENTAL = 253;

interface Layout {
  name: string;
  mode: EspMode;
  outer: 4 | 6;
  inner: 4 | 6;
  natT: boolean;
  esn: boolean;
}

const LAYOUTS: Layout[] = [
  { name: 'transport, IPv4', mode: 'transport', outer: 4, inner: 4, natT: false, esn: false },
  { name: 'transport, IPv6', mode: 'transport', outer: 6, inner: 6, natT: false, esn: false },
  { name: 'tunnel, IPv4 in IPv4', mode: 'tunnel', outer: 4, inner: 4, natT: false, esn: false },
  { name: 'tunnel, IPv6 in IPv6', mode: 'tunnel', outer: 6, inner: 6, natT: false, esn: false },
  { name: 'tunnel, IPv6 in IPv4', mode: 'tunnel', outer: 4, inner: 6, natT: false, esn: false },
  { name: 'tunnel, IPv6 in IPv4, ESP-in-UDP 4500', mode: 'tunnel', outer: 4, inner: 6, natT: true, esn: false },
  { name: 'tunnel, IPv4 in IPv6, ESP-in-UDP', mode: 'tunnel', outer: 6, inner: 4, natT: true, esn: false },
  { name: 'transport, IPv4, ESP-in-UDP', mode: 'transport', outer: 4, inner: 4, natT: true, esn: false },
  { name: 'tunnel, IPv4 in IPv4, ESN past 2^32', mode: 'tunnel', outer: 4, inner: 4, natT: false, esn: true },
];

const text = (a: Uint8Array) => (a.length === 4 ? a.join('.') : [...Array(8)].map((_, i) => ((a[2 * i] << 8) | a[2 * i + 1]).toString(16)).join(':'));
const hex = (a: Uint8Array) => Buffer.from(a).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));

interface ScapyOp {
  op: 'encrypt' | 'decrypt';
  alg: string;
  key: string;
  spi: number;
  tunnel: { src: string; dst: string } | null;
  natT: { sport: number; dport: number } | null;
  esnHigh: number | null;
  seq: number;
  packet: string;
}

function scapy(ops: ScapyOp[]): ({ packet: string } | { error: string })[] {
  const run = spawnSync(PYTHON, [SCRIPT], { input: JSON.stringify({ ops }), timeout: 120_000, maxBuffer: 64 << 20 });
  if (run.status !== 0) throw new Error(`scapy_esp.py failed: ${run.stderr.toString()}`);
  return JSON.parse(run.stdout.toString()).results;
}

/** One interop case: its clear packet, a redblack SA pair, and the scapy view of the same SA. */
function prepareCase(lab: EspLab, alg: AeadAlgorithm, layout: Layout, spi: number) {
  const payload = new Uint8Array(37 + spi % 50).map((_, i) => (i * 7 + spi) & 0xff);
  const innerVersion = layout.mode === 'transport' ? layout.outer : layout.inner;
  const [src, dst] = layout.outer === 4 ? [V4_A, V4_B] : [V6_A, V6_B];
  lab.build(0, (b, off) => innerVersion === 4
    ? writeIpv4Packet(b, off, { protocol: EXPERIMENTAL, payload, src: V4_A, dst: V4_B })
    : writeIpv6Packet(b, off, { nextHeader: EXPERIMENTAL, payload, src: V6_A, dst: V6_B }));
  const clear = lab.packet(0);
  const pair = lab.pair({
    spi, mode: layout.mode, source: src, destination: dst, algorithm: alg, esn: layout.esn,
    udpEncapsulation: layout.natT ? { sourcePort: 4500, destinationPort: 4500 } : undefined,
  });
  const view: Omit<ScapyOp, 'op' | 'packet' | 'seq'> = {
    alg: SCAPY_ALG[alg], key: hex(keyFor(alg, spi)), spi,
    tunnel: layout.mode === 'tunnel' ? { src: text(src), dst: text(dst) } : null,
    natT: layout.natT ? { sport: 4500, dport: 4500 } : null,
    esnHigh: layout.esn ? 1 : null,
  };
  if (layout.esn) {
    pair.out.lastSeq = 2 ** 32 + 4;
    for (const [high, low] of [[0, 0x7000_0000], [0, 0xe000_0000], [1, 1]]) pair.in.replay!.update(high, low);
  }
  return { clear, pair, view };
}

for (const backend of availableBackends()) {
  describe.skipIf(!scapyReady)(`ESP interop with scapy over the ${backend.name} backend`, () => {
    it('scapy decrypts what redblack sealed, and redblack opens what scapy sealed', () => {
      const cases = [];
      let spi = 0x1_0000;
      for (const alg of AEAD_ALGORITHMS) {
        for (const layout of LAYOUTS) {
          const lab = new EspLab(backend);
          const c = prepareCase(lab, alg, layout, spi++);
          expect(lab.seal(c.pair.out, [0])).toEqual([EspStatus.Ok]);
          cases.push({ alg, layout, lab, ...c, sealed: lab.packet(0) });
        }
      }
      const results = scapy(cases.flatMap((c) => [
        { ...c.view, op: 'decrypt' as const, seq: 0, packet: hex(c.sealed) },
        { ...c.view, op: 'encrypt' as const, seq: 7, packet: hex(c.clear) },
      ]));
      cases.forEach((c, n) => {
        const label = `${c.alg}, ${c.layout.name}`;
        const decrypted = results[2 * n];
        expect('packet' in decrypted ? decrypted.packet : decrypted.error, `scapy decrypt: ${label}`).toBe(hex(c.clear));
        const sealed = results[2 * n + 1];
        expect('packet' in sealed, `scapy encrypt: ${label} ${'error' in sealed ? sealed.error : ''}`).toBe(true);
        c.lab.load(1, unhex((sealed as { packet: string }).packet));
        expect(c.lab.open([1]), `redblack open: ${label}`).toEqual([EspStatus.Ok]);
        expect(hex(c.lab.packet(1)), `redblack open: ${label}`).toBe(hex(c.clear));
      });
    }, 120_000);
  });
}
