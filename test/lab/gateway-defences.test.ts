/**
 * The 6in4 gateway's defences with real appliances on real veths (namespaces rk2-*): frames an
 * attacker on the untrusted IPv4 network injects on wan (test/lab/inject.py, scapy), path MTU
 * handling (RFC 4213 §3.2, RFC 4301 §8.2.1, RFC 8201) and failing closed when the appliance dies.
 * Every verdict is read from the appliances' status (drop counters by reason, SA counters, path
 * MTU), from the red hosts' own kernels (/proc/net/snmp6, `ip -6 route get`, ping) and from a
 * capture of wan. The appliances run from dist/ (`npm test` builds first; run `npm run build`
 * before running this file alone).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startLabAppliances, type LabApplianceConfigs } from '../../src/lab/appliance.js';
import { startWanCapture } from '../../src/lab/capture.js';
import { inNamespace, processAlive, runCommand, sleep } from '../../src/lab/command.js';
import type { LabAppliances } from '../../src/lab/lab-appliances.js';
import { readPcap } from '../../src/lab/pcap.js';
import { echoRequestsAt, echoRequestsReaching, pingFrom } from '../../src/lab/ping.js';
import { buildLabTopology, destroyLabTopology, LAB_ADDRESSES, LAB_INTERFACES, type LabTopology } from '../../src/lab/topology.js';
import { summarizeCapture } from '../../src/lab/wire-summary.js';
import { DROP_REASON_NAMES, DropReason } from '../../src/dataplane/drop-reason.js';
import { packageRoot } from '../../src/platform/package-root.js';
import { readU32, writeU32 } from '../../src/wire/bytes.js';
import { EthernetHeader, parseEthernet } from '../../src/wire/ethernet.js';
import { Ipv4Header, parseIpv4 } from '../../src/wire/ipv4.js';
import { EtherType, IpProtocol } from '../../src/wire/protocol.js';
import { WireStatus } from '../../src/wire/status.js';

const PREFIX = 'rk2-';
const ROOT = packageRoot();
/** Debian's Python has scapy; the `python3` on PATH may not. */
const PYTHON = '/usr/bin/python3';
const INJECT = path.join(ROOT, 'test', 'lab', 'inject.py');
const BYPASS_SIT_B = path.join(ROOT, 'test', 'fixtures', 'lab', 'defences-b-sit-bypass.yaml');
const { a: SITE_A, b: SITE_B } = LAB_ADDRESSES;
const BYPASS4 = `${LAB_ADDRESSES.bypass4}/${LAB_ADDRESSES.bypass4Length}`;
/** A source in the TEP subnet that is no configured peer, and a router on the IPv4 path. */
const STRANGER_TEP = '192.0.2.77';
const WAN_ROUTER = '203.0.113.1';
/** An inner IPv6 source outside every prefix of rb-a. */
const FOREIGN_HOST6 = '2001:db8:c::1';
/** The a -> b SA of the lab (examples/lab-a.yaml outbound, lab-b.yaml inbound). */
const SPI_A_TO_B = 0x1001;
/** ESP header offsets (RFC 4303 §2): SPI, sequence number, then the 8-byte IV and the ciphertext. */
const ESP_SEQ = 4;
const ESP_CIPHERTEXT = 16;

const reason = (r: DropReason): string => DROP_REASON_NAMES[r];

interface SaStatus {
  spi: string;
  direction: 'inbound' | 'outbound';
  counters: { packets: number; replayDrops: number; icvFailures: number };
}

interface ApplianceStatus {
  sas: SaStatus[];
  pipeline: Record<string, number>;
  drops: Record<string, number>;
  pathMtu: Record<string, number>;
}

type Site = 'a' | 'b';

let topology: LabTopology;
let appliances: LabAppliances | undefined;
const mac: Record<Site, string> = { a: '', b: '' };

/** The a -> b key of the lab, read from examples/lab-a.yaml (LAB ONLY test key, RFC 4891 §6). */
function labKeyAtoB(): string {
  const config = parseYaml(readFileSync(path.join(ROOT, 'examples', 'lab-a.yaml'), 'utf8')) as { manualKeys: { spi: number; key: string }[] };
  const entry = config.manualKeys.find((k) => k.spi === SPI_A_TO_B);
  if (entry === undefined) throw new Error(`examples/lab-a.yaml has no manual key with SPI 0x${SPI_A_TO_B.toString(16)}`);
  return entry.key;
}

async function macOf(namespace: string, ifname: string): Promise<string> {
  const { stdout } = await runCommand(['ip', '-n', namespace, '-j', 'link', 'show', 'dev', ifname]);
  return (JSON.parse(stdout) as { address: string }[])[0].address;
}

/** (Re)starts both appliances, with fresh SAs, replay windows and path MTUs. */
async function restartAppliances(configs?: LabApplianceConfigs): Promise<void> {
  await appliances?.stop();
  appliances = await startLabAppliances(topology, configs);
  // Neighbors resolved and the SAs carrying traffic before anything is injected.
  expect((await pingFrom(topology.namespaces.redA, SITE_B.host6, { count: 2 })).ok).toBe(true);
}

async function status(site: Site): Promise<ApplianceStatus> {
  const all = (await appliances!.status()) as Record<string, ApplianceStatus>;
  return all[site === 'a' ? topology.namespaces.rbA : topology.namespaces.rbB];
}

function drops(s: ApplianceStatus, r: DropReason): number {
  return s.drops[reason(r)] ?? 0;
}

function inboundSa(s: ApplianceStatus): SaStatus {
  const sa = s.sas.find((x) => x.direction === 'inbound' && Number(x.spi) === SPI_A_TO_B);
  if (sa === undefined) throw new Error(`no inbound SA 0x${SPI_A_TO_B.toString(16)} in ${JSON.stringify(s.sas)}`);
  return sa;
}

/** Polls `site`'s status until `done` holds (bounded: 3 s), and returns that status. */
async function statusWhen(site: Site, done: (s: ApplianceStatus) => boolean): Promise<ApplianceStatus> {
  let s = await status(site);
  for (let waited = 0; !done(s) && waited < 3000; waited += 50) {
    await sleep(50);
    s = await status(site);
  }
  return s;
}

/** Sends the frames inject.py builds from wan's bridge; returns their hex (space-separated). */
async function inject(args: readonly string[]): Promise<string> {
  const { stdout } = await runCommand(inNamespace(topology.namespaces.wan, [PYTHON, INJECT, '--iface', LAB_INTERFACES.bridge, ...args]), { timeoutMs: 20_000 });
  return stdout.trim();
}

/** inject.py arguments for a 6in4 packet carrying an Echo Request to red-b's host. */
function sitToB(outerSrc: string, innerSrc: string, echoId: number): string[] {
  return ['--outer-src', outerSrc, '--outer-dst', SITE_B.tep4, '--inner-src', innerSrc, '--inner-dst', SITE_B.host6, '--echo-id', String(echoId)];
}

interface PingOutput {
  readonly stdout: string;
  readonly received: number;
}

/** ping -6 with DF semantics (-M do) and an ICMP payload of `size` bytes (packet: size + 48). */
async function ping6(namespace: string, size: number, count: number): Promise<PingOutput> {
  const { stdout, stderr } = await runCommand(
    inNamespace(namespace, ['ping', '-6', '-n', '-M', 'do', '-s', String(size), '-c', String(count), '-i', '0.2', '-W', '1', '-w', '5', SITE_B.host6]),
    { allowFailure: true, timeoutMs: 10_000 },
  );
  const received = /(\d+) received/.exec(stdout);
  return { stdout: stdout + stderr, received: received === null ? 0 : Number(received[1]) };
}

/** The path MTU red-a's kernel holds for red-b's host, or null when it uses the link's. */
async function routeMtu(): Promise<number | null> {
  const { stdout } = await runCommand(inNamespace(topology.namespaces.redA, ['ip', '-6', 'route', 'get', SITE_B.host6, 'from', SITE_A.host6]));
  const match = / mtu (\d+)/.exec(stdout);
  return match === null ? null : Number(match[1]);
}

async function sysctl(namespace: string, settings: readonly string[]): Promise<void> {
  await runCommand(inNamespace(namespace, ['sysctl', '-q', '-w', ...settings]));
}

async function sysctlValue(namespace: string, name: string): Promise<string> {
  return (await runCommand(inNamespace(namespace, ['sysctl', '-n', name]))).stdout.trim();
}

/** ESP frames (Ethernet, IPv4 protocol 50) from `src` to `dst` in a pcap, as copies. */
function espFrames(pcap: Uint8Array, src: string, dst: string): Uint8Array[] {
  const eth = new EthernetHeader();
  const ip = new Ipv4Header();
  const u32 = (dotted: string): number => dotted.split('.').reduce((v, octet) => v * 256 + Number(octet), 0);
  const frames: Uint8Array[] = [];
  for (const r of readPcap(pcap).records) {
    if (parseEthernet(pcap, r.offset, r.capturedLength, eth) !== WireStatus.Ok || eth.etherType !== EtherType.Ipv4) continue;
    if (parseIpv4(pcap, eth.l3Offset, r.offset + r.capturedLength - eth.l3Offset, ip) !== WireStatus.Ok) continue;
    if (ip.protocol === IpProtocol.Esp && ip.src === u32(src) && ip.dst === u32(dst)) {
      frames.push(pcap.slice(r.offset, r.offset + r.capturedLength));
    }
  }
  return frames;
}

/** Offset of the ESP header in an untagged Ethernet frame carrying IPv4 without options. */
const ESP_IN_FRAME = 14 + 20;

/** Wire length of the frame as a hex string. */
const hex = (bytes: Uint8Array): string => Buffer.from(bytes).toString('hex');

beforeAll(async () => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run "npm run build" first').toBe(true);
  topology = await buildLabTopology({ prefix: PREFIX });
  mac.a = await macOf(topology.namespaces.rbA, LAB_INTERFACES.black);
  mac.b = await macOf(topology.namespaces.rbB, LAB_INTERFACES.black);
});

afterAll(async () => {
  await appliances?.stop();
  await destroyLabTopology(PREFIX);
});

describe('inbound spoofing and tampering against rb-b (examples/lab-a.yaml, lab-b.yaml)', () => {
  let wanPcap: Uint8Array;

  beforeAll(async () => {
    const capture = await startWanCapture(topology, { maxSeconds: 60, maxPackets: 1000 });
    try {
      await restartAppliances();
    } finally {
      wanPcap = await capture.stop();
      rmSync(path.dirname(capture.path), { recursive: true, force: true });
    }
  });

  it('drops clear 6in4 from TEP-A where policy requires ESP, and nothing reaches red-b', async () => {
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    await inject(['--dst-mac', mac.b, 'sit', ...sitToB(SITE_A.tep4, SITE_A.host6, 0x4101)]);
    // RFC 4891 §5.1 / RFC 4301 §5.2: protocol 41 between the TEPs is PROTECT, so clear is refused.
    const after = await statusWhen('b', (s) => drops(s, DropReason.ClearWherePolicyRequiresEsp) > drops(before, DropReason.ClearWherePolicyRequiresEsp));
    expect(drops(after, DropReason.ClearWherePolicyRequiresEsp)).toBe(drops(before, DropReason.ClearWherePolicyRequiresEsp) + 1);
    expect(after.pipeline.toRed).toBe(before.pipeline.toRed);
    expect(await echoRequestsAt(topology.namespaces.redB)).toBe(echoes);
  });

  it('with the lab policy, 6in4 from a stranger in the TEP subnet matches no SPD entry: no-policy', async () => {
    // No entry selects protocol 41 from 192.0.2.77, so the SPD discards it (RFC 4301 §4.4.1: no
    // match is DISCARD) before the tunnel-source check is ever reached.
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    await inject(['--dst-mac', mac.b, 'sit', ...sitToB(STRANGER_TEP, SITE_A.host6, 0x4102)]);
    const after = await statusWhen('b', (s) => drops(s, DropReason.NoPolicy) > drops(before, DropReason.NoPolicy));
    expect(drops(after, DropReason.NoPolicy)).toBe(drops(before, DropReason.NoPolicy) + 1);
    expect(drops(after, DropReason.SpoofedTunnelSource)).toBe(drops(before, DropReason.SpoofedTunnelSource));
    expect(after.pipeline.toRed).toBe(before.pipeline.toRed);
    expect(await echoRequestsAt(topology.namespaces.redB)).toBe(echoes);
  });

  it('drops a replayed captured ESP packet as replay (RFC 4303 §3.4.3)', async () => {
    const captured = espFrames(wanPcap, SITE_A.tep4, SITE_B.tep4);
    expect(captured.length).toBeGreaterThanOrEqual(2);
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    const sent = await inject(['frame', '--hex', hex(captured[captured.length - 1])]);
    expect(sent).toBe(hex(captured[captured.length - 1]));
    const after = await statusWhen('b', (s) => drops(s, DropReason.Replay) > drops(before, DropReason.Replay));
    expect(drops(after, DropReason.Replay)).toBe(drops(before, DropReason.Replay) + 1);
    expect(inboundSa(after).counters.replayDrops).toBe(inboundSa(before).counters.replayDrops + 1);
    expect(inboundSa(after).counters.packets).toBe(inboundSa(before).counters.packets);
    expect(await echoRequestsAt(topology.namespaces.redB)).toBe(echoes);
  });

  // A sequence number far beyond what rb-a has used: fresh for rb-b's window (so the replay
  // pre-check passes) and the same for the forgery and the genuine packet after it.
  let freshSeq = 0;

  it('drops a tampered captured ESP packet as icv-failure, without moving the replay window (RFC 4303 §3.4.4)', async () => {
    const captured = espFrames(wanPcap, SITE_A.tep4, SITE_B.tep4);
    const frame = captured[captured.length - 1];
    freshSeq = readU32(frame, ESP_IN_FRAME + ESP_SEQ) + 100_000;
    // An attacker rewrites the sequence number (authenticated as AAD) and flips a ciphertext bit.
    writeU32(frame, ESP_IN_FRAME + ESP_SEQ, freshSeq);
    frame[ESP_IN_FRAME + ESP_CIPHERTEXT] ^= 0x01;
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    await inject(['frame', '--hex', hex(frame)]);
    const after = await statusWhen('b', (s) => drops(s, DropReason.IcvFailure) > drops(before, DropReason.IcvFailure));
    expect(drops(after, DropReason.IcvFailure)).toBe(drops(before, DropReason.IcvFailure) + 1);
    expect(inboundSa(after).counters.icvFailures).toBe(inboundSa(before).counters.icvFailures + 1);
    expect(drops(after, DropReason.Replay)).toBe(drops(before, DropReason.Replay));
    expect(await echoRequestsAt(topology.namespaces.redB)).toBe(echoes);
  });

  it('opens valid ESP with a foreign inner source and drops it as ingress-filter (RFC 4213 §3.6)', async () => {
    expect(freshSeq).toBeGreaterThan(0);
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    // The forged packet above used this sequence number; authentic ESP with it must still be
    // accepted (an ICV failure does not update the window, RFC 4303 §3.4.3).
    await inject(['--dst-mac', mac.b, 'esp', '--spi', `0x${SPI_A_TO_B.toString(16)}`, '--key', labKeyAtoB(), '--seq', String(freshSeq),
      ...sitToB(SITE_A.tep4, FOREIGN_HOST6, 0x4103)]);
    const after = await statusWhen('b', (s) => drops(s, DropReason.IngressFilter) > drops(before, DropReason.IngressFilter));
    expect(drops(after, DropReason.IngressFilter)).toBe(drops(before, DropReason.IngressFilter) + 1);
    // It was authentic: decrypted and counted on the SA, not an ICV or replay failure.
    expect(inboundSa(after).counters.packets).toBe(inboundSa(before).counters.packets + 1);
    expect(drops(after, DropReason.IcvFailure)).toBe(drops(before, DropReason.IcvFailure));
    expect(drops(after, DropReason.Replay)).toBe(drops(before, DropReason.Replay));
    expect(after.pipeline.toRed).toBe(before.pipeline.toRed);
    expect(await echoRequestsAt(topology.namespaces.redB)).toBe(echoes);
  });

  it('delivers the same hand-built ESP with a legitimate inner source to red-b (the packet above was right)', async () => {
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    await inject(['--dst-mac', mac.b, 'esp', '--spi', `0x${SPI_A_TO_B.toString(16)}`, '--key', labKeyAtoB(), '--seq', String(freshSeq + 1),
      ...sitToB(SITE_A.tep4, SITE_A.host6, 0x4104)]);
    expect(await echoRequestsReaching(topology.namespaces.redB, echoes + 1)).toBe(echoes + 1);
    const after = await status('b');
    expect(inboundSa(after).counters.packets).toBeGreaterThanOrEqual(inboundSa(before).counters.packets + 1);
    expect(drops(after, DropReason.IngressFilter)).toBe(drops(before, DropReason.IngressFilter));
  });

  it('reassembles ESP a router on the path cut into fragments, sent last first, and delivers it to red-b (RFC 4303 §3.4.1)', async () => {
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    const sent = await inject(['--dst-mac', mac.b, 'esp', '--spi', `0x${SPI_A_TO_B.toString(16)}`, '--key', labKeyAtoB(), '--seq', String(freshSeq + 2),
      '--fragment', '600', ...sitToB(SITE_A.tep4, SITE_A.host6, 0x4105), '--echo-size', '1200']);
    expect(sent.split(' ')).toHaveLength(3);
    expect(await echoRequestsReaching(topology.namespaces.redB, echoes + 1)).toBe(echoes + 1);
    const after = await status('b');
    expect(after.pipeline.fragments).toBe(before.pipeline.fragments + 3);
    expect(after.pipeline.fragmentsReassembled).toBe(before.pipeline.fragmentsReassembled + 3);
    expect(after.pipeline.reassembled).toBe(before.pipeline.reassembled + 1);
    expect(after.pipeline.fragmentsHeld).toBe(0);
    expect(inboundSa(after).counters.packets).toBeGreaterThanOrEqual(inboundSa(before).counters.packets + 1);
    for (const r of [DropReason.FragmentOverlap, DropReason.FragmentDuplicate, DropReason.FragmentTooBig, DropReason.FragmentTableFull, DropReason.IcvFailure, DropReason.Replay]) {
      expect(drops(after, r)).toBe(drops(before, r));
    }
  });
});

describe('wrong outer source where clear 6in4 from the TEP subnet is bypassed (test/fixtures/lab/defences-b-sit-bypass.yaml)', () => {
  beforeAll(async () => {
    await restartAppliances({ a: path.join(ROOT, 'examples', 'lab-a.yaml'), b: BYPASS_SIT_B });
  });

  it('drops 6in4 from a source that is no configured peer TEP as spoofed-tunnel-source (RFC 4213 §3.6)', async () => {
    const before = await status('b');
    const echoes = await echoRequestsAt(topology.namespaces.redB);
    // The inner source is inside rb-a's prefix: only the outer source is wrong.
    await inject(['--dst-mac', mac.b, 'sit', ...sitToB(STRANGER_TEP, SITE_A.host6, 0x4201)]);
    const after = await statusWhen('b', (s) => drops(s, DropReason.SpoofedTunnelSource) > drops(before, DropReason.SpoofedTunnelSource));
    expect(drops(after, DropReason.SpoofedTunnelSource)).toBe(drops(before, DropReason.SpoofedTunnelSource) + 1);
    expect(drops(after, DropReason.NoPolicy)).toBe(drops(before, DropReason.NoPolicy));
    expect(after.pipeline.toRed).toBe(before.pipeline.toRed);
    expect(await echoRequestsAt(topology.namespaces.redB)).toBe(echoes);
  });

  it('still refuses clear 6in4 from the peer TEP itself: its PROTECT entry comes first', async () => {
    const before = await status('b');
    await inject(['--dst-mac', mac.b, 'sit', ...sitToB(SITE_A.tep4, SITE_A.host6, 0x4202)]);
    const after = await statusWhen('b', (s) => drops(s, DropReason.ClearWherePolicyRequiresEsp) > drops(before, DropReason.ClearWherePolicyRequiresEsp));
    expect(drops(after, DropReason.ClearWherePolicyRequiresEsp)).toBe(drops(before, DropReason.ClearWherePolicyRequiresEsp) + 1);
    expect(after.pipeline.toRed).toBe(before.pipeline.toRed);
  });
});

describe('path MTU across the lab (black MTU 1500: 1446 bytes of IPv6 per ESP-protected 6in4 packet)', () => {
  beforeAll(async () => {
    await restartAppliances();
  });

  it('tells the red hosts the tunnel MTU in its Router Advertisements (RFC 4861 §4.6.4)', async () => {
    let mtu = '';
    for (let waited = 0; mtu !== '1446' && waited < 5000; waited += 100) {
      mtu = await sysctlValue(topology.namespaces.redA, 'net.ipv6.conf.eth0.mtu');
      if (mtu !== '1446') await sleep(100);
    }
    expect(mtu).toBe('1446');
    // So a host that follows its RAs never even sends a packet that is too big.
    const refused = await ping6(topology.namespaces.redA, 1399, 1);
    expect(refused.stdout).toMatch(/message too long, mtu: ?1446/);
  });

  describe('with hosts that ignore the RA MTU and believe the 1500-byte link', () => {
    beforeAll(async () => {
      for (const ns of [topology.namespaces.redA, topology.namespaces.redB]) {
        await sysctl(ns, ['net.ipv6.conf.eth0.accept_ra_mtu=0', 'net.ipv6.conf.eth0.mtu=1500']);
        await runCommand(inNamespace(ns, ['ip', '-6', 'route', 'flush', 'cache']));
      }
    });

    it('carries 4 MiB of TCP intact from red-a to red-b, after Packet Too Big lowers the path MTU to 1446', async () => {
      const size = 4 << 20;
      const port = 5302;
      const before = await status('a');
      // A one-shot sink in red-b that hashes what it receives; a source in red-a that sends a
      // known pattern. Both bounded by runCommand's timeout.
      const sink = runCommand(inNamespace(topology.namespaces.redB, [process.execPath, '-e', `
        const net = require('node:net'), crypto = require('node:crypto');
        const hash = crypto.createHash('sha256'); let bytes = 0;
        const server = net.createServer((s) => {
          s.on('data', (d) => { hash.update(d); bytes += d.length; });
          s.on('end', () => { console.log(JSON.stringify({ bytes, sha256: hash.digest('hex') })); s.end(); server.close(); });
        });
        server.listen(${port}, '${SITE_B.host6}');`]), { timeoutMs: 30_000 });
      for (let waited = 0; waited < 5000; waited += 100) {
        const { stdout } = await runCommand(inNamespace(topology.namespaces.redB, ['ss', '-Hltn', `sport = :${port}`]));
        if (stdout.trim() !== '') break;
        await sleep(100);
      }
      const source = await runCommand(inNamespace(topology.namespaces.redA, [process.execPath, '-e', `
        const net = require('node:net'), crypto = require('node:crypto');
        const data = Buffer.alloc(${size}); for (let i = 0; i < data.length; i++) data[i] = (i * 131 + (i >>> 11)) & 255;
        const s = net.connect({ host: '${SITE_B.host6}', port: ${port}, localAddress: '${SITE_A.host6}' }, () => s.end(data));
        s.on('close', () => console.log(JSON.stringify({ bytes: data.length, sha256: crypto.createHash('sha256').update(data).digest('hex') })));`]),
      { timeoutMs: 30_000 });
      const received = JSON.parse((await sink).stdout) as { bytes: number; sha256: string };
      expect(received).toEqual(JSON.parse(source.stdout));
      expect(received.bytes).toBe(size);
      // The first full-size segments did not fit: rb-a dropped them and answered Packet Too Big.
      const after = await status('a');
      expect(drops(after, DropReason.Mtu)).toBeGreaterThan(drops(before, DropReason.Mtu));
      expect(await routeMtu()).toBe(1446);
    });

    it('answers an oversized ping6 with Packet Too Big, MTU 1446, and lets a 1446-byte packet through', async () => {
      await runCommand(inNamespace(topology.namespaces.redA, ['ip', '-6', 'route', 'flush', 'cache']));
      expect(await routeMtu()).toBeNull();
      // -s 1452 is a 1500-byte IPv6 packet, the largest red-a's link carries (-s 1460 would be
      // 1508 bytes, refused by red-a's own kernel before it reaches the gateway).
      const big = await ping6(topology.namespaces.redA, 1452, 1);
      expect(big.stdout).toMatch(/From 2001:db8:a::1 icmp_seq=1 Packet too big: mtu=1446/);
      expect(big.received).toBe(0);
      expect(await routeMtu()).toBe(1446);
      const fits = await ping6(topology.namespaces.redA, 1446 - 48, 3);
      expect(fits.received).toBe(3);
    });

    it('ignores Fragmentation Needed that quotes no packet of ours (unknown SPI, RFC 4301 §8.2.1)', async () => {
      const before = await status('a');
      await inject(['--dst-mac', mac.a, 'frag-needed', '--router', WAN_ROUTER, '--quote-src', SITE_A.tep4, '--quote-dst', SITE_B.tep4,
        '--quote-spi', '0xdeadbeef', '--mtu', '1400']);
      const after = await statusWhen('a', (s) => drops(s, DropReason.Unsupported) > drops(before, DropReason.Unsupported));
      expect(drops(after, DropReason.Unsupported)).toBe(drops(before, DropReason.Unsupported) + 1);
      expect(after.pathMtu).toEqual({ 'rb-b': 1500 });
      expect(after.pipeline.pmtuUpdates).toBe(before.pipeline.pmtuUpdates);
    });

    it('lowers rb-a\'s path MTU to rb-b to 1400 on Fragmentation Needed quoting its ESP, and the next big ping6 gets a smaller PTB', async () => {
      const before = await status('a');
      await inject(['--dst-mac', mac.a, 'frag-needed', '--router', WAN_ROUTER, '--quote-src', SITE_A.tep4, '--quote-dst', SITE_B.tep4,
        '--quote-spi', `0x${SPI_A_TO_B.toString(16)}`, '--mtu', '1400']);
      const after = await statusWhen('a', (s) => s.pathMtu['rb-b'] !== 1500);
      expect(after.pathMtu).toEqual({ 'rb-b': 1400 });
      expect(after.pipeline.pmtuUpdates).toBe(before.pipeline.pmtuUpdates + 1);
      // 1400 - 20 (IPv4) - 8 (SPI, Seq) - 8 (IV) - 2 (pad length, next header) - 16 (ICV) = 1346.
      const big = await ping6(topology.namespaces.redA, 1446 - 48, 1);
      expect(big.stdout).toMatch(/Packet too big: mtu=1346/);
      expect(await routeMtu()).toBe(1346);
      expect((await ping6(topology.namespaces.redA, 1346 - 48, 3)).received).toBe(3);
    });

    it('never lets a report shrink the tunnel below 1280 bytes of IPv6 (RFC 4213 §3.2), so 1280-byte packets still cross', async () => {
      await inject(['--dst-mac', mac.a, 'frag-needed', '--router', WAN_ROUTER, '--quote-src', SITE_A.tep4, '--quote-dst', SITE_B.tep4,
        '--quote-spi', `0x${SPI_A_TO_B.toString(16)}`, '--mtu', '576']);
      const after = await statusWhen('a', (s) => s.pathMtu['rb-b'] !== 1400);
      // 1280 bytes + 2 of padding (RFC 4303 §2.4) + 54 of ESP transport over IPv4 + 8 for UDP encapsulation.
      expect(after.pathMtu).toEqual({ 'rb-b': 1344 });
      expect((await ping6(topology.namespaces.redA, 1280 - 48, 3)).received).toBe(3);
    });
  });
});

describe('fail closed: rb-a killed (SIGKILL) while red-a pings red-b, then its kernel set up to route', () => {
  beforeAll(async () => {
    await restartAppliances();
  });

  it('never puts clear IPv6 or clear protocol 41 on wan, and nothing crosses from red-a or rb-a after the kill', async () => {
    const { redA, rbA, wan } = topology.namespaces;
    const wanPortRx = async (): Promise<number> => {
      const { stdout } = await runCommand(['ip', '-n', wan, '-s', '-j', 'link', 'show', 'dev', LAB_INTERFACES.wanA]);
      return (JSON.parse(stdout) as { stats64: { rx: { packets: number } } }[])[0].stats64.rx.packets;
    };
    const hostMac = await macOf(redA, LAB_INTERFACES.host);
    const capture = await startWanCapture(topology, { maxSeconds: 60, maxPackets: 5000 });
    let pcap: Uint8Array;
    let killedAt = 0;
    let rxAtKill = 0;
    let ping: { stdout: string };
    try {
      const flood = runCommand(inNamespace(redA, ['ping', '-6', '-n', '-i', '0.01', '-c', '500', '-w', '10', SITE_B.host6]), { allowFailure: true, timeoutMs: 20_000 });
      await sleep(1500);
      const pid = appliances!.processes.find((p) => p.namespace === rbA)!.pid;
      process.kill(pid, 'SIGKILL');
      for (let waited = 0; waited < 3000 && processAlive(pid); waited += 10) await sleep(10);
      expect(processAlive(pid)).toBe(false);
      killedAt = Date.now() / 1000;
      rxAtKill = await wanPortRx();
      // rb-a's own kernel now gets every chance to leak: IPv6 on (link-local, DAD, MLD, router
      // solicitations), addresses on both NICs, forwarding, routes across black. The appliance's
      // netdev rules outlive it (src/io/host-stack-isolation.ts), so none of it reaches wan.
      await runCommand(inNamespace(rbA, ['sysctl', '-qw', 'net.ipv6.conf.all.disable_ipv6=0', `net.ipv6.conf.${LAB_INTERFACES.red}.disable_ipv6=0`,
        `net.ipv6.conf.${LAB_INTERFACES.black}.disable_ipv6=0`, 'net.ipv6.conf.all.forwarding=1', 'net.ipv4.ip_forward=1']));
      await runCommand(['ip', '-n', rbA, 'addr', 'add', `${SITE_A.router6}/${SITE_A.lan6Length}`, 'dev', LAB_INTERFACES.red]);
      await runCommand(['ip', '-n', rbA, 'addr', 'add', `${SITE_A.tep4}/${LAB_ADDRESSES.blackPrefixLength}`, 'dev', LAB_INTERFACES.black]);
      await runCommand(['ip', '-n', rbA, '-6', 'route', 'add', `${SITE_B.host6}/128`, 'dev', LAB_INTERFACES.black]);
      await runCommand(inNamespace(rbA, ['ping', '-n', '-c', '3', '-i', '0.2', '-W', '1', SITE_B.tep4]), { allowFailure: true });
      ping = await flood;
      // Nothing more arrived from rb-a's side while red-a kept pinging.
      expect(await wanPortRx()).toBe(rxAtKill);
    } finally {
      pcap = await capture.stop();
      rmSync(path.dirname(capture.path), { recursive: true, force: true });
    }
    const transmitted = Number(/(\d+) packets transmitted/.exec(ping.stdout)?.[1] ?? 0);
    const received = Number(/(\d+) received/.exec(ping.stdout)?.[1] ?? 0);
    expect(received).toBeGreaterThan(50); // it flowed before the kill...
    expect(transmitted - received).toBeGreaterThan(200); // ...and stopped with it

    const summary = summarizeCapture(pcap, { bypass4: BYPASS4 });
    expect(summary.counts.esp).toBeGreaterThan(100);
    expect(summary.counts.ipv6).toBe(0);
    expect(summary.counts.clearIpv6InIpv4).toBe(0);
    expect(summary.violations).toBe(0);
    // After the kill no frame from rb-a's black port or from red-a itself is on wan.
    const eth = new EthernetHeader();
    const fromSiteA = new Set([mac.a, hostMac]);
    const fromA = readPcap(pcap).records.filter((r) => {
      if (parseEthernet(pcap, r.offset, r.capturedLength, eth) !== WireStatus.Ok) return false;
      return fromSiteA.has(hex(pcap.subarray(eth.srcOffset, eth.srcOffset + 6)).replace(/(..)(?!$)/g, '$1:'));
    });
    expect(fromA.filter((r) => r.time < killedAt).length).toBeGreaterThan(50);
    expect(fromA.filter((r) => r.time >= killedAt)).toEqual([]);
  });
});
