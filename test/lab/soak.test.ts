/**
 * The soak (src/lab/soak.ts, `npm run soak`): its checks on synthetic samples (no lab), and a
 * very short run through runSoak (prefix rks-; needs root and dist/ from `npm run build`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { runCommand } from '../../src/lab/command.js';
import { runSoak, type SoakReport } from '../../src/lab/soak.js';
import { checkSoakChunk, DEFAULT_SOAK_LIMITS, type SoakApplianceSample, type SoakChunkSample } from '../../src/lab/soak-checks.js';
import { destroyLabTopology } from '../../src/lab/topology.js';
import { allowedFrameClasses, FRAME_CLASSES, type FrameClass, type WireSummary } from '../../src/lab/wire-summary.js';
import { packageRoot } from '../../src/platform/package-root.js';

const MIB = 1024;

function appliance(namespace: string, figures: Partial<Extract<SoakApplianceSample, { state: 'running' }>> = {}): SoakApplianceSample {
  return {
    state: 'running', namespace, pid: 100, rssKiB: 70 * MIB, cpuPercent: 40, drops: {},
    outboundPackets: 5000, inboundPackets: 5000, blackRxKernelDrops: 0, blackTxErrors: 0, redRxKernelDrops: 0, eventLoopDelayMaxMs: 12, ...figures,
  };
}

const cleanWire: WireSummary = {
  frames: 2,
  counts: { ...(Object.fromEntries(FRAME_CLASSES.map((c) => [c, 0])) as Record<FrameClass, number>), arp: 2 },
  allowed: allowedFrameClasses({ bypass4: '198.51.100.0/24' }),
  violations: 0,
  firstViolations: [],
};

/** A chunk that passes every check; `change` alters it. */
function sample(change: Partial<SoakChunkSample> = {}): SoakChunkSample {
  return {
    index: 2,
    direction: 'b->a',
    seconds: 31,
    traffic: { ok: true, receivedBitsPerSecond: 200e6, sentBitsPerSecond: 200e6, lostPercent: 0 },
    pings: [{ name: 'ping6 red-a -> red-b', transmitted: 10, received: 10, ok: true }],
    wire: cleanWire,
    pcapPath: null,
    appliances: { a: appliance('rb-a'), b: appliance('rb-b') },
    ...change,
  };
}

describe('checkSoakChunk (synthetic samples)', () => {
  const first = sample({ index: 1 });

  it('passes a chunk with matching SA counters, no drops, no loss and stable RSS', () => {
    expect(checkSoakChunk(sample(), first)).toEqual([]);
  });

  it('reports an icv-failure drop first, naming the appliance and the count', () => {
    const failures = checkSoakChunk(sample({
      appliances: { a: appliance('rb-a'), b: appliance('rb-b', { drops: { 'icv-failure': 3, 'ttl-exceeded': 1 } }) },
    }), first);
    expect(failures.map((f) => f.check)).toEqual(['protected-path-drops']);
    expect(failures[0].message).toMatch(/^rb-b dropped protected-path traffic: icv-failure 3 /);
  });

  it('accepts an SA counter gap the receiver\'s ring drops explain, and reports one they do not', () => {
    const explained = { a: appliance('rb-a', { outboundPackets: 5010 }), b: appliance('rb-b', { blackRxKernelDrops: 10 }) };
    expect(checkSoakChunk(sample({ appliances: explained }), first)).toEqual([]);
    const unexplained = { a: appliance('rb-a', { outboundPackets: 5010 }), b: appliance('rb-b', { blackRxKernelDrops: 9 }) };
    const failures = checkSoakChunk(sample({ appliances: unexplained }), first);
    expect(failures.map((f) => f.check)).toEqual(['sa-counters']);
    expect(failures[0].message).toMatch(/rb-a's outbound SA sealed 5010 packets, rb-b's inbound SA opened 5000: 10 short/);
  });

  it('reports loss over the allowance, unanswered pings, wan violations and RSS growth over the bound, in check order', () => {
    const failures = checkSoakChunk(sample({
      traffic: { ok: true, receivedBitsPerSecond: 190e6, sentBitsPerSecond: 200e6, lostPercent: DEFAULT_SOAK_LIMITS.udpLossPercent + 1 },
      pings: [{ name: 'ping6 red-b -> red-a', transmitted: 11, received: 9, ok: false }],
      wire: { ...cleanWire, frames: 3, counts: { ...cleanWire.counts, ipv6: 1 }, violations: 1, firstViolations: [{ frame: 3, frameClass: 'ipv6', length: 86 }] },
      pcapPath: '/run/x/wan-2.pcap',
      appliances: { a: appliance('rb-a', { rssKiB: 70 * MIB + DEFAULT_SOAK_LIMITS.rssGrowthKiB + 1 }), b: appliance('rb-b') },
    }), first);
    expect(failures.map((f) => f.check)).toEqual(['wan-violations', 'udp-loss', 'pings', 'rss-growth']);
    expect(failures[0].message).toBe('wan carried 1 frame(s) that must never cross it: 1 IPv6; first at frame 3 of /run/x/wan-2.pcap');
  });

  it('reports an appliance that stopped answering, and iperf3 that did not finish', () => {
    const failures = checkSoakChunk(sample({
      traffic: { ok: false, error: 'IperfError: unable to connect' },
      appliances: { a: { state: 'unavailable', namespace: 'rb-a', pid: 100, error: 'no answer' }, b: appliance('rb-b') },
    }), first);
    expect(failures.map((f) => f.check)).toEqual(['appliances', 'traffic']);
  });
});

describe('runSoak: 2 chunks of 3 s at 20 Mbit/s through the lab', () => {
  const PREFIX = 'rks-';
  const RATE = 20e6;
  let report: SoakReport;

  beforeAll(async () => {
    expect(existsSync(path.join(packageRoot(), 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run "npm run build" first').toBe(true);
    report = await runSoak({ prefix: PREFIX, chunks: 2, chunkSeconds: 3, udpBitsPerSecond: RATE, pingIntervalSeconds: 1 });
  }, 60_000);
  afterAll(async () => {
    await destroyLabTopology(PREFIX);
  });

  it('passes both chunks, one each way', () => {
    expect(report.firstFailure).toBeNull();
    expect(report.pass).toBe(true);
    expect(report.chunks.map((c) => [c.index, c.direction, c.failures.length])).toEqual([[1, 'a->b', 0], [2, 'b->a', 0]]);
  });

  it('reports sane figures: the offered rate arrived, pings answered, only ARP on wan besides ESP, SA counters and RSS plausible', () => {
    for (const chunk of report.chunks) {
      expect(chunk.traffic).toMatchObject({ ok: true });
      if (!chunk.traffic.ok) continue;
      expect(chunk.traffic.receivedBitsPerSecond).toBeGreaterThan(0.9 * RATE);
      expect(chunk.traffic.receivedBitsPerSecond).toBeLessThan(1.1 * RATE);
      expect(chunk.pings.map((p) => p.ok)).toEqual([true, true]);
      expect(chunk.wire.violations).toBe(0);
      expect(chunk.pcapPath).toBeNull();
      for (const a of Object.values(chunk.appliances)) {
        expect(a.state).toBe('running');
        if (a.state !== 'running') continue;
        expect(a.rssKiB).toBeGreaterThan(20 * MIB);
        expect(a.cpuPercent).toBeGreaterThan(0);
      }
    }
    // 3 s at 20 Mbit/s in 1400-byte datagrams is ~5400 ESP packets each way over the two chunks.
    const { a, b } = report.chunks[1].appliances;
    if (a.state !== 'running' || b.state !== 'running') throw new Error('an appliance was unavailable');
    expect(a.outboundPackets).toBeGreaterThan(5000);
    expect(b.outboundPackets).toBeGreaterThan(5000);
    // Every sealed packet was opened, but for any the kernel dropped from the receiver's black ring.
    expect(b.inboundPackets).toBeLessThanOrEqual(a.outboundPackets);
    expect(b.inboundPackets).toBeGreaterThanOrEqual(a.outboundPackets - b.blackRxKernelDrops);
    expect(a.inboundPackets).toBeLessThanOrEqual(b.outboundPackets);
    expect(a.inboundPackets).toBeGreaterThanOrEqual(b.outboundPackets - a.blackRxKernelDrops);
  });

  it('leaves no namespace behind', async () => {
    const { stdout } = await runCommand(['ip', 'netns', 'list']);
    expect(stdout.split('\n').filter((line) => line.startsWith(PREFIX))).toEqual([]);
  });
});
