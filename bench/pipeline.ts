/**
 * `npm run bench:pipeline`: packets per second through the in-memory data plane (classify, SPD,
 * 6in4, ESP seal; and the reverse: ESP open, 6in4 decapsulation, ingress checks) for 64- and
 * 1400-byte inner IPv6 payloads, beside the bare native crypto loop measured in the same run.
 * No I/O: two gateways are wired back to back in memory. `--json` prints one object per row,
 * `--quick` shortens every measurement.
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

interface Row { direction: string; size: number; batch: number; pps: number; gbps: number; bareRatio: number }

function measure(run: () => number): number {
  // Warm up, then count packets over a fixed time.
  for (let k = 0; k < 200; k++) run();
  let packets = 0;
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(Math.round(seconds * 1e9));
  let now = start;
  while (now < deadline) {
    for (let k = 0; k < 20; k++) packets += run();
    now = process.hrtime.bigint();
  }
  return packets / (Number(now - start) / 1e9);
}

function bench(size: number): Row[] {
  const backend = selectAeadBackend();
  const { a, b } = gatewayPair({ backend, batch: BATCH });
  const frame = new Uint8Array(2048);
  const frameLength = writePing6(frame, 0, ADDR.hostA, ADDR.hostB, MAC.redA, MAC.hostA, size - 8);
  const red = new FrameSlots({ count: BATCH });
  const black = new FrameSlots({ count: BATCH });
  const load = (slots: FrameSlots, src: Uint8Array, len: number) => {
    for (let i = 0; i < BATCH; i++) {
      const at = slots.base(i) + slots.headroom;
      slots.bytes.set(src.subarray(0, len), at);
      slots.start[i] = at;
      slots.length[i] = len;
    }
  };
  // A pool of sealed batches (distinct sequence numbers) feeds the open direction; when it has
  // been used once, B's inbound SA is reinstalled so the anti-replay window starts afresh.
  const POOL = 64;
  const pool: FrameSlots[] = [];
  for (let k = 0; k < POOL; k++) {
    load(red, frame, frameLength);
    a.pipeline.processBatch(Port.Red, red, BATCH, 0);
    const sealed = new FrameSlots({ count: BATCH });
    for (let j = 0; j < a.pipeline.txBlack.count; j++) {
      const i = a.pipeline.txBlack.slots[j];
      const at = sealed.base(j) + sealed.headroom;
      sealed.bytes.set(red.bytes.subarray(red.start[i], red.start[i] + red.length[i]), at);
      sealed.start[j] = at;
      sealed.length[j] = red.length[i];
    }
    pool.push(sealed);
  }
  let next = 0;

  const sealPps = measure(() => {
    load(red, frame, frameLength);
    a.pipeline.processBatch(Port.Red, red, BATCH, 0);
    return a.pipeline.txBlack.count;
  });
  const openPps = measure(() => {
    if (next === 0) b.resetInbound();
    const src = pool[next];
    next = (next + 1) % POOL;
    for (let j = 0; j < BATCH; j++) {
      black.bytes.set(src.bytes.subarray(src.start[j], src.start[j] + src.length[j]), src.start[j]);
      black.start[j] = src.start[j];
      black.length[j] = src.length[j];
    }
    b.pipeline.processBatch(Port.Black, black, BATCH, 0);
    return b.pipeline.txRed.count;
  });
  const barePackets = 200_000;
  const bareNs = benchBare('aes-gcm-16-128', size + 40 + 2, barePackets);
  const barePps = barePackets / (bareNs / 1e9);
  const bits = (pps: number) => (pps * (size + 40) * 8) / 1e9;
  return [
    { direction: 'red->black seal', size, batch: BATCH, pps: sealPps, gbps: bits(sealPps), bareRatio: sealPps / barePps },
    { direction: 'black->red open', size, batch: BATCH, pps: openPps, gbps: bits(openPps), bareRatio: openPps / barePps },
    { direction: 'bare native AEAD', size, batch: 1, pps: barePps, gbps: bits(barePps), bareRatio: 1 },
  ];
}

const rows = [...bench(64), ...bench(1400)];
if (json) {
  for (const r of rows) console.log(JSON.stringify(r));
} else {
  console.log('direction           payload  batch        pps    Gbit/s  vs bare');
  for (const r of rows) {
    console.log(`${r.direction.padEnd(20)}${String(r.size).padStart(7)}${String(r.batch).padStart(7)}${Math.round(r.pps).toLocaleString('en').padStart(12)}${r.gbps.toFixed(2).padStart(10)}${r.bareRatio.toFixed(2).padStart(9)}`);
  }
  const seal1400 = rows.find((r) => r.size === 1400 && r.direction.startsWith('red'))!;
  const seal64 = rows.find((r) => r.size === 64 && r.direction.startsWith('red'))!;
  console.log(`goal: 1400-byte seal >= 0.60 of bare: ${seal1400.bareRatio.toFixed(2)} ${seal1400.bareRatio >= 0.6 ? 'met' : 'NOT met'}`);
  console.log(`goal: 64-byte seal >= 1 Mpps: ${(seal64.pps / 1e6).toFixed(2)} Mpps ${seal64.pps >= 1e6 ? 'met' : 'NOT met'}`);
}
