/**
 * The data plane allocates nothing per packet in steady state: a million frames go through the
 * pipelines of two gateways back to back (red A -> seal -> black -> open -> red B: each frame
 * through A and then B, native AEAD, batches of 256), and with each batch B's own ICMPv6 packets
 * to host A (Port.Local, the path of a far gateway's replies: seal on B, open on A), without a single
 * young-generation collection, with (nearly) no growth of the heap before the final collection,
 * and none after it.
 */
import { type NodeGCPerformanceDetail, type PerformanceEntry, PerformanceObserver, constants, performance } from 'node:perf_hooks';
import v8 from 'node:v8';
import vm from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
import { NativeAeadBackend } from '../../src/crypto/native-backend.js';
import { FrameSlots } from '../../src/dataplane/frame-slots.js';
import { Port } from '../../src/dataplane/pipeline.js';
import { ADDR, MAC, gatewayPair, writePing6, type Gateway } from './gateway-fixture.js';

const BATCH = 256;
/** Frames through a pipeline, counting both directions: half of them sealed by A, then opened by B. */
const FRAMES = 1_000_000;
const ROUNDS = Math.ceil(FRAMES / (2 * BATCH));
const WARM_UP_ROUNDS = 600;
/** B's own packets per round (Port.Local batches are small: replies and errors). */
const LOCAL = 16;
/** Heap growth tolerated over the million frames: code the JIT may still add, far below a byte per frame. */
const SLACK_BYTES = 512 * 1024;

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;

/** Every garbage collection seen: its kind (constants.NODE_PERFORMANCE_GC_*) and start time. */
const collections: { kind: number; start: number }[] = [];
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) {
    const { detail } = entry as PerformanceEntry & { detail: NodeGCPerformanceDetail };
    collections.push({ kind: detail.kind, start: entry.startTime });
  }
});
observer.observe({ entryTypes: ['gc'] });
afterAll(() => observer.disconnect());

/** Waits (at most 5 s) until the observer has reported a full collection that started after `time`. */
async function fullCollectionReportedAfter(time: number): Promise<boolean> {
  const reported = () => collections.some((c) => c.kind === constants.NODE_PERFORMANCE_GC_MAJOR && c.start >= time);
  const deadline = performance.now() + 5000;
  while (!reported() && performance.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  return reported();
}

/** Both gateways and one slot buffer: B opens A's sealed frames where A left them. */
function setUp(backend: NativeAeadBackend) {
  const { a, b } = gatewayPair({ backend, batch: BATCH });
  const slots = new FrameSlots({ count: BATCH });
  const frame = new Uint8Array(256);
  const ping = frame.subarray(0, writePing6(frame, 0, ADDR.hostA, ADDR.hostB, MAC.redA, MAC.hostA, 56));
  // B's own packets, framed from its red MAC to itself as LinkTransmitQueue.takeLocal hands them over.
  const local = new FrameSlots({ count: LOCAL });
  const own = new Uint8Array(256);
  const ownPacket = own.subarray(0, writePing6(own, 0, ADDR.routerB, ADDR.hostA, MAC.redB, MAC.redB, 56));
  let now = 1000.25;
  /**
   * Fills `count` slots with `packet`, seals them on `sender` (a batch from `from`) and opens them on
   * `receiver`; returns how many reached the receiver's red side, or -1 if the sealed frames were not
   * slots [0, count) in order.
   */
  const through = (sender: Gateway, from: Port, receiver: Gateway, batch: FrameSlots, count: number, packet: Uint8Array): number => {
    for (let i = 0; i < count; i++) {
      const at = batch.base(i) + batch.headroom;
      batch.bytes.set(packet, at);
      batch.start[i] = at;
      batch.length[i] = packet.length;
    }
    sender.pipeline.processBatch(from, batch, count, now);
    const sealed = sender.pipeline.txBlack;
    for (let j = 0; j < sealed.count; j++) if (sealed.slots[j] !== j) return -1;
    receiver.pipeline.processBatch(Port.Black, batch, sealed.count, now);
    return receiver.pipeline.txRed.count;
  };
  /** One batch A -> B and B's own packets B -> A; returns how many frames reached red B, or -1 if B's did not all reach red A. */
  const round = (): number => {
    const delivered = through(a, Port.Red, b, slots, BATCH, ping);
    if (through(b, Port.Local, a, local, LOCAL, ownPacket) !== LOCAL) return -1;
    now += 0.125; // a fractional clock, like performance.now() in the daemon
    return delivered;
  };
  return { a, b, round };
}

describe('data plane steady state', () => {
  const backend = new NativeAeadBackend();
  afterAll(() => backend.setCryptoThread(false));

  it.each([false, true])('takes 1M frames through the pipeline both ways, and its own packets (native AEAD, crypto thread %s, batches of 256), without allocating', async (cryptoThread) => {
    expect(backend.setCryptoThread(cryptoThread)).toBe(cryptoThread);
    collections.length = 0;
    const { a, b, round } = setUp(backend);
    for (let k = 0; k < WARM_UP_ROUNDS; k++) expect(round()).toBe(BATCH);

    gc();
    gc();
    const before = process.memoryUsage().heapUsed;
    const started = performance.now();
    let delivered = 0;
    for (let k = 0; k < ROUNDS; k++) delivered += round();
    const finished = performance.now();
    const grown = process.memoryUsage().heapUsed - before;
    gc();
    const retained = process.memoryUsage().heapUsed - before;
    // GC entries arrive asynchronously and in order: once this gc() is reported, so is every earlier one.
    expect(await fullCollectionReportedAfter(finished)).toBe(true);
    const scavenges = collections.filter((c) => c.kind === constants.NODE_PERFORMANCE_GC_MINOR && c.start >= started && c.start <= finished);

    expect(delivered).toBe(ROUNDS * BATCH);
    expect(a.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.drops.snapshot()).toEqual({});
    expect(b.pipeline.counters.opened).toBe((WARM_UP_ROUNDS + ROUNDS) * BATCH);
    expect(a.pipeline.counters.opened).toBe((WARM_UP_ROUNDS + ROUNDS) * LOCAL);
    expect(b.pipeline.counters.originated).toBe((WARM_UP_ROUNDS + ROUNDS) * LOCAL);
    // Allocation shows as heap growth until a scavenge hides it, so there must be no scavenge.
    expect(scavenges).toEqual([]);
    expect(grown).toBeLessThan(SLACK_BYTES);
    expect(retained).toBeLessThan(SLACK_BYTES);
  });
});
