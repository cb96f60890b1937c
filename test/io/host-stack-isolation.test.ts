/**
 * Host stack isolation on a real veth pair between two namespaces this file creates (root, nft):
 * rbio-hs holds hs0, the isolated NIC, with an IPv4 address and IPv6 on; rbio-hsp holds its peer
 * hs1. Checked through both kernels (ping), FramePorts on both ends and nft's own counters.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { FramePort } from '../../src/io/frame-port.js';
import {
  APPLIANCE_FRAME_MARK, HOST_STACK_TABLE, HostStackIsolationError, applyHostStackMode, hostStackRuleset, reportHostStack,
} from '../../src/io/host-stack-isolation.js';
import { removeNamespaces } from '../../src/lab/topology.js';
import { putFrame, slotRange } from './frame-fixture.js';
import { HAS_NFT } from './nft-fixture.js';

const NS = 'rbio-hs';
const PEER_NS = 'rbio-hsp';
const NFT_IN_NS = ['ip', 'netns', 'exec', NS, 'nft'];
const isRoot = process.getuid?.() === 0;

function run(...cmd: string[]): string {
  return execFileSync(cmd[0], cmd.slice(1), { encoding: 'utf8' });
}

/** Whether two pings from `namespace` to `target` got any answer. */
function pingAnswered(namespace: string, target: string): boolean {
  try {
    run('ip', 'netns', 'exec', namespace, 'ping', '-n', '-c', '2', '-i', '0.2', '-W', '1', target);
    return true;
  } catch {
    return false;
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Drains `port` into `slots` for `ms`; returns the source MACs of what arrived, with their EtherTypes. */
async function received(port: FramePort, slots: FrameSlots, ms: number): Promise<{ src: string; type: number }[]> {
  const out: { src: string; type: number }[] = [];
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const n = port.receive(slots, 0, slots.count);
    for (let i = 0; i < n; i++) {
      const at = slots.start[i];
      const src = [...slots.bytes.subarray(at + 6, at + 12)].map((b) => b.toString(16).padStart(2, '0')).join(':');
      out.push({ src, type: slots.view.getUint16(at + 12) });
    }
    if (n === 0) await sleep(5);
  }
  return out;
}

describe('reportHostStack (nft stood in for by a script printing a listing)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'rb-nft-'));
  /** A stand-in for nft that prints `listing` (the real nft 1.0.6 JSON shape) whatever it is asked. */
  const nftPrinting = (listing: object): string[] => {
    const file = join(dir, `listing-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(file, JSON.stringify(listing));
    return ['sh', '-c', 'cat "$0"', file];
  };
  const rule = (chain: string, packets: number) => ({ rule: { family: 'netdev', table: HOST_STACK_TABLE, chain, handle: 5, expr: [{ counter: { packets, bytes: packets * 60 } }] } });
  const table = { table: { family: 'netdev', name: HOST_STACK_TABLE, handle: 1 } };

  it('maps the chains of the k-th NIC to the k-th key', async () => {
    const nft = nftPrinting({ nftables: [table, rule('nic0_ingress', 10), rule('nic0_egress', 1), rule('nic1_ingress', 20), rule('nic1_egress', 2)] });
    expect(await reportHostStack({ red: 'eth0', black: 'eth1' }, { nft })).toEqual({ red: { kept: 10, blocked: 1 }, black: { kept: 20, blocked: 2 } });
  });

  it('reports a NIC without its chains as null, naming it and the risk', async () => {
    const nft = nftPrinting({ nftables: [table, rule('nic0_ingress', 10), rule('nic0_egress', 1)] });
    expect(await reportHostStack({ red: 'eth0', black: 'eth1' }, { nft })).toEqual({
      red: { kept: 10, blocked: 1 }, black: null,
      error: `nft table netdev ${HOST_STACK_TABLE} has no rules for eth1: the host stack may use it; restart the appliance`,
    });
  });

  it('reports a table nft cannot list as null for every NIC, with what nft said', async () => {
    const nft = ['sh', '-c', 'echo "Error: No such file or directory" >&2; exit 1'];
    expect(await reportHostStack({ red: 'eth0', black: 'eth1' }, { nft })).toEqual({
      red: null, black: null,
      error: `cannot read nft table netdev ${HOST_STACK_TABLE} (Error: No such file or directory): the NICs may no longer be kept from the host stack`,
    });
  });
});

describe('hostStackRuleset', () => {
  it('refuses an interface name nft could not quote, naming it, before running anything', () => {
    expect(() => hostStackRuleset(['red', 'bl"ack'])).toThrow(HostStackIsolationError);
    expect(() => hostStackRuleset(['red', 'bl"ack'])).toThrow('interface "bl"ack" cannot be named in an nftables rule');
  });
});

describe.skipIf(!isRoot || !HAS_NFT)('applyHostStackMode on a veth pair', () => {
  const ports: FramePort[] = [];
  const open = (ifname: string, netns: string, mark?: number): FramePort => {
    const port = FramePort.open(ifname, { netns, mark, ringFrames: 64 });
    ports.push(port);
    return port;
  };

  beforeAll(async () => {
    await removeNamespaces([NS, PEER_NS]);
    run('ip', 'netns', 'add', NS);
    run('ip', 'netns', 'add', PEER_NS);
    run('ip', '-n', NS, 'link', 'add', 'hs0', 'type', 'veth', 'peer', 'name', 'hs1', 'netns', PEER_NS);
    run('ip', '-n', NS, 'addr', 'add', '192.0.2.1/24', 'dev', 'hs0');
    run('ip', '-n', PEER_NS, 'addr', 'add', '192.0.2.2/24', 'dev', 'hs1');
    run('ip', '-n', NS, 'link', 'set', 'hs0', 'up');
    run('ip', '-n', PEER_NS, 'link', 'set', 'hs1', 'up');
  });

  afterEach(() => {
    for (const port of ports.splice(0)) port.close();
  });

  afterAll(async () => {
    await removeNamespaces([NS, PEER_NS]);
  });

  it('keeps the host stack off the NIC both ways while FramePorts still receive everything and send marked frames', async () => {
    // Before: the host stack answers on hs0, so what follows is the isolation's doing.
    expect(pingAnswered(PEER_NS, '192.0.2.1')).toBe(true);
    run('ip', '-n', NS, 'neigh', 'flush', 'dev', 'hs0');
    run('ip', '-n', PEER_NS, 'neigh', 'flush', 'dev', 'hs1');

    applyHostStackMode('isolated', ['hs0'], { nft: NFT_IN_NS });
    const mine = open('hs0', NS, APPLIANCE_FRAME_MARK);
    const peer = open('hs1', PEER_NS);
    const slots = new FrameSlots({ count: 64 });

    // In: the peer's ARP requests reach the FramePort, but the host stack never sees them (it would
    // have learnt the peer's address from them).
    expect(pingAnswered(PEER_NS, '192.0.2.1')).toBe(false);
    expect(run('ip', '-n', NS, 'neigh', 'show', 'dev', 'hs0').trim()).toBe('');
    const atMine = await received(mine, slots, 100);
    expect(atMine.filter((f) => f.src === peer.info.mac && f.type === 0x0806).length).toBeGreaterThan(0);

    // Out: the host stack's own ARP (and IPv6 ND/MLD, IPv6 being on) never reaches the peer...
    expect(pingAnswered(NS, '192.0.2.2')).toBe(false);
    run('ip', 'netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.hs0.disable_ipv6=1');
    run('ip', 'netns', 'exec', NS, 'sysctl', '-qw', 'net.ipv6.conf.hs0.disable_ipv6=0');
    expect(await received(peer, slots, 300)).toEqual([]);
    // ...while frames with the appliance's mark do, and an unmarked port's do not.
    const tx = new FrameSlots({ count: 3 });
    for (let i = 0; i < 3; i++) putFrame(tx, i, peer.info.mac, mine.info.mac, 60, i);
    expect(mine.send(tx, slotRange(3), 3)).toBe(3);
    const unmarked = open('hs0', NS);
    unmarked.send(tx, slotRange(3), 3);
    expect(await received(peer, slots, 100)).toEqual([
      { src: mine.info.mac, type: 0x88b5 }, { src: mine.info.mac, type: 0x88b5 }, { src: mine.info.mac, type: 0x88b5 },
    ]);
    expect(unmarked.counters().txErrors).toBe(3);

    const { nic, error } = await reportHostStack({ nic: 'hs0' }, { nft: NFT_IN_NS });
    expect(error).toBeUndefined();
    expect(nic!.kept).toBeGreaterThan(0);
    expect(nic!.blocked).toBeGreaterThan(3);
  });

  it('replaces its table as a whole when run again', () => {
    applyHostStackMode('isolated', ['hs0'], { nft: NFT_IN_NS });
    applyHostStackMode('isolated', ['hs0'], { nft: NFT_IN_NS });
    const tables = run(...NFT_IN_NS, 'list', 'tables').trim().split('\n');
    expect(tables).toEqual([`table netdev ${HOST_STACK_TABLE}`]);
    expect(run(...NFT_IN_NS, 'list', 'chains').match(/chain \w+/g)).toEqual(['chain nic0_ingress', 'chain nic0_egress']);
  });

  it('shared: removes the table an isolated run left, so the host stack and unmarked frames pass again', async () => {
    applyHostStackMode('isolated', ['hs0'], { nft: NFT_IN_NS });
    applyHostStackMode('shared', ['hs0'], { nft: NFT_IN_NS });
    expect(run(...NFT_IN_NS, 'list', 'tables').trim()).toBe('');
    expect(pingAnswered(PEER_NS, '192.0.2.1')).toBe(true);
    // Nothing to remove is no error.
    applyHostStackMode('shared', ['hs0'], { nft: NFT_IN_NS });
    applyHostStackMode('shared', ['hs0'], { nft: ['/nonexistent/nft'] });
  });

  it('says what failed when nft fails or is not installed', () => {
    expect(() => applyHostStackMode('isolated', ['hs0', 'hs9'], { nft: ['ip', 'netns', 'exec', 'rbio-none', 'nft'] })).toThrow(
      /^cannot take hs0 and hs9 from the host stack: nft failed \(Cannot open network namespace "rbio-none".*\); the kernel needs nf_tables with the netdev egress hook \(Linux 5\.16\+\), or start with --host-stack shared$/);
    expect(() => applyHostStackMode('isolated', ['hs0'], { nft: ['/nonexistent/nft'] })).toThrow(
      'cannot take hs0 from the host stack: /nonexistent/nft (nftables) is not installed; install it, or start with --host-stack shared');
  });

  it.skipIf(!existsSync('/usr/bin/setpriv'))('tells an unprivileged caller that nft needs CAP_NET_ADMIN', () => {
    const nobody = ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'nft'];
    expect(() => applyHostStackMode('isolated', ['hs0'], { nft: nobody })).toThrow(
      /^cannot take hs0 from the host stack: nft failed \(.*(not permitted|denied).*\); nft needs CAP_NET_ADMIN: run the appliance as root, or start with --host-stack shared$/);
  });
});
