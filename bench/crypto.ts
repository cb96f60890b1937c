/**
 * AEAD throughput: the native batch API against its own C ceiling (aeadBenchBare), node:crypto
 * per packet and the pure-TypeScript noble backend.
 *
 *   npm run bench:crypto [-- --quick] [-- --json]
 *
 * For each algorithm and size, every contender warms up, then they take turns running fixed-time
 * rounds and each keeps its best round: on a shared machine a disturbance then hits one round of
 * one contender, not a whole row, and the ratios compare contenders measured side by side.
 * pps counts packets, gbps counts payload bits. After the rows come the goal ratios at 1400 bytes,
 * batch 32, taken from the same rows.
 */
import { createCipheriv, type CipherChaCha20Poly1305Types, type CipherGCMTypes } from 'node:crypto';
import {
  AEAD_ALGORITHMS, AEAD_KEY_BYTES, AEAD_OP_STRIDE, AEAD_SALT_BYTES, AeadOp, AeadStatus, ESP_HEADER_BYTES,
  type AeadAlgorithm, type AeadBackend,
} from '../src/crypto/aead.js';
import { NativeAeadBackend, benchBare } from '../src/crypto/native-backend.js';
import { NobleAeadBackend } from '../src/crypto/noble-backend.js';
import { FrameSlots } from '../src/dataplane/frame-slots.js';

const SIZES = [64, 512, 1400] as const;
const NATIVE_BATCHES = [1, 32, 256] as const;
/** The noble backend runs behind the same batch API; it loops per packet inside. */
const NOBLE_BATCH = 32;
const GOAL_SIZE = 1400;
const GOAL_BATCH = 32;
const GOALS = [
  { name: 'native/bare', versus: 'bare', goal: 0.85 },
  { name: 'native/node-crypto', versus: 'node-crypto', goal: 8 },
] as const;

const NODE_CIPHER: Record<AeadAlgorithm, CipherGCMTypes | CipherChaCha20Poly1305Types> = {
  'aes-gcm-16-128': 'aes-128-gcm',
  'aes-gcm-16-256': 'aes-256-gcm',
  'chacha20-poly1305': 'chacha20-poly1305',
};

type BackendLabel = 'native' | 'bare' | 'node-crypto' | 'noble';

interface Run {
  packets: number;
  seconds: number;
}

/** One contender of a row: runs for about `seconds` and says how many packets it sealed. */
interface Contender {
  backend: BackendLabel;
  batch: number;
  round(seconds: number): Run;
  close(): void;
}

interface Row {
  backend: BackendLabel;
  alg: AeadAlgorithm;
  size: number;
  batch: number;
  packets: number;
  seconds: number;
  pps: number;
  gbps: number;
}

interface Timing {
  warmup: number;
  seconds: number;
  rounds: number;
}

class UsageError extends Error {
  override readonly name = 'UsageError';
}

function parseArgs(argv: readonly string[]): { quick: boolean; json: boolean } {
  const options = { quick: false, json: false };
  for (const arg of argv) {
    if (arg === '--quick') options.quick = true;
    else if (arg === '--json') options.json = true;
    else throw new UsageError(`unknown argument "${arg}": use --quick (short run) and/or --json (one JSON object per row)`);
  }
  return options;
}

const random = (n: number) => crypto.getRandomValues(new Uint8Array(n));

/** Calls `step` (which returns packets done) until `seconds` have passed. */
function runFor(seconds: number, step: () => number): Run {
  const budget = BigInt(Math.round(seconds * 1e9));
  const t0 = process.hrtime.bigint();
  let packets = 0;
  let elapsed = 0n;
  do {
    packets += step();
    elapsed = process.hrtime.bigint() - t0;
  } while (elapsed < budget);
  return { packets, seconds: Number(elapsed) / 1e9 };
}

/** Seals `batch` ESP packets laid out in frame slots, one sealBatch call at a time. */
function batchApi(label: 'native' | 'noble', backend: AeadBackend, alg: AeadAlgorithm, size: number, batch: number): Contender {
  const slots = new FrameSlots({ count: batch });
  const handle = backend.createSa(alg, random(AEAD_KEY_BYTES[alg] + AEAD_SALT_BYTES), { esn: false });
  const ops = new Int32Array(batch * AEAD_OP_STRIDE);
  const status = new Uint8Array(batch);
  for (let i = 0; i < batch; i++) {
    const esp = slots.base(i) + slots.headroom;
    slots.bytes.set(random(ESP_HEADER_BYTES + size), esp);
    ops[i * AEAD_OP_STRIDE + AeadOp.Handle] = handle;
    ops[i * AEAD_OP_STRIDE + AeadOp.EspOffset] = esp;
    ops[i * AEAD_OP_STRIDE + AeadOp.TextLength] = size;
  }
  // Small batches repeat inside one step so the clock is not read per call.
  const repeats = Math.max(1, Math.floor(64 / batch));
  const step = () => {
    for (let r = 0; r < repeats; r++) backend.sealBatch(slots.bytes, ops, batch, status);
    return repeats * batch;
  };
  return {
    backend: label,
    batch,
    round(seconds) {
      const run = runFor(seconds, step);
      if (status.some((s) => s !== AeadStatus.Ok)) throw new Error(`${label} ${alg} size ${size}: sealBatch reported status ${status.join(',')}`);
      return run;
    },
    close: () => backend.freeSa(handle),
  };
}

/** The C loop alone; the packet count per call is calibrated on the first round. */
function bare(alg: AeadAlgorithm, size: number): Contender {
  let nsPerPacket = 0;
  return {
    backend: 'bare',
    batch: 1,
    round(seconds) {
      if (nsPerPacket === 0) {
        let packets = 256;
        let ns = benchBare(alg, size, packets);
        while (ns < 5e6) ns = benchBare(alg, size, (packets *= 2));
        nsPerPacket = ns / packets;
      }
      const packets = Math.max(1, Math.round((seconds * 1e9) / nsPerPacket));
      return { packets, seconds: benchBare(alg, size, packets) / 1e9 };
    },
    close: () => undefined,
  };
}

/** node:crypto as an application would use it: one cipher object per packet. */
function nodeCrypto(alg: AeadAlgorithm, size: number): Contender {
  const key = random(AEAD_KEY_BYTES[alg]);
  const nonce = random(12);
  const aad = random(8);
  const text = random(size);
  const name = NODE_CIPHER[alg];
  const step = () => {
    const c = name === 'chacha20-poly1305'
      ? createCipheriv(name, key, nonce, { authTagLength: 16 })
      : createCipheriv(name, key, nonce, { authTagLength: 16 });
    c.setAAD(aad, { plaintextLength: size });
    c.update(text);
    c.final();
    c.getAuthTag();
    return 1;
  };
  return { backend: 'node-crypto', batch: 1, round: (seconds) => runFor(seconds, step), close: () => undefined };
}

/** Warms every contender up, then runs them in turns and keeps each one's best round. */
function measureInTurns(contenders: readonly Contender[], alg: AeadAlgorithm, size: number, t: Timing): Row[] {
  for (const c of contenders) c.round(t.warmup);
  const best: Run[] = contenders.map(() => ({ packets: 0, seconds: 1 }));
  for (let r = 0; r < t.rounds; r++) {
    contenders.forEach((c, i) => {
      const run = c.round(t.seconds);
      if (run.packets / run.seconds > best[i].packets / best[i].seconds) best[i] = run;
    });
  }
  contenders.forEach((c) => c.close());
  return contenders.map((c, i) => {
    const pps = best[i].packets / best[i].seconds;
    return { backend: c.backend, alg, size, batch: c.batch, ...best[i], pps, gbps: (pps * size * 8) / 1e9 };
  });
}

function formatTable(rows: readonly Row[]): string {
  const header = ['backend', 'alg', 'size', 'batch', 'pps', 'gbps'];
  const cells = rows.map((r) => [r.backend, r.alg, String(r.size), String(r.batch), Math.round(r.pps).toLocaleString('en-US'), r.gbps.toFixed(3)]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c: string[]) => c.map((v, i) => (i < 2 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function main(): void {
  const { quick, json } = parseArgs(process.argv.slice(2));
  const timing: Timing = quick ? { warmup: 0.01, seconds: 0.02, rounds: 4 } : { warmup: 0.05, seconds: 0.08, rounds: 8 };
  const native = new NativeAeadBackend();
  const noble = new NobleAeadBackend();
  const rows: Row[] = [];
  for (const alg of AEAD_ALGORITHMS) {
    for (const size of SIZES) {
      const contenders = [
        bare(alg, size),
        ...NATIVE_BATCHES.map((batch) => batchApi('native', native, alg, size, batch)),
        nodeCrypto(alg, size),
        batchApi('noble', noble, alg, size, NOBLE_BATCH),
      ];
      for (const r of measureInTurns(contenders, alg, size, timing)) {
        rows.push(r);
        if (json) console.log(JSON.stringify(r));
      }
    }
  }
  if (!json) console.log(formatTable(rows));

  const find = (backend: BackendLabel, alg: AeadAlgorithm, batch: number) =>
    rows.find((r) => r.backend === backend && r.alg === alg && r.size === GOAL_SIZE && r.batch === batch);
  if (!json) console.log(`\ngoal ratios at ${GOAL_SIZE} bytes, native batch ${GOAL_BATCH}:`);
  for (const alg of AEAD_ALGORITHMS) {
    const nat = find('native', alg, GOAL_BATCH);
    for (const g of GOALS) {
      const other = find(g.versus, alg, 1);
      if (!nat || !other) continue;
      const ratio = nat.pps / other.pps;
      const met = ratio >= g.goal;
      if (json) console.log(JSON.stringify({ goal: g.name, alg, size: GOAL_SIZE, batch: GOAL_BATCH, ratio, target: g.goal, met }));
      else console.log(`  ${g.name.padEnd(18)} ${alg.padEnd(17)} ${ratio.toFixed(2).padStart(6)}  (goal >= ${g.goal}: ${met ? 'met' : 'NOT met'})`);
    }
  }
}

try {
  main();
} catch (e) {
  console.error(`bench:crypto: ${(e as Error).message}`);
  process.exitCode = e instanceof UsageError ? 2 : 1;
}
