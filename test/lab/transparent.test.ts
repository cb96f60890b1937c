/**
 * The transparent protector (RFC 4891 §5.1, RFC 3884 IIPtran) with real appliances on real
 * veths: router A (the lab's red-a) -- [rb-a] -- wan -- [rb-b] -- router B (red-b), the routers'
 * IPv4 addresses on one subnet bridged through the appliances, which own no address. The host
 * kernel has no sit or ipip module, so the routers send and receive their tunnel packets
 * (protocol 41, protocol 4) on raw sockets (test/lab/raw-ip-peer.py), byte for byte. Both tunnel
 * types run against the fixtures test/fixtures/lab/transparent-{6in4,ipip}-{a,b}.yaml, which
 * protect the tunnel with ESP transport and bypass any other IPv4 between the routers.
 * The appliances run from dist/ (`npm test` builds first; run `npm run build` before running
 * this file alone). Namespace prefix rm-tp-.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { startLabAppliances } from '../../src/lab/appliance.js';
import { startWanCapture } from '../../src/lab/capture.js';
import { inNamespace, runCommand } from '../../src/lab/command.js';
import type { LabAppliances } from '../../src/lab/lab-appliances.js';
import { pingFrom } from '../../src/lab/ping.js';
import { buildLabTopology, destroyLabTopology, LAB_INTERFACES, type LabTopology } from '../../src/lab/topology.js';
import { summarizeCapture } from '../../src/lab/wire-summary.js';
import { DROP_REASON_NAMES, DropReason } from '../../src/dataplane/drop-reason.js';
import { packageRoot } from '../../src/platform/package-root.js';
import { parseIpv6 } from '../../src/policy/address-text.js';
import { internetChecksum } from '../../src/wire/checksum.js';

const PREFIX = 'rm-tp-';
const ROOT = packageRoot();
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'lab');
/** Debian's python (the one on PATH may be a pyenv one without scapy, which inject.py needs). */
const PYTHON = '/usr/bin/python3';
const RAW_IP_PEER = path.join(ROOT, 'test', 'lab', 'raw-ip-peer.py');
const INJECT = path.join(ROOT, 'test', 'lab', 'inject.py');

/** The routers' tunnel endpoints (the fixtures' SPD selectors), on the routers' shared /24. */
const ROUTER_A = '192.0.2.1';
const ROUTER_B = '192.0.2.2';
const ROUTER_PREFIX_LENGTH = 24;
const ICMP = 1;
/**
 * The largest packet that fits a 1500-byte black MTU after ESP transport with AES-GCM (RFC 4303
 * §2, RFC 4106 §3): 1500 - 20 (IPv4) - 8 (SPI, sequence number) - 8 (IV) - 2 (pad length, next
 * header) - 16 (ICV) = 1446 bytes of payload, already a multiple of 4 with its 2 trailer bytes,
 * so no padding; plus the router's own 20-byte header: 1466.
 */
const LARGEST_FITTING = 1466;
/** Marks every payload the routers send, to search the wan capture for it in clear. */
const MARKER = Buffer.from('redblack-transparent-plaintext');

const CLEAR_WHERE_ESP = DROP_REASON_NAMES[DropReason.ClearWherePolicyRequiresEsp];
const INGRESS_FILTER = DROP_REASON_NAMES[DropReason.IngressFilter];
const DONT_FRAGMENT = DROP_REASON_NAMES[DropReason.DontFragment];

interface ApplianceStatus {
  role: string;
  sas: { direction: 'inbound' | 'outbound'; spi: string; counters: { packets: number } }[];
  pipeline: Record<string, number>;
  drops: Record<string, number>;
  icmpErrors?: Record<string, number>;
}

// ---- the routers' packets -----------------------------------------------------------------------

function ipv4Bytes(text: string): number[] {
  return text.split('.').map(Number);
}

function ipv6Bytes(text: string): Buffer {
  const value = parseIpv6(text);
  if (value === null) throw new Error(`test: bad IPv6 address ${text}`);
  return Buffer.from(value.toString(16).padStart(32, '0'), 'hex');
}

/** MARKER, then a counting pattern, `length` bytes in all. */
function payload(length: number): Buffer {
  const out = Buffer.alloc(length);
  for (let k = 0; k < length; k++) out[k] = k & 0xff;
  MARKER.copy(out, 0, 0, Math.min(MARKER.length, length));
  return out;
}

/** An IPv4 packet with a valid header checksum (the kernel recomputes it on send: same value). */
function ipv4Packet(src: string, dst: string, protocol: number, body: Buffer, id: number, df = true): Buffer {
  const header = Buffer.from([
    0x45, 0, 0, 0, id >> 8, id & 0xff, df ? 0x40 : 0, 0, 64, protocol, 0, 0, ...ipv4Bytes(src), ...ipv4Bytes(dst),
  ]);
  header.writeUInt16BE(20 + body.length, 2);
  header.writeUInt16BE(internetChecksum(header, 0, 20), 10);
  return Buffer.concat([header, body]);
}

/** An IPv6 packet whose next header is No Next Header (RFC 8200 §4.7), `length` bytes in all. */
function ipv6Packet(src: string, dst: string, length: number): Buffer {
  const header = Buffer.alloc(40);
  header.writeUInt32BE(0x6000_0000, 0);
  header.writeUInt16BE(length - 40, 4);
  header[6] = 59;
  header[7] = 64;
  ipv6Bytes(src).copy(header, 8);
  ipv6Bytes(dst).copy(header, 24);
  return Buffer.concat([header, payload(length - 40)]);
}

interface TunnelCase {
  readonly name: string;
  readonly protocol: number;
  /** Fixture base name: FIXTURES/transparent-<fixture>-{a,b}.yaml. */
  readonly fixture: string;
  /** The inner packet of `length` bytes, from a host of router A's site, B's site, or neither. */
  inner(from: 'a' | 'b' | 'outside', length: number): Buffer;
}

const TUNNELS: readonly TunnelCase[] = [
  {
    name: '6in4 (IPv4 protocol 41, RFC 4213)',
    protocol: 41,
    fixture: '6in4',
    inner(from, length) {
      const hosts = { a: '2001:db8:a::10', b: '2001:db8:b::10', outside: '2001:db8:c::10' };
      return ipv6Packet(hosts[from], from === 'a' ? hosts.b : hosts.a, length);
    },
  },
  {
    name: 'IPIP (IPv4 protocol 4, RFC 3884)',
    protocol: 4,
    fixture: 'ipip',
    inner(from, length) {
      // Router A's site is 203.0.113.0/25 and B's 203.0.113.128/25; "outside" claims to be from
      // A's own site while coming out of B's tunnel. Protocol 253 is for experiments (RFC 3692).
      const hosts = { a: '203.0.113.10', b: '203.0.113.138', outside: '203.0.113.20' };
      return ipv4Packet(hosts[from], from === 'a' ? hosts.b : hosts.a, 253, payload(length - 20), 0x0100 + length);
    },
  },
];

/** Router A's (or B's) tunnel packet of `length` bytes: outer TEP -> TEP, DF set, inner from `from`. */
function tunnelPacket(tunnel: TunnelCase, router: 'a' | 'b', from: 'a' | 'b' | 'outside', length: number, df = true): Buffer {
  const [src, dst] = router === 'a' ? [ROUTER_A, ROUTER_B] : [ROUTER_B, ROUTER_A];
  return ipv4Packet(src, dst, tunnel.protocol, tunnel.inner(from, length - 20), 0x4000 + length, df);
}

// ---- the routers' raw sockets -------------------------------------------------------------------

interface PeerResult {
  sent: { length: number; error: string | null }[];
  received: { protocol: number; hex: string }[];
}

/**
 * Runs raw-ip-peer.py in `namespace`: listens for `listen` protocols, sends `packets`, and returns
 * what arrived once `expect` packets did (0: all until the timeout). Resolves `listening` first.
 */
function rawIpPeer(namespace: string, options: { listen?: number[]; expect?: number; timeoutSeconds?: number; send?: Buffer[] }) {
  const argv = [PYTHON, RAW_IP_PEER, '--listen', (options.listen ?? []).join(','), '--expect', String(options.expect ?? 0),
    '--timeout', String(options.timeoutSeconds ?? 3), ...(options.send ?? []).flatMap((p) => ['--send', p.toString('hex')])];
  const [command, ...args] = inNamespace(namespace, argv);
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const listening = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`raw-ip-peer in ${namespace} did not start listening: ${stderr}`)), 5000);
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      if (stderr.includes('listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
  });
  const result = new Promise<PeerResult>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code) => {
      if (code === 0) resolve(JSON.parse(stdout) as PeerResult);
      else reject(new Error(`raw-ip-peer in ${namespace} exited ${code}: ${stderr}`));
    });
  });
  return { listening, result };
}

/** Sends `packets` from one router while the other listens; returns the first `wanted` packets it received (5 s at most). */
async function tunnelExchange(from: string, to: string, protocol: number, packets: Buffer[], wanted = packets.length): Promise<Buffer[]> {
  const receiver = rawIpPeer(to, { listen: [protocol], expect: wanted, timeoutSeconds: 5 });
  await receiver.listening;
  const sender = await rawIpPeer(from, { send: packets }).result;
  expect(sender.sent.map((s) => s.error)).toEqual(packets.map(() => null));
  return (await receiver.result).received.map((r) => Buffer.from(r.hex, 'hex'));
}

async function macOf(namespace: string, ifname: string): Promise<string> {
  const { stdout } = await runCommand(['ip', '-n', namespace, '-j', 'link', 'show', 'dev', ifname]);
  return (JSON.parse(stdout) as { address: string }[])[0].address;
}

// ---- the lab ------------------------------------------------------------------------------------

let topology: LabTopology;

beforeAll(async () => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run "npm run build" first').toBe(true);
  topology = await buildLabTopology({ prefix: PREFIX });
  // The red hosts play the routers: their tunnel endpoints on one IPv4 subnet across the appliances.
  await runCommand(['ip', '-n', topology.namespaces.redA, 'addr', 'add', `${ROUTER_A}/${ROUTER_PREFIX_LENGTH}`, 'dev', LAB_INTERFACES.host]);
  await runCommand(['ip', '-n', topology.namespaces.redB, 'addr', 'add', `${ROUTER_B}/${ROUTER_PREFIX_LENGTH}`, 'dev', LAB_INTERFACES.host]);
});

afterAll(async () => {
  await destroyLabTopology(PREFIX);
});

describe.each(TUNNELS)('transparent protector, $name', (tunnel) => {
  let appliances: LabAppliances | undefined;
  const ns = () => topology.namespaces;

  async function status(): Promise<{ a: ApplianceStatus; b: ApplianceStatus }> {
    const all = (await appliances!.status()) as Record<string, ApplianceStatus>;
    return { a: all[ns().rbA], b: all[ns().rbB] };
  }

  function saPackets(s: ApplianceStatus, direction: 'inbound' | 'outbound'): number {
    return s.sas.find((sa) => sa.direction === direction)!.counters.packets;
  }

  beforeAll(async () => {
    // Path MTUs the routers learned with the other tunnel type are forgotten.
    for (const name of [ns().redA, ns().redB]) await runCommand(['ip', '-n', name, 'route', 'flush', 'cache']);
    appliances = await startLabAppliances(topology, {
      a: path.join(FIXTURES, `transparent-${tunnel.fixture}-a.yaml`),
      b: path.join(FIXTURES, `transparent-${tunnel.fixture}-b.yaml`),
    });
  });
  afterAll(async () => {
    await appliances?.stop();
  });

  it('carries the routers\' tunnel packets byte for byte both ways, as ESP only on wan', async () => {
    const { redA, redB } = ns();
    const aToB = [100, 700, LARGEST_FITTING].map((n) => tunnelPacket(tunnel, 'a', 'a', n));
    const bToA = [120, 900, LARGEST_FITTING].map((n) => tunnelPacket(tunnel, 'b', 'b', n));
    const before = await status();
    const capture = await startWanCapture(topology, { maxSeconds: 60, maxPackets: 1000 });
    let pcap: Uint8Array;
    try {
      expect(await tunnelExchange(redA, redB, tunnel.protocol, aToB)).toEqual(aToB);
      expect(await tunnelExchange(redB, redA, tunnel.protocol, bToA)).toEqual(bToA);
    } finally {
      pcap = await capture.stop();
    }
    const wire = summarizeCapture(pcap);
    expect(wire.counts.esp).toBe(aToB.length + bToA.length);
    expect(wire.counts.clearIpv6InIpv4 + wire.counts.clearIpv4InIpv4).toBe(0);
    expect(wire.violations).toBe(0);
    // The payloads never crossed in clear (the marker is in every packet sent).
    expect(Buffer.from(pcap).indexOf(MARKER)).toBe(-1);

    const after = await status();
    expect(after.a.role).toBe('transparent');
    expect(saPackets(after.a, 'outbound') - saPackets(before.a, 'outbound')).toBe(aToB.length);
    expect(saPackets(after.b, 'inbound') - saPackets(before.b, 'inbound')).toBe(aToB.length);
    expect(saPackets(after.b, 'outbound') - saPackets(before.b, 'outbound')).toBe(bToA.length);
    expect(saPackets(after.a, 'inbound') - saPackets(before.a, 'inbound')).toBe(bToA.length);
  });

  it('bridges other IPv4 between the routers (ping) untouched, as the SPD bypasses it', async () => {
    const before = await status();
    const ping = await pingFrom(ns().redA, ROUTER_B, { count: 3 });
    expect(ping).toMatchObject({ ok: true, received: 3 });
    const after = await status();
    expect(after.a.pipeline.bridgedToBlack - before.a.pipeline.bridgedToBlack).toBeGreaterThanOrEqual(3);
    expect(after.a.pipeline.bridgedToRed - before.a.pipeline.bridgedToRed).toBeGreaterThanOrEqual(3);
    expect(after.a.pipeline.sealed).toBe(before.a.pipeline.sealed);
  });

  it('drops a clear tunnel packet injected on wan toward router A (clear-where-policy-requires-esp)', async () => {
    const { redA, redB, wan } = ns();
    const packet = tunnelPacket(tunnel, 'b', 'b', 200);
    const frame = Buffer.concat([
      Buffer.from((await macOf(redA, LAB_INTERFACES.host)).replaceAll(':', ''), 'hex'),
      Buffer.from((await macOf(redB, LAB_INTERFACES.host)).replaceAll(':', ''), 'hex'),
      Buffer.from([0x08, 0x00]),
      packet,
    ]);
    const before = await status();
    // Router A waits for one packet; router B sends a protected one after the injection, so the
    // first to arrive is the injected one if the appliance let it through.
    const routerA = rawIpPeer(redA, { listen: [tunnel.protocol], expect: 1, timeoutSeconds: 20 });
    await routerA.listening;
    await runCommand(inNamespace(wan, [PYTHON, INJECT, '--iface', LAB_INTERFACES.bridge, 'frame', '--hex', frame.toString('hex')]), { timeoutMs: 20_000 });
    const protectedPacket = tunnelPacket(tunnel, 'b', 'b', 210);
    await rawIpPeer(redB, { send: [protectedPacket] }).result;
    expect((await routerA.result).received.map((r) => r.hex)).toEqual([protectedPacket.toString('hex')]);
    const after = await status();
    expect((after.a.drops[CLEAR_WHERE_ESP] ?? 0) - (before.a.drops[CLEAR_WHERE_ESP] ?? 0)).toBe(1);
  });

  it('drops a packet from router B\'s tunnel whose inner source is outside B\'s prefixes (ingress-filter, RFC 3884)', async () => {
    const { redA, redB } = ns();
    const before = await status();
    // The spoofed packet goes first: router A, waiting for one packet, gets the legitimate one.
    const spoofed = tunnelPacket(tunnel, 'b', 'outside', 300);
    const legitimate = tunnelPacket(tunnel, 'b', 'b', 310);
    expect(await tunnelExchange(redB, redA, tunnel.protocol, [spoofed, legitimate], 1)).toEqual([legitimate]);
    const after = await status();
    // Both crossed as ESP and were decrypted; the inner source was checked after that.
    expect(saPackets(after.b, 'outbound') - saPackets(before.b, 'outbound')).toBe(2);
    expect(after.a.pipeline.opened - before.a.pipeline.opened).toBe(2);
    expect((after.a.drops[INGRESS_FILTER] ?? 0) - (before.a.drops[INGRESS_FILTER] ?? 0)).toBe(1);
  });

  it('fragments a DF-clear packet too big once sealed after ESP, and router B gets it byte for byte (RFC 4303 §3.3.4)', async () => {
    const { redA, redB } = ns();
    const big = tunnelPacket(tunnel, 'a', 'a', 1500, false);
    const before = await status();
    const capture = await startWanCapture(topology, { maxSeconds: 30, maxPackets: 100 });
    let pcap: Uint8Array;
    try {
      expect(await tunnelExchange(redA, redB, tunnel.protocol, [big])).toEqual([big]);
    } finally {
      pcap = await capture.stop();
    }
    const wire = summarizeCapture(pcap);
    // Two ESP fragments on wan, nothing clear.
    expect(wire.counts.esp).toBe(2);
    expect(wire.counts.clearIpv6InIpv4 + wire.counts.clearIpv4InIpv4).toBe(0);
    expect(Buffer.from(pcap).indexOf(MARKER)).toBe(-1);
    const after = await status();
    expect(after.a.pipeline.fragmented - before.a.pipeline.fragmented).toBe(1);
    expect(after.b.pipeline.reassembled - before.b.pipeline.reassembled).toBe(1);
    // Nothing of it was lost on the way: no fragment, ICV or MTU drop at rb-b.
    for (const r of [DropReason.FragmentOverlap, DropReason.FragmentTooBig, DropReason.FragmentTableFull, DropReason.IcvFailure, DropReason.Mtu]) {
      expect(after.b.drops[DROP_REASON_NAMES[r]] ?? 0).toBe(before.b.drops[DROP_REASON_NAMES[r]] ?? 0);
    }
  });

  it('answers a DF packet too big for ESP with ICMP Fragmentation Needed, and never clears DF (RFC 3884 appendix)', async () => {
    const { redA, redB } = ns();
    const before = await status();
    const tooBig = tunnelPacket(tunnel, 'a', 'a', LARGEST_FITTING + 1);
    const routerA = await rawIpPeer(redA, { listen: [ICMP], expect: 1, timeoutSeconds: 5, send: [tooBig] }).result;
    expect(routerA.received).toHaveLength(1);
    const icmp = Buffer.from(routerA.received[0].hex, 'hex');
    // From the invoking destination (the appliance owns no address) back to router A, RFC 1191 §4:
    // type 3 code 4 with the next-hop MTU, quoting the header and 64 bits of the packet (RFC 792).
    expect([...icmp.subarray(12, 16)].join('.')).toBe(ROUTER_B);
    expect([...icmp.subarray(16, 20)].join('.')).toBe(ROUTER_A);
    expect([icmp[9], icmp[20], icmp[21]]).toEqual([ICMP, 3, 4]);
    expect(icmp.readUInt16BE(26)).toBe(LARGEST_FITTING);
    expect(icmp.subarray(28)).toEqual(tooBig.subarray(0, 28));
    // Router A's kernel took it: its path MTU toward B is now the one announced.
    const { stdout } = await runCommand(['ip', '-n', redA, 'route', 'get', ROUTER_B]);
    expect(stdout).toMatch(new RegExp(`\\bmtu ${LARGEST_FITTING}\\b`));

    const after = await status();
    expect((after.a.drops[DONT_FRAGMENT] ?? 0) - (before.a.drops[DONT_FRAGMENT] ?? 0)).toBe(1);
    expect((after.a.icmpErrors?.fragmentationNeededSent ?? 0) - (before.a.icmpErrors?.fragmentationNeededSent ?? 0)).toBe(1);
    expect(saPackets(after.a, 'outbound')).toBe(saPackets(before.a, 'outbound'));
    // A packet of the announced size still fits, DF and all.
    const fits = tunnelPacket(tunnel, 'a', 'a', LARGEST_FITTING);
    expect(await tunnelExchange(redA, redB, tunnel.protocol, [fits])).toEqual([fits]);
  });
});
