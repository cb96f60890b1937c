/**
 * FramePort on a real veth pair (va <-> vb) inside a network namespace this file creates (root only).
 * Frames are the test frames of frame-fixture.ts (experimental EtherType, sequence number). The receive and send
 * tests run once per receive ring version (rxRing 'v2' and 'v3').
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { FramePort, RX_RINGS, type FramePortOptions, type RxRing } from '../../src/io/frame-port.js';
import { FramePortError } from '../../src/io/frame-port-error.js';
import { buildVethNamespace, removeNamespaces } from '../../src/lab/topology.js';
import { macBytes, putFrame, SEQ_OFFSET, slotRange } from './frame-fixture.js';

const NS = 'rbio-port';
const OTHER_MAC = '02:00:00:00:00:99';
const isRoot = process.getuid?.() === 0;
const addonPath = new URL('../../native/build/Release/redblack.node', import.meta.url).pathname;

function ip(...args: string[]): string {
  return execFileSync('ip', ['-n', NS, ...args], { encoding: 'utf8' });
}

function inNs(...cmd: string[]): string {
  return execFileSync('ip', ['netns', 'exec', NS, ...cmd], { encoding: 'utf8' });
}

function linkJson(ifname: string): Record<string, unknown> {
  return (JSON.parse(ip('-d', '-j', 'link', 'show', ifname)) as Record<string, unknown>[])[0];
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(cond: () => boolean, what: string, timeoutMs = 3000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(2);
  }
}

function frameBytes(slots: FrameSlots, slot: number): Uint8Array {
  return slots.bytes.slice(slots.start[slot], slots.start[slot] + slots.length[slot]);
}

/** Indexes i < n where rx slot i does not hold the same frame as tx slot i. */
function mismatches(rx: FrameSlots, tx: FrameSlots, n: number): number[] {
  const bad: number[] = [];
  for (let i = 0; i < n; i++) {
    if (Buffer.compare(frameBytes(rx, i), frameBytes(tx, i)) !== 0) bad.push(i);
  }
  return bad;
}

/** Polls receive() until `want` frames sit in slots 0..want-1; returns how many arrived. */
/** Receives into `slots` from the readable callback, as the appliance does; returns how many arrived so far. */
function receiveOnReadable(port: FramePort, slots: FrameSlots): () => number {
  let got = 0;
  port.onReadable(() => {
    let n;
    while ((n = port.receive(slots, got, slots.count - got)) > 0) got += n;
  });
  return () => got;
}

async function receiveFrames(port: FramePort, slots: FrameSlots, want: number, timeoutMs = 3000): Promise<number> {
  let got = 0;
  await waitFor(() => {
    got += port.receive(slots, got, slots.count - got);
    return got >= want;
  }, `${want} frames on ${port.ifname} (got ${got})`, timeoutMs);
  return got;
}

describe.skipIf(!isRoot)('FramePort on a veth pair', () => {
  const ports: FramePort[] = [];
  const openPort = (ifname: string, options: FramePortOptions = {}): FramePort => {
    const port = FramePort.open(ifname, { netns: NS, ...options });
    ports.push(port);
    return port;
  };

  beforeAll(async () => {
    await buildVethNamespace(NS, ['va', 'vb']);
  });

  afterEach(() => {
    for (const port of ports.splice(0)) port.close();
  });

  afterAll(async () => {
    await removeNamespaces([NS]);
  });

  it('reports the interface as the kernel sees it and turns GRO off', () => {
    inNs('ethtool', '-K', 'va', 'gro', 'on');
    const a = openPort('va');
    const link = linkJson('va');
    expect(a.info).toEqual({
      name: 'va',
      ifindex: link.ifindex,
      mac: link.address,
      mtu: 1500,
      up: true,
      running: true,
      receiveOffloads: false,
    });
    expect(inNs('ethtool', '-k', 'va')).toMatch(/generic-receive-offload: off/);
  });

  it('notifies and counts link down and up', async () => {
    const a = openPort('va');
    const events: boolean[] = [];
    a.onLink((up) => events.push(up));
    ip('link', 'set', 'vb', 'down');
    await waitFor(() => events.length >= 1, 'link down');
    expect(a.info.running).toBe(false);
    ip('link', 'set', 'vb', 'up');
    await waitFor(() => events.length >= 2, 'link up');
    expect(events).toEqual([false, true]);
    expect(a.counters()).toMatchObject({ linkDowns: 1, linkUps: 1 });
  });

  for (const rxRing of RX_RINGS) {
    describe(`receiving through a ${rxRing} ring`, () => {
      const open = (ifname: string, options: FramePortOptions = {}): FramePort =>
        openPort(ifname, { rxRing, ...options });

      it('places frames at the headroom of the requested slots with their bytes and lengths', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 4 });
        const rx = new FrameSlots({ count: 16 });
        rx.bytes.fill(0xee);
        const lengths = [60, 1514, 64];
        lengths.forEach((len, i) => putFrame(tx, i, a.info.mac, b.info.mac, len, i));
        expect(b.send(tx, slotRange(3), 3)).toBe(3);

        let got = 0;
        await waitFor(() => (got += a.receive(rx, 5 + got, Math.min(2, 3 - got))) >= 3, 'three frames');
        for (let i = 0; i < 3; i++) {
          expect(rx.start[5 + i]).toBe((5 + i) * rx.slotSize + rx.headroom);
          expect(rx.length[5 + i]).toBe(lengths[i]);
          expect(frameBytes(rx, 5 + i)).toEqual(frameBytes(tx, i));
          // Nothing written in front of the frame or after it.
          const before = rx.bytes.subarray(rx.base(5 + i), rx.start[5 + i]);
          const after = rx.bytes.subarray(rx.start[5 + i] + lengths[i], rx.limit(5 + i));
          expect(before.every((x) => x === 0xee) && after.every((x) => x === 0xee)).toBe(true);
        }
        expect(rx.bytes.subarray(0, rx.base(5)).every((x) => x === 0xee)).toBe(true);
        expect(a.counters()).toMatchObject({ rxFrames: 3, rxBytes: 60 + 1514 + 64, rxTruncated: 0 });
        expect(b.counters()).toMatchObject({ txFrames: 3, txBytes: 60 + 1514 + 64, txErrors: 0 });
      });

      it('delivers a batch of 600 frames (three sendmmsg chunks, many V3 blocks) complete and in order', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 600 });
        const rx = new FrameSlots({ count: 600 });
        for (let i = 0; i < 600; i++) putFrame(tx, i, a.info.mac, b.info.mac, 64 + (i % 7) * 200, i);
        expect(b.send(tx, slotRange(600), 600)).toBe(600);
        expect(await receiveFrames(a, rx, 600)).toBe(600);
        expect(mismatches(rx, tx, 600)).toEqual([]);
        expect(a.counters()).toMatchObject({ rxFrames: 600, rxKernelDrops: 0 });
      });

      it('does not receive the frames it sends', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 10 });
        const rx = new FrameSlots({ count: 16 });
        for (let i = 0; i < 10; i++) putFrame(tx, i, b.info.mac, a.info.mac, 100, i);
        expect(a.send(tx, slotRange(10), 10)).toBe(10);
        expect(await receiveFrames(b, rx, 10)).toBe(10);
        await sleep(20); // time for anything looped back to reach the ring
        expect(a.receive(rx, 0, 16)).toBe(0);
        expect(a.counters().rxFrames).toBe(0);
      });

      it('receives frames addressed to another MAC and keeps the interface promiscuous while open', async () => {
        expect(linkJson('va').promiscuity).toBe(0);
        const a = open('va');
        const b = open('vb');
        expect(linkJson('va').promiscuity).toBe(1);
        const tx = new FrameSlots({ count: 1 });
        const rx = new FrameSlots({ count: 1 });
        putFrame(tx, 0, OTHER_MAC, b.info.mac, 80, 7);
        expect(b.send(tx, slotRange(1), 1)).toBe(1);
        expect(await receiveFrames(a, rx, 1)).toBe(1);
        expect(frameBytes(rx, 0)).toEqual(frameBytes(tx, 0));
        a.close();
        expect(linkJson('va').promiscuity).toBe(0);
      });

      it('receives what the kernel stack sends (an ARP request from the peer)', async () => {
        const a = open('va');
        const peerMac = linkJson('vb').address as string;
        const rx = new FrameSlots({ count: 8 });
        ip('addr', 'add', '192.0.2.2/24', 'dev', 'vb');
        try {
          try {
            inNs('ping', '-c', '1', '-W', '1', '192.0.2.1');
          } catch {
            // nobody answers: only the ARP request matters
          }
        } finally {
          ip('addr', 'del', '192.0.2.2/24', 'dev', 'vb');
        }
        const got = await receiveFrames(a, rx, 1);
        const arps = Array.from({ length: got }, (_, i) => frameBytes(rx, i)).filter((f) => f[12] === 0x08 && f[13] === 0x06);
        expect(arps.length).toBeGreaterThan(0);
        const arp = arps[0];
        expect(Array.from(arp.subarray(0, 6))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
        expect(arp.subarray(6, 12)).toEqual(macBytes(peerMac));
        expect(Array.from(arp.subarray(14 + 24, 14 + 28))).toEqual([192, 0, 2, 1]); // ARP target protocol address
      });

      it('keeps 802.1Q tags that the kernel moved into metadata', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 1 });
        const rx = new FrameSlots({ count: 1 });
        putFrame(tx, 0, a.info.mac, b.info.mac, 100, 1);
        const at = tx.start[0];
        tx.bytes.copyWithin(at + 16, at + 12, at + 100); // make room for the tag after the MACs
        tx.view.setUint16(at + 12, 0x8100);
        tx.view.setUint16(at + 14, (3 << 13) | 100); // PCP 3, VLAN 100
        tx.length[0] = 104;
        expect(b.send(tx, slotRange(1), 1)).toBe(1);
        expect(await receiveFrames(a, rx, 1)).toBe(1);
        expect(frameBytes(rx, 0)).toEqual(frameBytes(tx, 0));
      });

      it('drops and counts frames bigger than a slot, keeps the batch dense and writes only the slots it was given', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 4 });
        const rx = new FrameSlots({ count: 4, slotSize: 256, headroom: 64 }); // room for 192 bytes
        rx.bytes.fill(0xee);
        [193, 192, 1500, 100].forEach((len, i) => putFrame(tx, i, a.info.mac, b.info.mac, len, i));
        expect(b.send(tx, slotRange(4), 4)).toBe(4);
        let got = 0;
        await waitFor(() => {
          got += a.receive(rx, got, 3 - got);
          return a.counters().rxTruncated === 2 && got === 2;
        }, 'two frames received and two dropped');
        expect([rx.length[0], rx.length[1]]).toEqual([192, 100]);
        expect(rx.start[1]).toBe(rx.base(1) + rx.headroom);
        expect(frameBytes(rx, 0)).toEqual(frameBytes(tx, 1));
        expect(frameBytes(rx, 1)).toEqual(frameBytes(tx, 3));
        expect(rx.bytes.subarray(rx.base(3)).every((x) => x === 0xee)).toBe(true); // slot 3 was not offered
        expect(a.counters()).toMatchObject({ rxFrames: 2, rxTruncated: 2 });
      });

      it('drops a tagged frame that fits a slot only without its 802.1Q tag', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 2 });
        const rx = new FrameSlots({ count: 2, slotSize: 256, headroom: 64 }); // room for 192 bytes
        for (const [slot, len] of [[0, 196], [1, 192]]) {
          putFrame(tx, slot, a.info.mac, b.info.mac, len, slot);
          const at = tx.start[slot];
          tx.bytes.copyWithin(at + 16, at + 12, at + len - 4);
          tx.view.setUint16(at + 12, 0x8100);
          tx.view.setUint16(at + 14, 42);
        }
        expect(b.send(tx, slotRange(2), 2)).toBe(2);
        expect(await receiveFrames(a, rx, 1)).toBe(1);
        expect(frameBytes(rx, 0)).toEqual(frameBytes(tx, 1));
        expect(a.counters()).toMatchObject({ rxFrames: 1, rxTruncated: 1 });
      });

      it('holds frames as long as the ring allows and drops longer ones', async () => {
        // V2: a ring frame less the kernel's 66 header bytes; V3: a block (8 ring frames here) less 48 + 82 bytes.
        const longest = (ringFrameBytes: number): number =>
          (rxRing === 'v2' ? ringFrameBytes - 66 : 8 * ringFrameBytes - 130);
        const lengths = [longest(2048), longest(2048) + 1, longest(4096)];
        const mtu = String(lengths[2]);
        ip('link', 'set', 'va', 'mtu', mtu);
        ip('link', 'set', 'vb', 'mtu', mtu);
        try {
          const b = open('vb');
          const slotSize = 34816; // room for every length after the headroom
          const tx = new FrameSlots({ count: 3, slotSize });
          const rx = new FrameSlots({ count: 3, slotSize });
          lengths.forEach((len, i) => putFrame(tx, i, OTHER_MAC, b.info.mac, len, i));
          const small = open('va');
          expect(b.send(tx, slotRange(3), 3)).toBe(3);
          expect(await receiveFrames(small, rx, 1)).toBe(1);
          expect(frameBytes(rx, 0)).toEqual(frameBytes(tx, 0));
          let more = 0;
          await waitFor(() => {
            more += small.receive(rx, 1, 2); // V3: the longer frames may come in later blocks
            return small.counters().rxTruncated === 2;
          }, 'the two longer frames dropped');
          expect(more).toBe(0);
          small.close();
          const big = open('va', { ringFrameBytes: 4096 });
          expect(b.send(tx, slotRange(3), 3)).toBe(3);
          expect(await receiveFrames(big, rx, 3)).toBe(3);
          expect(mismatches(rx, tx, 3)).toEqual([]);
        } finally {
          ip('link', 'set', 'va', 'mtu', '1500');
          ip('link', 'set', 'vb', 'mtu', '1500');
        }
      });

      it('counts the frames the kernel drops when the ring is full', async () => {
        const a = open('va', { ringFrames: 16 });
        const b = open('vb');
        const tx = new FrameSlots({ count: 256 });
        const rx = new FrameSlots({ count: 256 });
        for (let i = 0; i < 256; i++) putFrame(tx, i, a.info.mac, b.info.mac, 1000, i);
        expect(b.send(tx, slotRange(256), 256)).toBe(256);
        let got = 0;
        await waitFor(() => {
          got += a.receive(rx, got, 256 - got);
          const c = a.counters();
          return c.rxFrames + c.rxKernelDrops >= 256;
        }, 'all 256 frames received or dropped');
        const c = a.counters();
        expect(c.rxKernelDrops).toBeGreaterThan(0);
        expect(c.rxFrames + c.rxKernelDrops).toBe(256);
        // What did arrive is in order.
        for (let i = 1; i < got; i++) expect(rx.view.getUint32(rx.start[i] + SEQ_OFFSET)).toBeGreaterThan(rx.view.getUint32(rx.start[i - 1] + SEQ_OFFSET));
      });

      for (const busyPoll of [false, true]) {
        it(`calls the readable callback from the event loop (busyPoll ${busyPoll})`, async () => {
          const a = open('va', { busyPoll });
          const b = open('vb');
          const tx = new FrameSlots({ count: 5 });
          const rx = new FrameSlots({ count: 16 });
          let got = 0;
          let calls = 0;
          a.onReadable(() => {
            calls++;
            let n;
            while ((n = a.receive(rx, got, rx.count - got)) > 0) got += n;
          });
          for (let i = 0; i < 5; i++) putFrame(tx, i, a.info.mac, b.info.mac, 70, i);
          expect(b.send(tx, slotRange(5), 5)).toBe(5);
          await waitFor(() => got >= 5, 'five frames through the readable callback');
          expect(got).toBe(5);
          expect(calls).toBeGreaterThan(0);
          // Once drained, the callback stays quiet (no spinning on an empty ring).
          const quiet = calls;
          await sleep(20);
          expect(calls).toBe(quiet);
        });
      }

      it('counts frames it cannot send and sends the rest', () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 4 });
        for (let i = 0; i < 4; i++) putFrame(tx, i, b.info.mac, a.info.mac, 80, i);
        tx.length[1] = 0; // no frame in slot 1
        putFrame(tx, 2, b.info.mac, a.info.mac, 1600, 2); // longer than the MTU
        expect(a.send(tx, Int32Array.from([0, 1, 2, 3]), 4)).toBe(2);
        expect(a.counters()).toMatchObject({ txFrames: 2, txErrors: 2 });

        ip('link', 'set', 'va', 'down');
        try {
          expect(a.send(tx, Int32Array.from([0, 3]), 2)).toBe(0);
          expect(a.counters()).toMatchObject({ txFrames: 2, txErrors: 4 });
        } finally {
          ip('link', 'set', 'va', 'up');
        }
        // Back up: the first batch goes out (the socket's pending ENETDOWN is not charged to it).
        expect(a.send(tx, Int32Array.from([0, 3]), 2)).toBe(2);
        expect(a.counters()).toMatchObject({ txFrames: 4, txErrors: 4 });
      });

      it('keeps receiving through the readable callback after its interface went down and up', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 2 });
        const rx = new FrameSlots({ count: 4 });
        const received = receiveOnReadable(a, rx);
        ip('link', 'set', 'va', 'down');
        ip('link', 'set', 'va', 'up');
        await waitFor(() => a.info.running, 'va running again');
        for (let i = 0; i < 2; i++) putFrame(tx, i, a.info.mac, b.info.mac, 90, i);
        expect(b.send(tx, slotRange(2), 2)).toBe(2);
        await waitFor(() => received() >= 2, 'two frames after down/up');
        expect(mismatches(rx, tx, 2)).toEqual([]);
      });

      it('receives a frame that arrives alone through the readable callback', async () => {
        const a = open('va');
        const b = open('vb');
        const tx = new FrameSlots({ count: 1 });
        const rx = new FrameSlots({ count: 4 });
        const received = receiveOnReadable(a, rx);
        putFrame(tx, 0, a.info.mac, b.info.mac, 64, 42);
        expect(b.send(tx, slotRange(1), 1)).toBe(1);
        // V3 hands the block over when its 1 ms retire timer fires.
        await waitFor(() => received() >= 1, 'the lone frame', 1000);
        expect(received()).toBe(1);
        expect(frameBytes(rx, 0)).toEqual(frameBytes(tx, 0));
      });

      it('goes on where a receive limited by maxFrames stopped, losing and repeating nothing', async () => {
        const a = open('va');
        const b = open('vb');
        const count = 40; // 40 frames of 100 bytes fill a fraction of one V3 block
        const tx = new FrameSlots({ count });
        const rx = new FrameSlots({ count });
        for (let i = 0; i < count; i++) putFrame(tx, i, a.info.mac, b.info.mac, 100, i);
        expect(b.send(tx, slotRange(count), count)).toBe(count);
        await sleep(20); // the block is handed over
        let got = 0;
        await waitFor(() => {
          const n = a.receive(rx, got, Math.min(3, count - got));
          expect(n).toBeLessThanOrEqual(3);
          got += n;
          return got === count;
        }, `${count} frames, 3 at a time (got ${got})`);
        expect(Array.from({ length: count }, (_, i) => rx.view.getUint32(rx.start[i] + SEQ_OFFSET)))
          .toEqual(Array.from({ length: count }, (_, i) => i));
        expect(mismatches(rx, tx, count)).toEqual([]);
        expect(a.receive(rx, 0, count)).toBe(0);
        expect(a.counters()).toMatchObject({ rxFrames: count, rxTruncated: 0 });
      });
    });
  }

  it('gives typed errors that name what to fix', () => {
    const err = (fn: () => unknown): FramePortError => {
      try {
        fn();
      } catch (e) {
        expect(e).toBeInstanceOf(FramePortError);
        return e as FramePortError;
      }
      throw new Error('expected a FramePortError');
    };
    const missing = err(() => openPort('rbio-none0'));
    expect(missing.code).toBe('INTERFACE_NOT_FOUND');
    expect(missing.message).toContain("interface 'rbio-none0' not found");
    expect(err(() => FramePort.open('va', { netns: 'rbio-absent' })).code).toBe('NETNS_NOT_FOUND');
    const badRing = err(() => openPort('va', { ringFrameBytes: 3000 }));
    expect(badRing.code).toBe('INVALID_ARGUMENT');
    expect(badRing.message).toContain('ringFrameBytes must be a power of two');
    const hugeRing = err(() => openPort('va', { ringFrames: 1 << 18, ringFrameBytes: 1 << 13 }));
    expect(hugeRing.message).toContain('exceeds 1 GiB');
    const badVersion = err(() => openPort('va', { rxRing: 'v1' as RxRing }));
    expect(badVersion.code).toBe('INVALID_ARGUMENT');
    expect(badVersion.message).toBe("option rxRing must be 'v2' or 'v3', got 'v1'");

    const a = openPort('va');
    const fractional = err(() => a.receive(new FrameSlots({ count: 2 }), 0.5, 1));
    expect(fractional.code).toBe('INVALID_ARGUMENT');
    expect(fractional.message).toBe('firstSlot must be an integer from 0 to 2147483647');
    expect(fractional.cause).toBeInstanceOf(TypeError);
    a.close();
    const closed = err(() => a.receive(new FrameSlots({ count: 1 }), 0, 1));
    expect(closed.code).toBe('PORT_CLOSED');
    expect(a.counters().rxFrames).toBe(0);
  });

  it.skipIf(!existsSync('/usr/bin/setpriv'))('says which capability is missing when not run as root', () => {
    // As nobody, socket(AF_PACKET) fails before any interface is looked up.
    const out = execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e',
      `const { NativeFramePort } = require(${JSON.stringify(addonPath)});
       try {
         new NativeFramePort('va', { ringFrames: 16, ringFrameBytes: 2048, rxRing: 'v2', busyPoll: false, mark: 0 });
       } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }`], { encoding: 'utf8' });
    const err = JSON.parse(out) as { code: string; message: string };
    expect(err.code).toBe('PERMISSION_DENIED');
    expect(err.message).toContain('needs CAP_NET_RAW');
  });

  it('closes ports left open when a worker thread ends', async () => {
    const worker = new Worker(
      `const { NativeFramePort } = require(${JSON.stringify(addonPath)});
       const port = new NativeFramePort('va', { netns: ${JSON.stringify(NS)}, ringFrames: 16, ringFrameBytes: 2048,
         rxRing: 'v2', busyPoll: false, mark: 0 });
       port.onReadable(() => {});
       port.onLink(() => {});
       require('node:worker_threads').parentPort.postMessage('open');`,
      { eval: true },
    );
    await new Promise<void>((resolve, reject) => {
      worker.once('message', () => resolve());
      worker.once('error', reject);
    });
    expect(linkJson('va').promiscuity).toBe(1);
    await worker.terminate();
    expect(linkJson('va').promiscuity).toBe(0);
  });
});
