/**
 * `npm run bench:frame-io`: raw frame I/O between two FramePorts on a veth pair (va <-> vb) inside the network
 * namespace rbbench-io, which this run creates and removes (root only). Every measurement runs with both receive
 * rings (rxRing 'v2', the default and baseline, and 'v3'), printed side by side with the v3/v2 ratio.
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
import { FramePort, RX_RINGS, type RxRing } from '../src/io/frame-port.js';
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
/** Time for the kernel to deliver a burst and for a V3 ring to hand over its last, partly filled block (1 ms timer). */
const DELIVERY_MS = 10;
const SIZES = [64, 1400] as const;
const BATCHES = [32, 256] as const;

interface LatencyRow {
  kind: 'latency'; mode: string; rxRing: RxRing; samples: number; lost: number; medianUs: number; p99Us: number;
  maxUs: number;
}
interface ThroughputRow {
  kind: 'throughput'; size: number; batch: number; rxRing: RxRing; framesPerSecond: number; gbps: number;
  kernelDrops: number; lost: number; receiveNsPerFrame: number;
}
/** One measurement with each ring; vsV2 is v3 over v2 (median round trip, frames/s). */
type ByRing<T> = Record<RxRing, T> & { vsV2: number };

function percentile(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function openPair(busyPoll: boolean, rxRing: RxRing): [FramePort, FramePort] {
  const a = FramePort.open('va', { netns: NS, busyPoll, rxRing });
  try {
    return [a, FramePort.open('vb', { netns: NS, busyPoll, rxRing })];
  } catch (err) {
    a.close();
    throw err;
  }
}

/** Bounces one frame A -> B -> A until the time or sample budget is spent. */
function latency(busyPoll: boolean, rxRing: RxRing): Promise<LatencyRow> {
  const [a, b] = openPair(busyPoll, rxRing);
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
        kind: 'latency', mode: busyPoll ? 'busy poll' : 'event loop', rxRing, samples: sorted.length, lost,
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
function throughput(size: number, batch: number, rxRing: RxRing): Omit<ThroughputRow, 'receiveNsPerFrame'> {
  const [a, b] = openPair(false, rxRing);
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
      kind: 'throughput', size, batch, rxRing, framesPerSecond: best, gbps: (best * size * 8) / 1e9,
      kernelDrops: a.counters().rxKernelDrops + b.counters().rxKernelDrops, lost,
    };
  } finally {
    a.close();
    b.close();
  }
}

/** Median ns per frame of receive() draining RECEIVE_COST_FRAMES frames that already sit in the ring. */
function receiveCost(size: number, batch: number, rxRing: RxRing): number {
  const [a, b] = openPair(false, rxRing);
  try {
    const tx = new FrameSlots({ count: RECEIVE_COST_FRAMES });
    const rx = new FrameSlots({ count: batch });
    const list = slotRange(RECEIVE_COST_FRAMES);
    for (let i = 0; i < RECEIVE_COST_FRAMES; i++) putFrame(tx, i, a.info.mac, b.info.mac, size, i);
    const pause = new Int32Array(new SharedArrayBuffer(4));
    const costs: number[] = [];
    for (let drain = 0; drain < RECEIVE_COST_DRAINS; drain++) {
      b.send(tx, list, RECEIVE_COST_FRAMES);
      Atomics.wait(pause, 0, 0, DELIVERY_MS);
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

/** Runs measure with each ring, v2 first. */
async function byRing<T>(measure: (rxRing: RxRing) => T | Promise<T>, value: (r: T) => number): Promise<ByRing<T>> {
  const rows = {} as Record<RxRing, T>;
  for (const rxRing of RX_RINGS) rows[rxRing] = await measure(rxRing);
  return { ...rows, vsV2: value(rows.v3) / value(rows.v2) };
}

function printTable(latencies: ByRing<LatencyRow>[], throughputs: ByRing<ThroughputRow>[]): void {
  const num = (x: number, digits = 0) =>
    x.toLocaleString('en', { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const line = (cells: string[], widths: number[]) => cells.map((c, i) => c.padStart(widths[i])).join('');
  const sum = (widths: number[]) => widths.reduce((x, y) => x + y, 0);
  const ratioWidth = 8;
  const ratio = (x: number) => `${x.toFixed(2)}x`.padStart(ratioWidth);
  /** Column headers once per ring, under a "v2 ring ---" banner each, then the ratio column. */
  const header = (lead: string, names: string[], widths: number[]) => {
    console.log(' '.repeat(lead.length) + RX_RINGS.map((r) => `  ${r} ring `.padEnd(sum(widths), '-')).join(''));
    console.log(lead + RX_RINGS.map(() => line(names, widths)).join('') + 'v3/v2'.padStart(ratioWidth));
  };

  console.log('round trip A -> B -> A, one 64-byte frame (two receive hops); v3/v2: ratio of the medians');
  const latencyWidths = [9, 11, 10, 10, 6];
  header('mode'.padEnd(12), ['samples', 'median µs', 'p99 µs', 'max µs', 'lost'], latencyWidths);
  const latencyCells = (r: LatencyRow) =>
    line([num(r.samples), num(r.medianUs, 1), num(r.p99Us, 1), num(r.maxUs, 1), num(r.lost)], latencyWidths);
  for (const r of latencies) {
    console.log(r.v2.mode.padEnd(12) + latencyCells(r.v2) + latencyCells(r.v3) + ratio(r.vsV2));
  }

  console.log('\nreceive + send throughput (each frame received was sent by the other port); v3/v2: ratio of frames/s');
  const throughputWidths = [12, 8, 9, 7, 13];
  header('bytes  batch', ['frames/s', 'Gbit/s', 'k.drops', 'lost', 'rx ns/frame'], throughputWidths);
  const throughputCells = (r: ThroughputRow) => line([num(r.framesPerSecond), num(r.gbps, 2), num(r.kernelDrops),
    num(r.lost), num(r.receiveNsPerFrame)], throughputWidths);
  for (const r of throughputs) {
    console.log(num(r.v2.size).padStart(5) + num(r.v2.batch).padStart(7) + throughputCells(r.v2) +
      throughputCells(r.v3) + ratio(r.vsV2));
  }
  console.log('k.drops: frames the kernel dropped (ring full); lost: written off after a stall');
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
    const latencies: ByRing<LatencyRow>[] = [];
    for (const busyPoll of [false, true]) {
      latencies.push(await byRing((ring) => latency(busyPoll, ring), (r) => r.medianUs));
    }
    const throughputs: ByRing<ThroughputRow>[] = [];
    for (const size of SIZES) {
      for (const batch of BATCHES) {
        throughputs.push(await byRing((ring): ThroughputRow =>
          ({ ...throughput(size, batch, ring), receiveNsPerFrame: receiveCost(size, batch, ring) }),
        (r) => r.framesPerSecond));
      }
    }
    if (json) {
      for (const r of [...latencies, ...throughputs]) {
        for (const ring of RX_RINGS) console.log(JSON.stringify({ ...r[ring], vsV2: ring === 'v2' ? 1 : r.vsV2 }));
      }
    } else {
      printTable(latencies, throughputs);
    }
  } finally {
    await removeNamespaces([NS]);
  }
}

await main();
