import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { runCommand, inNamespace } from '../../src/lab/command.js';
import {
  buildLabTopology,
  destroyLabTopology,
  labNamespaces,
  LabTopologyError,
  LAB_ADDRESSES,
  type LabTopology,
} from '../../src/lab/topology.js';

const PREFIX = 'rbt-topo-';

interface IpAddr {
  ifname: string;
  mtu: number;
  master?: string;
  addr_info: { family: string; local: string; prefixlen: number; scope: string }[];
}

async function addresses(namespace: string): Promise<IpAddr[]> {
  const { stdout } = await runCommand(['ip', '-n', namespace, '-j', 'addr', 'show']);
  return JSON.parse(stdout) as IpAddr[];
}

async function namespaceNames(): Promise<string[]> {
  const { stdout } = await runCommand(['ip', 'netns', 'list']);
  return stdout.split('\n').map((line) => line.split(' ')[0]).filter((name) => name !== '');
}

function globalAddresses(links: IpAddr[], ifname: string): string[] {
  const link = links.find((l) => l.ifname === ifname);
  if (link === undefined) throw new Error(`no interface ${ifname}`);
  return link.addr_info.filter((a) => a.scope === 'global').map((a) => `${a.local}/${a.prefixlen}`).sort();
}

async function ping(namespace: string, target: string): Promise<number> {
  const result = await runCommand(inNamespace(namespace, ['ping', '-c', '2', '-i', '0.2', '-W', '1', '-w', '4', target]), { allowFailure: true });
  return result.code;
}

describe('lab topology (appliance gateways)', () => {
  let topology: LabTopology;
  const ns = labNamespaces(PREFIX);

  beforeAll(async () => {
    topology = await buildLabTopology({ prefix: PREFIX });
  });
  afterAll(async () => {
    await destroyLabTopology(PREFIX);
  });

  it('creates the five prefixed namespaces', async () => {
    const names = await namespaceNames();
    for (const name of ['rbt-topo-red-a', 'rbt-topo-rb-a', 'rbt-topo-wan', 'rbt-topo-rb-b', 'rbt-topo-red-b']) {
      expect(names).toContain(name);
    }
    expect(topology.namespaces).toEqual(ns);
  });

  it('gives the red hosts their IPv6 and bypass IPv4 addresses and a default route via the gateway', async () => {
    expect(globalAddresses(await addresses(ns.redA), 'eth0')).toEqual(['198.51.100.10/24', '2001:db8:a::10/64']);
    expect(globalAddresses(await addresses(ns.redB), 'eth0')).toEqual(['198.51.100.20/24', '2001:db8:b::10/64']);
    const { stdout } = await runCommand(['ip', '-n', ns.redA, '-6', '-j', 'route', 'show', 'default']);
    expect(JSON.parse(stdout)).toMatchObject([{ dst: 'default', gateway: '2001:db8:a::1', dev: 'eth0' }]);
    // DAD is off: the address is usable at once (not tentative).
    const { stdout: flags } = await runCommand(['ip', '-n', ns.redA, '-6', 'addr', 'show', 'dev', 'eth0']);
    expect(flags).not.toMatch(/tentative/);
  });

  it('leaves the appliance namespaces without any kernel address, IPv6 disabled, MTU 1500', async () => {
    for (const gw of [ns.rbA, ns.rbB]) {
      const links = await addresses(gw);
      for (const ifname of ['red', 'black']) {
        const link = links.find((l) => l.ifname === ifname);
        expect(link?.addr_info).toEqual([]);
        expect(link?.mtu).toBe(1500);
        const { stdout } = await runCommand(inNamespace(gw, ['sysctl', '-n', `net.ipv6.conf.${ifname}.disable_ipv6`]));
        expect(stdout.trim()).toBe('1');
      }
    }
  });

  it('bridges wan ports a and b on br0 with no addresses', async () => {
    const links = await addresses(ns.wan);
    expect(links.find((l) => l.ifname === 'a')?.master).toBe('br0');
    expect(links.find((l) => l.ifname === 'b')?.master).toBe('br0');
    for (const ifname of ['a', 'b', 'br0']) expect(links.find((l) => l.ifname === ifname)?.addr_info).toEqual([]);
  });

  it('turns segmentation, receive merging and transmit checksum offload off on the veths', async () => {
    expect(topology.offloadsDisabled).toBe(true);
    const { stdout } = await runCommand(inNamespace(ns.rbA, ['ethtool', '-k', 'red']));
    for (const feature of ['tx-checksumming', 'tcp-segmentation-offload', 'generic-segmentation-offload', 'generic-receive-offload']) {
      expect(stdout).toMatch(new RegExp(`^${feature}: off`, 'm'));
    }
  });

  it('keeps the wan silent: the kernels of rb-a and rb-b send nothing on black', async () => {
    // Red hosts solicit routers and join multicast groups; none of it may leak to black.
    await runCommand(inNamespace(ns.redA, ['ping', '-c', '1', '-W', '1', LAB_ADDRESSES.b.host6]), { allowFailure: true });
    const { stdout } = await runCommand(['ip', '-n', ns.wan, '-s', '-j', 'link', 'show']);
    const stats = JSON.parse(stdout) as { ifname: string; stats64: { rx: { packets: number } } }[];
    for (const ifname of ['a', 'b']) expect(stats.find((s) => s.ifname === ifname)?.stats64.rx.packets).toBe(0);
  });

  it('rebuilds over an existing lab with the same prefix', async () => {
    topology = await buildLabTopology({ prefix: PREFIX });
    expect(globalAddresses(await addresses(ns.redB), 'eth0')).toContain('2001:db8:b::10/64');
  });
});

describe('lab topology (kernel gateways)', () => {
  const ns = labNamespaces(PREFIX);
  beforeAll(async () => {
    await buildLabTopology({ prefix: PREFIX, gateways: 'kernel' });
  });
  afterAll(async () => {
    await destroyLabTopology(PREFIX);
  });

  it('gives the gateways their router and TEP addresses and connects them through wan', async () => {
    expect(globalAddresses(await addresses(ns.rbA), 'red')).toEqual(['2001:db8:a::1/64']);
    expect(globalAddresses(await addresses(ns.rbA), 'black')).toEqual(['192.0.2.1/24']);
    expect(globalAddresses(await addresses(ns.rbB), 'black')).toEqual(['192.0.2.2/24']);
    expect(await ping(ns.redA, LAB_ADDRESSES.a.router6)).toBe(0);
    expect(await ping(ns.rbA, LAB_ADDRESSES.b.tep4)).toBe(0);
    const { stdout } = await runCommand(inNamespace(ns.rbA, ['sysctl', '-n', 'net.ipv6.conf.black.disable_ipv6']));
    expect(stdout.trim()).toBe('1');
  });
});

describe('lab teardown', () => {
  it('is idempotent and ends processes a crashed run left inside the namespaces', async () => {
    const ns = labNamespaces(PREFIX);
    await buildLabTopology({ prefix: PREFIX });
    const leftover = spawn('ip', ['netns', 'exec', ns.wan, 'sleep', '30'], { stdio: 'ignore' });
    const exited = new Promise<NodeJS.Signals | null>((resolve) => leftover.once('exit', (_code, signal) => resolve(signal)));
    await new Promise((resolve) => setTimeout(resolve, 200));
    await destroyLabTopology(PREFIX);
    expect(await exited).toBe('SIGTERM');
    await destroyLabTopology(PREFIX);
    const names = await namespaceNames();
    expect(names.filter((name) => name.startsWith(PREFIX))).toEqual([]);
  });

  it('rejects a prefix that cannot name a namespace; no prefix gives the lab its plain names', () => {
    expect(() => labNamespaces('../x')).toThrow(LabTopologyError);
    expect(() => labNamespaces('-x')).toThrow(/prefix "-x" is invalid/);
    expect(labNamespaces('')).toEqual({ redA: 'red-a', rbA: 'rb-a', wan: 'wan', rbB: 'rb-b', redB: 'red-b' });
  });
});
