/**
 * `npm run bench:pipeline`: packets per second through the in-memory data plane (classify, SPD,
 * 6in4, ESP seal; and the reverse: ESP open, 6in4 decapsulation, ingress checks) for 64- and
 * 1400-byte inner IPv6 payloads, beside the bare native crypto loop measured in the same run at
 * the same size and over the same slot layout (a batch of slots), in turns with them (median of
 * short chunks). No I/O: two gateways are wired back to back in memory. Refilling the slots
 * between batches stands for the NIC (one copy per frame from views made up front, no allocation)
 * and is not timed: only processBatch is.
 * Each is measured twice: AEAD on the calling thread, and on the backend's crypto thread (a
 * second core seals one chunk while the pipeline prepares the next).
 * `--json` prints one object per row, `--quick` shortens every measurement.
 */
import { selectAeadBackend } from '../src/crypto/index.js';
import { benchBare } from '../src/crypto/native-backend.js';
import { FrameSlots } from '../src/dataplane/frame-slots.js';
import { Port } from '../src/dataplane/pipeline.js';
import { ADDR, MAC, gatewayPair, writePing6 } from '../test/dataplane/gateway-fixture.js';

const args = new Set(process.argv.slice(2));
const json = args.has('--json');
const seconds = args.has('--quick') ? 0.5 : 2;
const BATCH = 256;
/** Sealed batches (distinct sequence numbers) that feed the open direction. */
const POOL = 64;

interface Row { direction: string; size: number; batch: number; cryptoThread: boolean; pps: number; gbps: number; bareRatio: number }

/** The packet rate of each chunk (a few milliseconds) of one measurement. */
class Meter {
  readonly rates: number[] = [];
  add(packets: number, ns: number): void {
    this.rates.push(packets / (ns / 1e9));
  }
  /** The median chunk: chunks the scheduler interrupted (other processes on the CPU) do not drag it down. */
  get pps(): number {
    const sorted = this.rates.slice().sort((x, y) => x - y);
    return sorted[sorted.length >> 1];
  }
}

/** One batch: refills the slots (untimed), then returns the packets processBatch put out and the nanoseconds it took. */
interface Batch { refill(): void; process(): number }

/** Runs `batches` batches as one chunk of `meter`, timing processBatch only. */
function chunk(meter: Meter, batch: Batch, batches: number): void {
  let ns = 0n;
  let packets = 0;
  for (let k = 0; k < batches; k++) {
    batch.refill();
    const start = process.hrtime.bigint();
    packets += batch.process();
    ns += process.hrtime.bigint() - start;
  }
  meter.add(packets, Number(ns));
}

/** Slot contents to copy back in before each batch: one view per frame, made once. */
interface Refill { views: Uint8Array[]; start: Int32Array; length: Int32Array }

function refill(slots: FrameSlots, from: Refill, count: number): void {
  for (let j = 0; j < count; j++) {
    slots.bytes.set(from.views[j], from.start[j]);
    slots.start[j] = from.start[j];
    slots.length[j] = from.length[j];
  }
}

function bench(size: number, cryptoThread: boolean): Row[] {
  const backend = selectAeadBackend();
  if (backend.setCryptoThread(cryptoThread) !== cryptoThread) return [];
  const { a, b } = gatewayPair({ backend, batch: BATCH });
  const frame = new Uint8Array(2048);
  const frameLength = writePing6(frame, 0, ADDR.hostA, ADDR.hostB, MAC.redA, MAC.hostA, size - 8);
  const red = new FrameSlots({ count: BATCH });
  const black = new FrameSlots({ count: BATCH });
  const ping: Refill = { views: [], start: new Int32Array(BATCH), length: new Int32Array(BATCH).fill(frameLength) };
  for (let i = 0; i < BATCH; i++) {
    ping.views.push(frame.subarray(0, frameLength));
    ping.start[i] = red.base(i) + red.headroom;
  }
  // When the pool has been used once, B's inbound SA is reinstalled so the anti-replay window starts afresh.
  const pool: Refill[] = [];
  for (let k = 0; k < POOL; k++) {
    refill(red, ping, BATCH);
    a.pipeline.processBatch(Port.Red, red, BATCH, 0);
    const tx = a.pipeline.txBlack;
    const sealed: Refill = { views: [], start: new Int32Array(tx.count), length: new Int32Array(tx.count) };
    for (let j = 0; j < tx.count; j++) {
      const i = tx.slots[j];
      sealed.views.push(red.bytes.slice(red.start[i], red.start[i] + red.length[i]));
      sealed.start[j] = black.base(j) + black.headroom;
      sealed.length[j] = red.length[i];
    }
    pool.push(sealed);
  }
  let next = 0;

  const seal: Batch = {
    refill: () => refill(red, ping, BATCH),
    process: () => {
      a.pipeline.processBatch(Port.Red, red, BATCH, 0);
      return a.pipeline.txBlack.count;
    },
  };
  let sealed = pool[0];
  const open: Batch = {
    refill: () => {
      if (next === 0) b.resetInbound();
      sealed = pool[next];
      next = (next + 1) % POOL;
      refill(black, sealed, sealed.views.length);
    },
    process: () => {
      b.pipeline.processBatch(Port.Black, black, sealed.views.length, 0);
      return b.pipeline.txRed.count;
    },
  };
  // Warm up; then short chunks of seal, open and the bare loop take turns, so all three see the
  // same machine load, and each reports its median chunk.
  chunk(new Meter(), seal, 200);
  chunk(new Meter(), open, 200);
  const sealMeter = new Meter();
  const openMeter = new Meter();
  const bare = new Meter();
  const barePackets = 20 * BATCH;
  const deadline = process.hrtime.bigint() + BigInt(Math.round(3 * seconds * 1e9));
  while (process.hrtime.bigint() < deadline) {
    chunk(sealMeter, seal, 20);
    chunk(openMeter, open, 20);
    bare.add(barePackets, benchBare('aes-gcm-16-128', size + 40 + 2, barePackets, { slots: BATCH, slotSize: red.slotSize }));
  }
  backend.setCryptoThread(false);
  const [sealPps, openPps, barePps] = [sealMeter.pps, openMeter.pps, bare.pps];
  const bits = (pps: number) => (pps * (size + 40) * 8) / 1e9;
  return [
    { direction: 'red->black seal', size, batch: BATCH, cryptoThread, pps: sealPps, gbps: bits(sealPps), bareRatio: sealPps / barePps },
    { direction: 'black->red open', size, batch: BATCH, cryptoThread, pps: openPps, gbps: bits(openPps), bareRatio: openPps / barePps },
    { direction: 'bare native AEAD', size, batch: BATCH, cryptoThread: false, pps: barePps, gbps: bits(barePps), bareRatio: 1 },
  ];
}

// The bare loop runs on the calling thread; with the crypto thread on, the pipeline uses a second core.
const rows = [...bench(64, false), ...bench(1400, false), ...bench(64, true), ...bench(1400, true)];
if (json) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  console.log('direction           payload  batch  crypto thread         pps    Gbit/s  vs bare');
  for (const r of rows) {
    const thread = r.direction.startsWith('bare') ? '-' : r.cryptoThread ? 'yes' : 'no';
    console.log(`${r.direction.padEnd(20)}${String(r.size).padStart(7)}${String(r.batch).padStart(7)}${thread.padStart(15)}${Math.round(r.pps).toLocaleString('en').padStart(12)}${r.gbps.toFixed(2).padStart(10)}${r.bareRatio.toFixed(2).padStart(9)}`);
  }
  // Each goal row is compared with the bare loop of the same run at the same size.
  for (const cryptoThread of [false, true]) {
    for (const direction of ['red->black seal', 'black->red open']) {
      const large = rows.find((r) => r.size === 1400 && r.direction === direction && r.cryptoThread === cryptoThread);
      const small = rows.find((r) => r.size === 64 && r.direction === direction && r.cryptoThread === cryptoThread);
      if (large === undefined || small === undefined) continue;
      const what = `${direction.split(' ')[1]}${cryptoThread ? ' (crypto thread)' : ''}`;
      console.log(`goal: 1400-byte ${what} >= 0.60 of bare: ${large.bareRatio.toFixed(2)} ${large.bareRatio >= 0.6 ? 'met' : 'NOT met'}`);
      console.log(`goal: 64-byte ${what} >= 1 Mpps: ${(small.pps / 1e6).toFixed(2)} Mpps ${small.pps >= 1e6 ? 'met' : 'NOT met'}`);
    }
  }
}
