/**
 * `npm run bench:frame-io`: raw frame I/O between two FramePorts on a veth pair (va <-> vb) inside the network
 * namespace rbbench-io, which this run creates and removes (root only).
 *
 *  - latency: one 64-byte frame bounced port A -> port B -> port A through the readable callbacks, as the data plane
 *    runs them (event loop, then busy poll); median and p99 of the round trip (two receive hops).
 *  - throughput: A streams frames to B (at most WINDOW in flight), B sends each back, A receives them; one thread,
 *    no event loop, every receive and send call moves up to `batch` frames. frames/s counts frames received per
 *    second by both ports, each one sent by the other port just before; the best of several rounds is kept.
 *    Beside it, the receiving thread's own cost: receive() draining 1024 frames already delivered, in ns per frame
 *    (median of several drains). On a veth the kernel's delivery work runs in the sender's syscall, so throughput
 *    alone hides where it is done; on a NIC it runs in softirq, often on another core.
 *
 *   npm run bench:frame-io [-- --quick] [-- --json]
 *
 * `--json` prints one object per row; `--quick` shortens every measurement (the whole run stays under 20 s).
 */
import { performance } from 'node:perf_hooks';
import { FrameSlots } from '../src/dataplane/frame-slots.js';
import { FramePort } from '../src/io/frame-port.js';
import { buildVethNamespace, removeNamespaces } from '../src/lab/topology.js';
import { putFrame, SEQ_OFFSET, slotRange } from '../test/io/frame-fixture.js';

const NS = 'rbbench-io';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const quick = args.has('--quick');
const LATENCY_SECONDS = quick ? 2 : 5;
const LATENCY_MAX_SAMPLES = quick ? 20_000 : 100_000;
const LATENCY_WARMUP = 50;
/** A round trip slower than this counts as lost and the next frame goes out. */
const LOST_AFTER_MS = 200;
/** Throughput is the best of several short rounds: a disturbance on a shared machine then costs one round only. */
const THROUGHPUT_ROUNDS = quick ? 4 : 8;
const THROUGHPUT_ROUND_MS = quick ? 150 : 250;
const WARMUP_MS = 100;
/** Frames A keeps in flight in the throughput runs: half the default 2048-frame receive ring of each port. */
const WINDOW = 1024;
/** In-flight frames are written off as lost after this long without any frame moving. */
const STALL_MS = 50;
const RECEIVE_COST_FRAMES = 1024;
const RECEIVE_COST_DRAINS = quick ? 10 : 30;
const SIZES = [64, 1400] as const;
const BATCHES = [32, 256] as const;

interface LatencyRow { kind: 'latency'; mode: string; samples: number; lost: number; medianUs: number; p99Us: number; maxUs: number }
interface ThroughputRow {
  kind: 'throughput'; size: number; batch: number; framesPerSecond: number; gbps: number; kernelDrops: number; lost: number;
  receiveNsPerFrame: number;
}

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function openPair(busyPoll: boolean): [FramePort, FramePort] {
  const a = FramePort.open('va', { netns: NS, busyPoll });
  try {
    return [a, FramePort.open('vb', { netns: NS, busyPoll })];
  } catch (err) {
    a.close();
    throw err;
  }
}

/** Bounces one frame A -> B -> A until the time or sample budget is spent. */
function latency(busyPoll: boolean): Promise<LatencyRow> {
  const [a, b] = openPair(busyPoll);
  const tx = new FrameSlots({ count: 1 });
  const rxA = new FrameSlots({ count: 64 });
  const rxB = new FrameSlots({ count: 64 });
  const back = slotRange(64);
  const one = Uint16Array.of(0);
  putFrame(tx, 0, b.info.mac, a.info.mac, 64, 0);
  const samples = new Float64Array(LATENCY_MAX_SAMPLES + LATENCY_WARMUP);
  let taken = 0;
  let lost = 0;
  let seq = 0;
  let sentAt = 0;
  const deadline = performance.now() + LATENCY_SECONDS * 1000;

  return new Promise<LatencyRow>((resolve) => {
    const finish = (): void => {
      clearInterval(watchdog);
      a.close();
      b.close();
      const sorted = samples.slice(LATENCY_WARMUP, Math.max(LATENCY_WARMUP, taken)).sort();
      resolve({
        kind: 'latency', mode: busyPoll ? 'busy poll' : 'event loop', samples: sorted.length, lost,
        medianUs: percentile(sorted, 0.5) * 1000, p99Us: percentile(sorted, 0.99) * 1000,
        maxUs: sorted[sorted.length - 1] * 1000,
      });
    };
    const sendNext = (): void => {
      if (taken >= samples.length || performance.now() > deadline) {
        finish();
        return;
      }
      tx.view.setUint32(tx.start[0] + SEQ_OFFSET, ++seq);
      sentAt = performance.now();
      a.send(tx, one, 1);
    };
    b.onReadable(() => {
      let n;
      while ((n = b.receive(rxB, 0, rxB.count)) > 0) b.send(rxB, back, n);
    });
    a.onReadable(() => {
      let n;
      let answered = false;
      while ((n = a.receive(rxA, 0, rxA.count)) > 0) {
        for (let i = 0; i < n; i++) answered ||= rxA.view.getUint32(rxA.start[i] + SEQ_OFFSET) === seq;
      }
      if (!answered) return;
      samples[taken++] = performance.now() - sentAt;
      sendNext();
    });
    const watchdog = setInterval(() => {
      if (performance.now() - sentAt < LOST_AFTER_MS) return;
      lost++;
      sendNext();
    }, LOST_AFTER_MS / 4);
    sendNext();
  });
}

/**
 * A streams batches to B while fewer than WINDOW frames are in flight, B sends back what it receives, A receives
 * them; every receive and send call moves at most `batch` frames.
 */
function throughput(size: number, batch: number): Omit<ThroughputRow, 'receiveNsPerFrame'> {
  const [a, b] = openPair(false);
  try {
    const tx = new FrameSlots({ count: batch });
    const rxA = new FrameSlots({ count: batch });
    const rxB = new FrameSlots({ count: batch });
    const list = slotRange(batch);
    for (let i = 0; i < batch; i++) putFrame(tx, i, b.info.mac, a.info.mac, size, i);
    let inFlight = 0;
    let lost = 0;
    let lastProgress = performance.now();
    /** One turn of the loop; returns the frames received by A and B. */
    const step = (now: number): number => {
      if (inFlight + batch <= WINDOW) inFlight += a.send(tx, list, batch);
      const atB = b.receive(rxB, 0, batch);
      if (atB > 0) b.send(rxB, list, atB);
      const atA = a.receive(rxA, 0, batch);
      inFlight -= atA;
      if (atA + atB > 0) {
        lastProgress = now;
      } else if (now - lastProgress > STALL_MS) {
        lost += inFlight; // dropped on the way: stop waiting for them
        inFlight = 0;
      }
      return atA + atB;
    };
    const warmupEnd = performance.now() + WARMUP_MS;
    for (let now = performance.now(); now < warmupEnd; now = performance.now()) step(now);
    lost = 0;
    let best = 0;
    for (let round = 0; round < THROUGHPUT_ROUNDS; round++) {
      let frames = 0;
      const start = performance.now();
      const end = start + THROUGHPUT_ROUND_MS;
      let now = start;
      while (now < end) {
        frames += step(now);
        now = performance.now();
      }
      best = Math.max(best, frames / ((now - start) / 1000));
    }
    return {
      kind: 'throughput', size, batch, framesPerSecond: best, gbps: (best * size * 8) / 1e9,
      kernelDrops: a.counters().rxKernelDrops + b.counters().rxKernelDrops, lost,
    };
  } finally {
    a.close();
    b.close();
  }
}

/** Median ns per frame of receive() draining RECEIVE_COST_FRAMES frames that already sit in the ring. */
function receiveCost(size: number, batch: number): number {
  const [a, b] = openPair(false);
  try {
    const tx = new FrameSlots({ count: RECEIVE_COST_FRAMES });
    const rx = new FrameSlots({ count: batch });
    const list = slotRange(RECEIVE_COST_FRAMES);
    for (let i = 0; i < RECEIVE_COST_FRAMES; i++) putFrame(tx, i, a.info.mac, b.info.mac, size, i);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const costs: number[] = [];
    for (let drain = 0; drain < RECEIVE_COST_DRAINS; drain++) {
      b.send(tx, list, RECEIVE_COST_FRAMES);
      Atomics.wait(pause, 0, 0, 2); // the kernel finishes delivering
      let got = 0;
      let n;
      const start = performance.now();
      while ((n = a.receive(rx, 0, batch)) > 0) got += n;
      const ns = (performance.now() - start) * 1e6;
      if (got === RECEIVE_COST_FRAMES) costs.push(ns / got);
    }
    costs.sort((x, y) => x - y);
    return costs.length > 0 ? costs[costs.length >> 1] : NaN;
  } finally {
    a.close();
    b.close();
  }
}

function printTable(latencies: LatencyRow[], throughputs: ThroughputRow[]): void {
  const num = (x: number, width: number, digits = 0) =>
    x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits }).padStart(width);
  console.log('round trip A -> B -> A, one 64-byte frame');
  console.log('mode          samples   median µs     p99 µs     max µs   lost');
  for (const r of latencies) {
    console.log(`${r.mode.padEnd(12)}${num(r.samples, 9)}${num(r.medianUs, 12, 1)}${num(r.p99Us, 11, 1)}` +
      `${num(r.maxUs, 11, 1)}${num(r.lost, 7)}`);
  }
  console.log('\nreceive + send throughput (each frame received was sent by the other port)');
  console.log('frame bytes  batch      frames/s   Gbit/s  kernel drops   lost   receive ns/frame');
  for (const r of throughputs) {
    console.log(`${num(r.size, 11)}${num(r.batch, 7)}${num(r.framesPerSecond, 14)}${num(r.gbps, 9, 2)}` +
      `${num(r.kernelDrops, 14)}${num(r.lost, 7)}${num(r.receiveNsPerFrame, 19)}`);
  }
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) {
    console.error(`bench:frame-io needs root: it creates the network namespace ${NS} and opens raw sockets`);
    process.exitCode = 1;
    return;
  }
  process.once('SIGINT', () => {
    void removeNamespaces([NS]).finally(() => process.exit(130));
  });
  await buildVethNamespace(NS, ['va', 'vb']);
  try {
    const latencies = [await latency(false), await latency(true)];
    const throughputs = SIZES.flatMap((size) => BATCHES.map((batch): ThroughputRow =>
      ({ ...throughput(size, batch), receiveNsPerFrame: receiveCost(size, batch) })));
    if (json) {
      for (const r of [...latencies, ...throughputs]) console.log(JSON.stringify(r));
    } else {
      printTable(latencies, throughputs);
    }
  } finally {
    await removeNamespaces([NS]);
  }
}

await main();
