import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rmSync } from 'node:fs';
import path from 'node:path';
import { processAlive, runCommand } from '../../src/lab/command.js';
import { startWanCapture } from '../../src/lab/capture.js';
import { pingFrom } from '../../src/lab/ping.js';
import { startStrongSwanGateways, type StrongSwanGateways } from '../../src/lab/strongswan.js';
import { buildLabTopology, destroyLabTopology, LAB_ADDRESSES } from '../../src/lab/topology.js';
import { summarizeCapture, type WireSummary } from '../../src/lab/wire-summary.js';

const PREFIX = 'rbt-cap-';
const BYPASS = `${LAB_ADDRESSES.bypass4}/${LAB_ADDRESSES.bypass4Length}`;

/** Frames of the capture matching a tshark display filter: an independent dissector to compare with. */
async function tsharkCount(file: string, filter?: string): Promise<number> {
  const { stdout } = await runCommand(['tshark', '-r', file, '-T', 'fields', '-e', 'frame.number', ...(filter === undefined ? [] : ['-Y', filter])]);
  return stdout.split('\n').filter((line) => line !== '').length;
}

describe('wan capture between strongSwan gateways', () => {
  let gateways: StrongSwanGateways | undefined;
  let summary: WireSummary;
  let file: string;
  let capturePid: number;

  beforeAll(async () => {
    const topology = await buildLabTopology({ prefix: PREFIX, gateways: 'kernel' });
    const capture = await startWanCapture(topology, { maxSeconds: 60 });
    file = capture.path;
    capturePid = capture.pid;
    gateways = await startStrongSwanGateways(topology);
    const ping6 = await pingFrom(topology.namespaces.redA, LAB_ADDRESSES.b.host6, { count: 3 });
    expect(ping6.ok).toBe(true);
    // The gateways' own IPv4 pings cross in clear: exactly what the summary must flag.
    const clear = await pingFrom(topology.namespaces.rbA, LAB_ADDRESSES.b.tep4, { count: 2 });
    expect(clear.ok).toBe(true);
    summary = summarizeCapture(await capture.stop(), { bypass4: BYPASS });
  });
  afterAll(async () => {
    await gateways?.stop();
    await destroyLabTopology(PREFIX);
    if (file !== undefined) rmSync(path.dirname(file), { recursive: true, force: true });
  });

  it('stops tcpdump by its PID and leaves a whole pcap', async () => {
    expect(processAlive(capturePid)).toBe(false);
    expect(summary.frames).toBe(await tsharkCount(file));
  });

  it('sees IKE and ESP-in-UDP (kernel-libipsec always encapsulates) and no IPv6', async () => {
    expect(summary.counts.ike).toBeGreaterThanOrEqual(4); // IKE_SA_INIT and IKE_AUTH, request and response
    expect(summary.counts.ike).toBe(await tsharkCount(file, 'isakmp'));
    expect(summary.counts.espInUdp).toBeGreaterThanOrEqual(6); // 3 echo requests and 3 replies
    expect(summary.counts.espInUdp).toBe(await tsharkCount(file, 'udp.port == 4500 && esp'));
    expect(summary.counts.esp).toBe(0);
    expect(summary.counts.ipv6).toBe(0);
    expect(summary.counts.clearIpv6InIpv4).toBe(0);
    expect(summary.counts.arp).toBeGreaterThanOrEqual(2);
  });

  it('flags the clear ICMP between the gateways as the only violations', async () => {
    expect(summary.counts.otherIpv4).toBe(await tsharkCount(file, 'icmp'));
    expect(summary.counts.otherIpv4).toBeGreaterThanOrEqual(4);
    expect(summary.violations).toBe(summary.counts.otherIpv4);
    expect(summary.firstViolations.every((v) => v.frameClass === 'otherIpv4')).toBe(true);
  });
});

describe('wan capture of a lab without appliances', () => {
  afterAll(async () => {
    await destroyLabTopology(PREFIX);
  });

  it('records nothing: without an appliance no frame reaches black', async () => {
    const topology = await buildLabTopology({ prefix: PREFIX });
    const capture = await startWanCapture(topology, { maxSeconds: 30 });
    const ping6 = await pingFrom(topology.namespaces.redA, LAB_ADDRESSES.b.host6, { count: 1, deadlineSeconds: 2 });
    const ping4 = await pingFrom(topology.namespaces.redA, LAB_ADDRESSES.b.host4, { count: 1, deadlineSeconds: 2 });
    expect([ping6.received, ping4.received]).toEqual([0, 0]);
    const summary = summarizeCapture(await capture.stop(), { bypass4: BYPASS });
    rmSync(path.dirname(capture.path), { recursive: true, force: true });
    expect(summary.frames).toBe(0);
    expect(summary.violations).toBe(0);
  });
});
