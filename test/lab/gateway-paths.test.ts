/**
 * The 6in4 gateway's traffic paths with real appliances on real veths: PROTECT (ESP transport over
 * 6in4, RFC 4891 §5.1), BYPASS (IPv4 bridged untouched), DISCARD and no policy (RFC 4301 §4.4.1,
 * §5), ESP tunnel mode with an IPv4 outer header (RFC 4891 App. A), and `npm run lab -- --json`.
 * Each scenario builds its own namespaces (prefix rk1-), runs `redblack run` in rb-a and rb-b from
 * dist/ (`npm test` builds first; run `npm run build` before running this file alone), and checks
 * pings, the appliances' status counters and a capture of wan read by tshark as a second opinion.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import { startLabAppliances, type LabApplianceConfigs } from '../../src/lab/appliance.js';
import { startWanCapture } from '../../src/lab/capture.js';
import { inNamespace, runCommand } from '../../src/lab/command.js';
import type { LabAppliances } from '../../src/lab/lab-appliances.js';
import { pingFrom, type PingResult } from '../../src/lab/ping.js';
import { PROTECTED_PATH_FAILURES } from '../../src/lab/protected-path-failures.js';
import { buildLabTopology, destroyLabTopology, LAB_ADDRESSES, LAB_INTERFACES, type LabTopology } from '../../src/lab/topology.js';
import { summarizeCapture, type FrameClass, type WireSummary } from '../../src/lab/wire-summary.js';
import { DROP_REASON_NAMES, DropReason } from '../../src/dataplane/drop-reason.js';
import type { HostStackCounters } from '../../src/io/host-stack-isolation.js';
import { packageRoot } from '../../src/platform/package-root.js';

const ROOT = packageRoot();
const EXAMPLES = path.join(ROOT, 'examples');
const FIXTURES = path.join(ROOT, 'test', 'fixtures', 'lab');
const BYPASS4 = `${LAB_ADDRESSES.bypass4}/${LAB_ADDRESSES.bypass4Length}`;
const { a: SITE_A, b: SITE_B } = LAB_ADDRESSES;
/** An address rb-a's own kernel gets on black for a moment, to show its frames do not leave. */
const HOST_STACK_PROBE_ADDRESS = '192.0.2.99';

/**
 * Bytes 0x10..0x2f: part of the payload iputils ping sends by default (byte i at offset i, after
 * the timestamp). Protected pings must never show it on wan; bypassed ones do.
 */
const PING_PAYLOAD = Array.from({ length: 32 }, (_, k) => (0x10 + k).toString(16)).join(':');

interface SaStatus {
  spi: string;
  direction: 'inbound' | 'outbound';
  mode: 'transport' | 'tunnel';
  policy: string | null;
  source: string;
  destination: string;
  counters: { packets: number };
}

interface ApplianceStatus {
  hostStack: { mode: string; red: HostStackCounters | null; black: HostStackCounters | null };
  flowCache: { hits: number; misses: number };
  eventLoopDelayMs: { p50: number; p99: number; max: number };
  sas: SaStatus[];
  pipeline: Record<string, number>;
  drops: Record<string, number>;
}

/** A running lab: namespaces, both appliances and a capture of wan started before them. */
class RunningLab {
  private constructor(
    readonly topology: LabTopology,
    readonly appliances: LabAppliances,
    readonly pcapFile: string,
    private readonly stopCapture: () => Promise<Uint8Array>,
  ) {}

  static async start(prefix: string, configs: LabApplianceConfigs): Promise<RunningLab> {
    const topology = await buildLabTopology({ prefix });
    const capture = await startWanCapture(topology, { maxSeconds: 120, maxPackets: 20_000 });
    try {
      const appliances = await startLabAppliances(topology, configs);
      return new RunningLab(topology, appliances, capture.path, () => capture.stop());
    } catch (error) {
      await capture.stop().catch(() => undefined);
      throw error;
    }
  }

  /** Both appliances' status, as rb-a ("a") and rb-b ("b"). */
  async status(): Promise<{ a: ApplianceStatus; b: ApplianceStatus }> {
    const all = (await this.appliances.status()) as Record<string, ApplianceStatus>;
    const { rbA, rbB } = this.topology.namespaces;
    return { a: all[rbA], b: all[rbB] };
  }

  /** Stops the capture and returns the summary of everything that crossed wan. */
  async wire(): Promise<WireSummary> {
    return summarizeCapture(await this.stopCapture(), { bypass4: BYPASS4 });
  }

  async destroy(): Promise<void> {
    await this.stopCapture().catch(() => undefined);
    await this.appliances.stop();
    await destroyLabTopology(this.topology.prefix);
    rmSync(path.dirname(this.pcapFile), { recursive: true, force: true });
  }
}

/** One field of every frame matching a tshark display filter (tshark: an independent dissector). */
async function tsharkFields(file: string, filter: string, field: string): Promise<string[]> {
  const { stdout } = await runCommand(['tshark', '-r', file, '-Y', filter, '-T', 'fields', '-e', field]);
  return stdout.split('\n').filter((line) => line !== '');
}

async function tsharkCount(file: string, filter: string): Promise<number> {
  return (await tsharkFields(file, filter, 'frame.number')).length;
}

function sa(status: ApplianceStatus, direction: SaStatus['direction']): SaStatus {
  const found = status.sas.find((s) => s.direction === direction);
  if (found === undefined) throw new Error(`no ${direction} SA in ${JSON.stringify(status.sas)}`);
  return found;
}

function drop(status: ApplianceStatus, reason: string): number {
  return status.drops[reason] ?? 0;
}

const DISCARD = DROP_REASON_NAMES[DropReason.Discard];
const NO_POLICY = DROP_REASON_NAMES[DropReason.NoPolicy];

function classesSeen(summary: WireSummary): FrameClass[] {
  return (Object.keys(summary.counts) as FrameClass[]).filter((c) => summary.counts[c] > 0).sort();
}

async function macOf(namespace: string, ifname: string): Promise<string> {
  const { stdout } = await runCommand(['ip', '-n', namespace, '-j', 'link', 'show', 'dev', ifname]);
  return (JSON.parse(stdout) as { address: string }[])[0].address;
}

beforeAll(() => {
  expect(existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run "npm run build" first').toBe(true);
});

describe('PROTECT and BYPASS: ESP transport over 6in4 (examples/lab-a.yaml, lab-b.yaml; rb-a seals on its crypto thread, rb-b receives through TPACKET_V3 rings)', () => {
  const PREFIX = 'rk1-prot-';
  const COUNT = 3;
  let lab: RunningLab;
  let pings: { a2b6: PingResult; b2a6: PingResult; a2b4: PingResult; b2a4: PingResult };
  let status: { a: ApplianceStatus; b: ApplianceStatus };
  let wire: WireSummary;
  /** Echo requests and replies of the two IPv4 pings. */
  const ipv4PingFrames = () => pings.a2b4.transmitted + pings.a2b4.received + pings.b2a4.transmitted + pings.b2a4.received;

  beforeAll(async () => {
    await destroyLabTopology(PREFIX);
    lab = await RunningLab.start(PREFIX, {
      a: path.join(EXAMPLES, 'lab-a.yaml'),
      b: path.join(EXAMPLES, 'lab-b.yaml'),
      runArgs: { a: ['--crypto-thread', 'on'], b: ['--crypto-thread', 'off', '--rx-ring', 'v3'] },
    });
    const { redA, redB } = lab.topology.namespaces;
    pings = {
      a2b6: await pingFrom(redA, SITE_B.host6, { count: COUNT }),
      b2a6: await pingFrom(redB, SITE_A.host6, { count: COUNT }),
      a2b4: await pingFrom(redA, SITE_B.host4, { count: COUNT }),
      b2a4: await pingFrom(redB, SITE_A.host4, { count: COUNT }),
    };
    // rb-a's own kernel tries to use black: an address there, and pings to the peer TEP (its ARP requests must not leave).
    const { rbA } = lab.topology.namespaces;
    await runCommand(['ip', '-n', rbA, 'addr', 'add', `${HOST_STACK_PROBE_ADDRESS}/24`, 'dev', LAB_INTERFACES.black]);
    await runCommand(inNamespace(rbA, ['ping', '-n', '-c', '3', '-i', '0.5', '-W', '2', SITE_B.tep4]), { allowFailure: true });
    await runCommand(['ip', '-n', rbA, 'addr', 'del', `${HOST_STACK_PROBE_ADDRESS}/24`, 'dev', LAB_INTERFACES.black]);
    status = await lab.status();
    wire = await lab.wire();
  });
  afterAll(async () => {
    await lab?.destroy();
    await destroyLabTopology(PREFIX);
  });

  it('answers ping6 both ways through the tunnel, one side sealing and opening on its crypto thread, the other receiving through V3 rings', () => {
    expect(pings.a2b6).toMatchObject({ ok: true, received: COUNT });
    expect(pings.b2a6).toMatchObject({ ok: true, received: COUNT });
    expect(status.a).toMatchObject({ cryptoThread: true, rxRing: 'v2' });
    expect(status.b).toMatchObject({ cryptoThread: false, rxRing: 'v3' });
    // How late each event loop ran is reported (milliseconds since start; a stall is what the rings must cover).
    for (const s of [status.a, status.b]) expect(s.eventLoopDelayMs.max).toBeGreaterThanOrEqual(s.eventLoopDelayMs.p50);
    // Each flow's policy was decided once and then taken from the flow cache.
    expect(status.a.flowCache.hits).toBeGreaterThan(0);
  });

  it("keeps each gateway's host stack off both NICs, and its status says what the rules kept and blocked", async () => {
    for (const s of [status.a, status.b]) {
      expect(s.hostStack.mode).toBe('isolated');
      // Every frame that reached a NIC was kept from the kernel (after the appliance read it).
      expect(s.hostStack.red!.kept).toBeGreaterThan(0);
      expect(s.hostStack.black!.kept).toBeGreaterThan(0);
      expect(s.hostStack.red!.blocked).toBe(0);
    }
    // rb-a's kernel ARPed for the peer TEP; none of it reached wan. rb-b's kernel has nothing to send.
    expect(status.a.hostStack.black!.blocked).toBeGreaterThanOrEqual(1);
    expect(status.b.hostStack.black!.blocked).toBe(0);
    expect(await tsharkCount(lab.pcapFile, `arp.src.proto_ipv4 == ${HOST_STACK_PROBE_ADDRESS} || ip.src == ${HOST_STACK_PROBE_ADDRESS}`)).toBe(0);
  });

  it('counts every ESP packet on the SAs of both sides, and the wire agrees packet for packet', async () => {
    // Each ping6 puts a request one way and a reply the other: COUNT * 2 packets a -> b at least.
    const aOut = sa(status.a, 'outbound');
    const bIn = sa(status.b, 'inbound');
    const bOut = sa(status.b, 'outbound');
    const aIn = sa(status.a, 'inbound');
    expect([aOut.spi, bIn.spi, bOut.spi, aIn.spi]).toEqual(['0x00001001', '0x00001001', '0x00001002', '0x00001002']);
    expect(aOut.mode).toBe('transport');
    expect(aOut.counters.packets).toBeGreaterThanOrEqual(2 * COUNT);
    expect(bOut.counters.packets).toBeGreaterThanOrEqual(2 * COUNT);
    expect(bIn.counters.packets).toBe(aOut.counters.packets);
    expect(aIn.counters.packets).toBe(bOut.counters.packets);
    expect(await tsharkCount(lab.pcapFile, 'esp.spi == 0x1001 && ip.src == 192.0.2.1 && ip.dst == 192.0.2.2')).toBe(aOut.counters.packets);
    expect(await tsharkCount(lab.pcapFile, 'esp.spi == 0x1002 && ip.src == 192.0.2.2 && ip.dst == 192.0.2.1')).toBe(bOut.counters.packets);
    for (const s of [status.a, status.b]) {
      expect(s.pipeline.sealed).toBeGreaterThanOrEqual(2 * COUNT);
      expect(s.pipeline.opened).toBeGreaterThanOrEqual(2 * COUNT);
      for (const reason of PROTECTED_PATH_FAILURES) expect(drop(s, reason), reason).toBe(0);
    }
  });

  it('puts only ESP, ARP and the bypassed IPv4 on wan: no clear protocol 41, no IPv6, no payload in clear', async () => {
    expect(wire.violations).toBe(0);
    expect(classesSeen(wire)).toEqual(['arp', 'bypassIpv4', 'esp']);
    expect(await tsharkCount(lab.pcapFile, 'ipv6 || ip.proto == 41')).toBe(0);
    // Only the bypassed IPv4 pings show the payload, so the search itself is shown to work.
    expect(await tsharkCount(lab.pcapFile, `frame contains ${PING_PAYLOAD}`)).toBe(ipv4PingFrames());
    expect(await tsharkCount(lab.pcapFile, `frame contains ${PING_PAYLOAD} && !icmp`)).toBe(0);
  });

  it('BYPASS: bridges IPv4 198.51.100.0/24 both ways untouched (the red hosts\' own MACs, TTL not decremented)', async () => {
    expect(pings.a2b4).toMatchObject({ ok: true, received: COUNT });
    expect(pings.b2a4).toMatchObject({ ok: true, received: COUNT });
    const { redA, redB } = lab.topology.namespaces;
    const macA = await macOf(redA, 'eth0');
    const macB = await macOf(redB, 'eth0');
    const requestsA = await tsharkFields(lab.pcapFile, `icmp.type == 8 && ip.src == ${SITE_A.host4} && ip.dst == ${SITE_B.host4}`, 'eth.src');
    const requestsB = await tsharkFields(lab.pcapFile, `icmp.type == 8 && ip.src == ${SITE_B.host4} && ip.dst == ${SITE_A.host4}`, 'eth.src');
    expect(requestsA).toEqual(Array(pings.a2b4.transmitted).fill(macA));
    expect(requestsB).toEqual(Array(pings.b2a4.transmitted).fill(macB));
    expect(await tsharkFields(lab.pcapFile, 'icmp', 'ip.ttl')).toEqual(Array(ipv4PingFrames()).fill('64'));
    expect(wire.counts.bypassIpv4).toBe(ipv4PingFrames());
    // Each appliance bridged its host's requests and replies to black, and the other host's to red.
    for (const s of [status.a, status.b]) {
      expect(s.pipeline.bridgedToBlack).toBeGreaterThanOrEqual(2 * COUNT);
      expect(s.pipeline.bridgedToRed).toBeGreaterThanOrEqual(2 * COUNT);
    }
  });

  it('answers IPv6 to a prefix no peer owns with Destination Unreachable, no route (RFC 4443 §3.1), from rb-a', async () => {
    const { stdout } = await runCommand(['ip', 'netns', 'exec', lab.topology.namespaces.redA, 'ping', '-6', '-n', '-c', '1', '-W', '2', '2001:db8:c::1'], { allowFailure: true });
    expect(stdout).toContain(`From ${SITE_A.router6} icmp_seq=1 Destination unreachable: No route`);
  });

  it('answers ping6 to the far gateway\'s router address through the tunnel, both ways (RFC 4443 §4.2)', async () => {
    const { redA, redB } = lab.topology.namespaces;
    expect(await pingFrom(redB, SITE_A.router6, { count: 2 })).toMatchObject({ ok: true, received: 2 });
    expect(await pingFrom(redA, SITE_B.router6, { count: 2 })).toMatchObject({ ok: true, received: 2 });
  });

  it('answers a packet whose hop limit runs out at the far gateway with Time Exceeded through the tunnel, from that gateway (RFC 4443 §3.3)', async () => {
    // Hop limit 2: rb-b forwards it with 1, rb-a cannot.
    const { stdout } = await runCommand(['ip', 'netns', 'exec', lab.topology.namespaces.redB, 'ping', '-6', '-n', '-c', '1', '-W', '2', '-t', '2', SITE_A.host6], { allowFailure: true });
    expect(stdout).toContain(`From ${SITE_A.router6} icmp_seq=1 Time exceeded: Hop limit`);
    // What crossed wan for these tests was ESP too.
    const after = await lab.wire();
    expect(after.violations).toBe(0);
    expect(classesSeen(after)).toEqual(['arp', 'bypassIpv4', 'esp']);
  });
});

describe('DISCARD and no policy (test/fixtures/lab/discard-a.yaml, examples/lab-b.yaml)', () => {
  const PREFIX = 'rk1-disc-';
  const COUNT = 3;
  const DISCARDED_HOST6 = '2001:db8:b::30';
  const DISCARDED_HOST4 = '198.51.100.30';
  const UNLISTED_A = '203.0.113.10';
  const UNLISTED_B = '203.0.113.20';
  let lab: RunningLab;
  let before: { a: ApplianceStatus; b: ApplianceStatus };
  let after: { a: ApplianceStatus; b: ApplianceStatus };
  let pings: { echo6: PingResult; ipv4: PingResult; unlisted: PingResult };
  let wire: WireSummary;

  beforeAll(async () => {
    await destroyLabTopology(PREFIX);
    lab = await RunningLab.start(PREFIX, { a: path.join(FIXTURES, 'discard-a.yaml'), b: path.join(EXAMPLES, 'lab-b.yaml') });
    const { redA, redB } = lab.topology.namespaces;
    // red-b holds the two discarded addresses; both hosts get an address outside every SPD entry.
    for (const [ns, address] of [[redB, `${DISCARDED_HOST6}/64`], [redB, `${DISCARDED_HOST4}/24`], [redA, `${UNLISTED_A}/24`], [redB, `${UNLISTED_B}/24`]]) {
      await runCommand(['ip', '-n', ns, 'addr', 'add', address, 'dev', 'eth0']);
    }
    before = await lab.status();
    pings = {
      echo6: await pingFrom(redA, DISCARDED_HOST6, { count: COUNT, deadlineSeconds: 2 }),
      ipv4: await pingFrom(redA, DISCARDED_HOST4, { count: COUNT, deadlineSeconds: 2 }),
      unlisted: await pingFrom(redB, UNLISTED_A, { count: COUNT, deadlineSeconds: 2 }),
    };
    after = await lab.status();
    wire = await lab.wire();
  });
  afterAll(async () => {
    await lab?.destroy();
    await destroyLabTopology(PREFIX);
  });

  it('answers none of the discarded or unlisted pings', () => {
    for (const p of Object.values(pings)) {
      expect(p.transmitted).toBeGreaterThanOrEqual(COUNT);
      expect(p.received).toBe(0);
    }
  });

  it('counts each discarded request under "discard" on rb-a, the sender\'s gateway, and nothing on rb-b', () => {
    const delta = (s: 'a' | 'b', reason: string) => drop(after[s], reason) - drop(before[s], reason);
    expect(delta('a', DISCARD)).toBe(pings.echo6.transmitted + pings.ipv4.transmitted);
    expect(delta('b', DISCARD)).toBe(0);
    // The discarded ICMPv6 never reached the tunnel: no ESP was sealed for it.
    expect(sa(after.a, 'outbound').counters.packets).toBe(sa(before.a, 'outbound').counters.packets);
  });

  it('counts IPv4 that matches no entry under "no-policy" on rb-b, the sender\'s gateway, and nothing on rb-a', () => {
    const delta = (s: 'a' | 'b', reason: string) => drop(after[s], reason) - drop(before[s], reason);
    expect(delta('b', NO_POLICY)).toBe(pings.unlisted.transmitted);
    expect(delta('a', NO_POLICY)).toBe(0);
  });

  it('lets nothing cross wan but the ARP the red hosts bridge', async () => {
    expect(wire.violations).toBe(0);
    expect(classesSeen(wire)).toEqual(['arp']);
    expect(await tsharkCount(lab.pcapFile, `ip.addr == ${DISCARDED_HOST4} || ip.addr == 203.0.113.0/24 || ipv6 || esp`)).toBe(0);
  });

  it('still forwards what the discard entries do not cover', async () => {
    const { redA } = lab.topology.namespaces;
    expect(await pingFrom(redA, SITE_B.host6, { count: 2 })).toMatchObject({ ok: true });
    expect(await pingFrom(redA, SITE_B.host4, { count: 2 })).toMatchObject({ ok: true });
  });
});

describe('ESP tunnel mode, IPv6 directly in ESP over IPv4 (RFC 4891 App. A: examples/lab-tunnel-a.yaml, lab-tunnel-b.yaml)', () => {
  const PREFIX = 'rk1-tun-';
  const COUNT = 3;
  let lab: RunningLab;
  let pings: PingResult[];
  let status: { a: ApplianceStatus; b: ApplianceStatus };
  let wire: WireSummary;

  beforeAll(async () => {
    await destroyLabTopology(PREFIX);
    lab = await RunningLab.start(PREFIX, { a: path.join(EXAMPLES, 'lab-tunnel-a.yaml'), b: path.join(EXAMPLES, 'lab-tunnel-b.yaml') });
    const { redA, redB } = lab.topology.namespaces;
    pings = [await pingFrom(redA, SITE_B.host6, { count: COUNT }), await pingFrom(redB, SITE_A.host6, { count: COUNT })];
    status = await lab.status();
    wire = await lab.wire();
  });
  afterAll(async () => {
    await lab?.destroy();
    await destroyLabTopology(PREFIX);
  });

  it('answers ping6 both ways', () => {
    for (const p of pings) expect(p).toMatchObject({ ok: true, received: COUNT });
  });

  it('reports tunnel-mode SAs between the TEPs on both sides, their counters matching the wire', async () => {
    for (const [s, local, remote, policy] of [[status.a, SITE_A.tep4, SITE_B.tep4, 'site-a-to-b'], [status.b, SITE_B.tep4, SITE_A.tep4, 'site-b-to-a']] as const) {
      expect(s.sas.map((x) => x.mode)).toEqual(['tunnel', 'tunnel']);
      expect(s.sas.every((x) => x.policy === policy)).toBe(true);
      expect(sa(s, 'outbound')).toMatchObject({ source: local, destination: remote });
      expect(sa(s, 'inbound')).toMatchObject({ source: remote, destination: local });
      expect(sa(s, 'outbound').counters.packets).toBeGreaterThanOrEqual(2 * COUNT);
      for (const reason of PROTECTED_PATH_FAILURES) expect(drop(s, reason), reason).toBe(0);
    }
    expect(sa(status.b, 'inbound').counters.packets).toBe(sa(status.a, 'outbound').counters.packets);
    expect(sa(status.a, 'inbound').counters.packets).toBe(sa(status.b, 'outbound').counters.packets);
    expect(await tsharkCount(lab.pcapFile, 'esp.spi == 0x6001 && ip.src == 192.0.2.1 && ip.dst == 192.0.2.2')).toBe(sa(status.a, 'outbound').counters.packets);
    expect(await tsharkCount(lab.pcapFile, 'esp.spi == 0x6002 && ip.src == 192.0.2.2 && ip.dst == 192.0.2.1')).toBe(sa(status.b, 'outbound').counters.packets);
  });

  it('puts only ESP and ARP on wan: the IPv6 travels in ESP with no clear 6in4 header, its payload hidden', async () => {
    expect(wire.violations).toBe(0);
    expect(classesSeen(wire)).toEqual(['arp', 'esp']);
    expect(await tsharkCount(lab.pcapFile, `frame contains ${PING_PAYLOAD}`)).toBe(0);
  });

  it('answers ping6 to the far gateway\'s router address, and Time Exceeded from it, through the ESP tunnel', async () => {
    const { redA, redB } = lab.topology.namespaces;
    expect(await pingFrom(redB, SITE_A.router6, { count: 2 })).toMatchObject({ ok: true, received: 2 });
    expect(await pingFrom(redA, SITE_B.router6, { count: 2 })).toMatchObject({ ok: true, received: 2 });
    const { stdout } = await runCommand(['ip', 'netns', 'exec', redB, 'ping', '-6', '-n', '-c', '1', '-W', '2', '-t', '2', SITE_A.host6], { allowFailure: true });
    expect(stdout).toContain(`From ${SITE_A.router6} icmp_seq=1 Time exceeded: Hop limit`);
    expect(classesSeen(await lab.wire())).toEqual(['arp', 'esp']);
  });
});

describe('npm run lab -- --json', () => {
  const PREFIX = 'rk1-lab-';
  const LAB = path.join(ROOT, 'dist', 'src', 'lab', 'main.js');

  afterAll(async () => {
    await destroyLabTopology(PREFIX);
  });

  it('reports every ping ok and no violations, and leaves nothing behind', async () => {
    await destroyLabTopology(PREFIX);
    const { code, stdout, stderr } = await runCommand([process.execPath, LAB, '--json', '--prefix', PREFIX], { allowFailure: true, timeoutMs: 60_000 });
    expect(stdout, stderr).not.toBe('');
    const report = JSON.parse(stdout) as {
      prefix: string;
      namespaces: Record<string, string>;
      pings: PingResult[];
      capture: { path: string; summary: WireSummary };
      problems: string[];
      kept: boolean;
    };
    rmSync(path.dirname(report.capture.path), { recursive: true, force: true });
    expect(report.problems).toEqual([]);
    expect(code, stderr).toBe(0);
    expect(report.prefix).toBe(PREFIX);
    expect(Object.values(report.namespaces).every((ns) => ns.startsWith(PREFIX))).toBe(true);
    expect(report.pings.map((p) => p.target)).toEqual([SITE_B.host6, SITE_A.host6, SITE_B.host4]);
    expect(report.pings.every((p) => p.ok)).toBe(true);
    expect(report.capture.summary.violations).toBe(0);
    expect(report.capture.summary.counts.esp).toBeGreaterThan(0);
    expect(report.kept).toBe(false);
    const { stdout: left } = await runCommand(['ip', 'netns', 'list']);
    expect(left.split('\n').filter((line) => line.startsWith(PREFIX))).toEqual([]);
  });

  it('rejects a prefix that cannot name a namespace before building anything', async () => {
    const bad = await runCommand([process.execPath, LAB, '--json', '--prefix', '../x'], { allowFailure: true });
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/prefix "\.\.\/x" is invalid/);
    const missing = await runCommand([process.execPath, LAB, '--prefix'], { allowFailure: true });
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--prefix needs a value/);
  });
});
