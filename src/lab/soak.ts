/**
 * The soak run: the five-namespace lab with two redblack appliances (examples/lab-a.yaml and
 * lab-b.yaml) carrying iperf3 UDP at a steady rate for a number of chunks, the direction
 * alternating (red-a -> red-b, then back), with a ping6 each way every few seconds. After every
 * chunk it samples both appliances (status socket, RSS, CPU) and what crossed wan, and checks the
 * sample (src/lab/soak-checks.ts). It stops at the first chunk that fails and always tears the lab
 * down. Each chunk is bounded in time by its commands' own timeouts.
 *
 * wan is captured continuously, one file per chunk in the run directory, leaving out ESP
 * (`not ip proto 50`): 200 Mbit/s of whole frames would be ~750 MB per 30 s chunk, and ESP is
 * what may cross anyway; every ESP packet is accounted for by the SA counter check instead. A
 * chunk's capture is kept only when it shows violations.
 */
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import { labRunDir, startLabAppliances } from './appliance.js';
import { startWanCapture, type WanCapture } from './capture.js';
import { sleep } from './command.js';
import { DEFAULT_UDP_PAYLOAD_BYTES, runIperf } from './iperf.js';
import type { LabApplianceProcess, LabAppliances } from './lab-appliances.js';
import { pingFrom } from './ping.js';
import { readProcessUsage, type ProcessUsage } from './process-usage.js';
import {
  checkSoakChunk, DEFAULT_SOAK_LIMITS, type SoakApplianceSample, type SoakChunkSample, type SoakDirection, type SoakFailure,
  type SoakLimits, type SoakPingSample, type SoakSite, type SoakStatusFigures, type SoakTrafficSample,
} from './soak-checks.js';
import { buildLabTopology, destroyLabTopology, type LabTopology } from './topology.js';
import { summarizeCapture } from './wire-summary.js';

/** The soak's namespaces are soak-red-a, soak-rb-a, ...: it can run beside `npm run lab`. */
export const DEFAULT_SOAK_PREFIX = 'soak-';
export const DEFAULT_PING_INTERVAL_SECONDS = 3;

/** Both iperf3 sockets get 4 MiB (as in bench:lab), so the receiving iperf3 is not what drops. */
const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** Everything but ESP is captured (see the header comment). */
const CAPTURE_FILTER = 'not ip proto 50';
/** A chunk's capture stops by itself after this many frames (a broken tunnel leaking clear traffic). */
const CAPTURE_MAX_FRAMES = 20_000;
/** tcpdump outlives its chunk by at most this long if the soak itself dies. */
const CAPTURE_SLACK_SECONDS = 120;
/** How long the gateways get to forward the first ping6 each way. */
const FIRST_PING_DEADLINE_SECONDS = 10;
/** Status reads, 100 ms apart, until the SA counters stop moving after a chunk's traffic. */
const SETTLE_READS = 20;
const SETTLE_INTERVAL_MS = 100;

export interface SoakOptions {
  /** Prefix of the lab's namespace names. Default DEFAULT_SOAK_PREFIX. */
  readonly prefix?: string;
  /** How many chunks, 1 to 10000. */
  readonly chunks: number;
  /** Length of each chunk's iperf3 run, 1 to 3600 s. */
  readonly chunkSeconds: number;
  /** The UDP rate offered, in bit/s (1400-byte IPv6 datagrams). */
  readonly udpBitsPerSecond: number;
  /** Seconds between pings in each direction. Default DEFAULT_PING_INTERVAL_SECONDS. */
  readonly pingIntervalSeconds?: number;
  readonly limits?: SoakLimits;
  /** Called with every chunk as it finishes (the CLI prints a line). */
  readonly onChunk?: (chunk: SoakChunkReport) => void;
  /**
   * Aborting it (the CLI does on SIGINT/SIGTERM) tears the lab down at once; runSoak then
   * rejects with SoakInterruptedError.
   */
  readonly signal?: AbortSignal;
}

export interface SoakChunkReport extends SoakChunkSample {
  /** The checks this chunk failed; empty when it passed. */
  readonly failures: readonly SoakFailure[];
}

export interface SoakReport {
  readonly prefix: string;
  /** Where the appliances' logs and any capture with violations are. */
  readonly runDir: string;
  readonly chunksPlanned: number;
  readonly chunkSeconds: number;
  readonly udpBitsPerSecond: number;
  readonly udpPayloadBytes: number;
  readonly pingIntervalSeconds: number;
  readonly limits: SoakLimits;
  /** The chunks that ran: all planned, or up to the first that failed. */
  readonly chunks: readonly SoakChunkReport[];
  readonly pass: boolean;
  /** The first check that failed, and in which chunk. */
  readonly firstFailure: (SoakFailure & { readonly chunk: number }) | null;
  readonly durationSeconds: number;
}

export class SoakError extends Error {
  override readonly name = 'SoakError';
}

export class SoakInterruptedError extends Error {
  override readonly name = 'SoakInterruptedError';
}

function validate(options: SoakOptions, pingIntervalSeconds: number): void {
  const problems: string[] = [];
  if (!Number.isInteger(options.chunks) || options.chunks < 1 || options.chunks > 10_000) problems.push(`chunks must be a whole number from 1 to 10000, got ${options.chunks}`);
  if (!Number.isInteger(options.chunkSeconds) || options.chunkSeconds < 1 || options.chunkSeconds > 3600) problems.push(`chunkSeconds must be a whole number from 1 to 3600, got ${options.chunkSeconds}`);
  if (!(options.udpBitsPerSecond > 0)) problems.push(`udpBitsPerSecond must be above 0 (0 would mean iperf3's flood), got ${options.udpBitsPerSecond}`);
  if (!(pingIntervalSeconds >= 0.2 && pingIntervalSeconds <= options.chunkSeconds)) problems.push(`pingIntervalSeconds must be from 0.2 to chunkSeconds (${options.chunkSeconds}), got ${pingIntervalSeconds}`);
  if (problems.length > 0) throw new SoakError(`soak: ${problems.join('; ')}`);
}

interface StatusShape {
  error?: string;
  sas?: { direction?: string; counters?: { packets?: number } }[];
  drops?: Record<string, number>;
  ports?: { black?: { rxKernelDrops?: number; txErrors?: number }; red?: { rxKernelDrops?: number } };
  eventLoopDelayMs?: { max?: number };
}

/** The figures the checks need from one `redblack status` object, or why they are not there. */
function figuresOf(status: unknown): SoakStatusFigures | string {
  const s = (status ?? {}) as StatusShape;
  if (typeof s.error === 'string') return s.error;
  const black = s.ports?.black;
  const red = s.ports?.red;
  const loopDelayMax = s.eventLoopDelayMs?.max;
  if (!Array.isArray(s.sas) || s.drops === undefined || typeof black?.rxKernelDrops !== 'number' || typeof black.txErrors !== 'number' || typeof red?.rxKernelDrops !== 'number' || typeof loopDelayMax !== 'number') {
    return 'its status has no sas, drops, ports.black / ports.red counters or eventLoopDelayMs (is dist/ from an older build?)';
  }
  const packets = (direction: string): number => s.sas!.filter((sa) => sa.direction === direction).reduce((sum, sa) => sum + (sa.counters?.packets ?? 0), 0);
  return { drops: s.drops, outboundPackets: packets('outbound'), inboundPackets: packets('inbound'), blackRxKernelDrops: black.rxKernelDrops, blackTxErrors: black.txErrors, redRxKernelDrops: red.rxKernelDrops, eventLoopDelayMaxMs: loopDelayMax };
}

/** Both appliances' figures by site, or the reason one cannot be read. */
async function readFigures(appliances: LabAppliances): Promise<Record<SoakSite, SoakStatusFigures | string>> {
  const all = (await appliances.status()) as Record<string, unknown>;
  const of = (site: SoakSite): SoakStatusFigures | string => figuresOf(all[processOf(appliances, site).namespace]);
  return { a: of('a'), b: of('b') };
}

function processOf(appliances: LabAppliances, site: SoakSite): LabApplianceProcess {
  const found = appliances.processes.find((p) => p.site === site);
  if (found === undefined) throw new SoakError(`soak: the lab started no appliance for site ${site}`);
  return found;
}

/** Reads the figures until the SA counters stop moving (in-flight packets arrived), bounded. */
async function settledFigures(appliances: LabAppliances): Promise<Record<SoakSite, SoakStatusFigures | string>> {
  const key = (f: Record<SoakSite, SoakStatusFigures | string>): string => JSON.stringify(
    (['a', 'b'] as const).map((site) => { const x = f[site]; return typeof x === 'string' ? x : [x.outboundPackets, x.inboundPackets]; }),
  );
  let figures = await readFigures(appliances);
  for (let read = 1; read < SETTLE_READS; read++) {
    await sleep(SETTLE_INTERVAL_MS);
    const next = await readFigures(appliances);
    const settled = key(next) === key(figures);
    figures = next;
    if (settled) break;
  }
  return figures;
}

function usageOf(pid: number): ProcessUsage | string {
  try {
    return readProcessUsage(pid);
  } catch (error) {
    return (error as Error).message;
  }
}

/** One appliance's sample; `seconds` is the time between the `previous` and this `usage` reading. */
function applianceSample(appliance: LabApplianceProcess, figures: SoakStatusFigures | string, usage: ProcessUsage | string, previous: ProcessUsage | string, seconds: number): SoakApplianceSample {
  const { namespace, pid } = appliance;
  if (typeof figures === 'string') return { state: 'unavailable', namespace, pid, error: figures };
  if (typeof usage === 'string') return { state: 'unavailable', namespace, pid, error: usage };
  const cpuPercent = typeof previous === 'string' ? 0 : (100 * (usage.cpuSeconds - previous.cpuSeconds)) / seconds;
  return { state: 'running', namespace, pid, rssKiB: usage.rssKiB, cpuPercent, ...figures };
}

/** Pings the far red host from each red host until it answers (bounded), so the chunks start on a working path. */
async function waitForPath(topology: LabTopology): Promise<void> {
  const { redA, redB } = topology.namespaces;
  const { a, b } = topology.addresses;
  for (const [from, to] of [[redA, b.host6], [redB, a.host6]] as const) {
    const result = await pingFrom(from, to, { count: 1, deadlineSeconds: FIRST_PING_DEADLINE_SECONDS });
    if (!result.ok) throw new SoakError(`soak: no ping6 answer from ${from} to ${to} within ${FIRST_PING_DEADLINE_SECONDS} s before the first chunk; the gateways do not forward (see their logs in ${labRunDir(topology.prefix)})`);
  }
}

/** The chunk's traffic: iperf3 UDP one way and a ping6 each way every pingIntervalSeconds, side by side. */
async function runTraffic(topology: LabTopology, options: SoakOptions, direction: SoakDirection, pingIntervalSeconds: number): Promise<{ traffic: SoakTrafficSample; pings: SoakPingSample[] }> {
  const { redA, redB } = topology.namespaces;
  const { a, b } = topology.addresses;
  const pingOptions = {
    count: Math.max(1, Math.floor(options.chunkSeconds / pingIntervalSeconds)),
    intervalSeconds: pingIntervalSeconds,
    // Room for one lost request to be sent again.
    deadlineSeconds: options.chunkSeconds + Math.ceil(pingIntervalSeconds),
  };
  const [traffic, ...pings] = await Promise.all([
    runIperf(topology, {
      protocol: 'udp',
      seconds: options.chunkSeconds,
      udpBitsPerSecond: options.udpBitsPerSecond,
      socketBufferBytes: UDP_SOCKET_BUFFER_BYTES,
      reverse: direction === 'b->a',
    }).then(
      (r): SoakTrafficSample => ({ ok: true, receivedBitsPerSecond: r.receivedBitsPerSecond, sentBitsPerSecond: r.sentBitsPerSecond, lostPercent: r.lostPercent ?? 100 }),
      (error: Error): SoakTrafficSample => ({ ok: false, error: `${error.name}: ${error.message}` }),
    ),
    pingFrom(redA, b.host6, pingOptions).then((p) => ({ name: `ping6 ${redA} -> ${redB}`, transmitted: p.transmitted, received: p.received, ok: p.ok })),
    pingFrom(redB, a.host6, pingOptions).then((p) => ({ name: `ping6 ${redB} -> ${redA}`, transmitted: p.transmitted, received: p.received, ok: p.ok })),
  ]);
  return { traffic, pings };
}

/** Runs the soak (needs root and a built dist/); resolves with the report whether it passed or not. */
export async function runSoak(options: SoakOptions): Promise<SoakReport> {
  const prefix = options.prefix ?? DEFAULT_SOAK_PREFIX;
  const pingIntervalSeconds = options.pingIntervalSeconds ?? DEFAULT_PING_INTERVAL_SECONDS;
  const limits = options.limits ?? DEFAULT_SOAK_LIMITS;
  validate(options, pingIntervalSeconds);
  const { signal } = options;
  /** Called before each step that starts processes in the lab, so none starts after the teardown. */
  const continueUnlessAborted = (): void => {
    if (signal?.aborted === true) throw new SoakInterruptedError(`soak "${prefix}": interrupted; the lab was torn down`);
  };
  continueUnlessAborted();
  const runDir = labRunDir(prefix);
  const started = performance.now();
  const chunks: SoakChunkReport[] = [];
  const topology = await buildLabTopology({ prefix, gateways: 'appliance' });
  /** The capture running now, stopped on the way out. */
  let running: WanCapture | undefined;
  let appliances: LabAppliances | undefined;
  // One teardown, whether the run ends or is aborted midway (processes are ended by PID).
  let teardown: Promise<void> | undefined;
  const tearDown = (): Promise<void> => (teardown ??= (async () => {
    if (running !== undefined) {
      await running.stop().catch(() => undefined);
      rmSync(running.path, { force: true });
    }
    await appliances?.stop();
    await destroyLabTopology(prefix);
  })());
  // finally awaits the same teardown and reports its errors.
  const onAbort = (): void => void tearDown().catch(() => undefined);
  signal?.addEventListener('abort', onAbort, { once: true });
  try {
    continueUnlessAborted();
    mkdirSync(runDir, { recursive: true });
    const startCapture = (chunk: number): Promise<WanCapture> => startWanCapture(topology, {
      path: path.join(runDir, `wan-${chunk}.pcap`),
      filter: CAPTURE_FILTER,
      maxPackets: CAPTURE_MAX_FRAMES,
      maxSeconds: options.chunkSeconds + CAPTURE_SLACK_SECONDS,
    });
    // The first chunk's capture also covers the appliances' start and the first pings.
    let capture = await startCapture(1);
    running = capture;
    appliances = await startLabAppliances(topology);
    continueUnlessAborted();
    await waitForPath(topology);
    const sites = { a: processOf(appliances, 'a'), b: processOf(appliances, 'b') };
    let usage = { a: usageOf(sites.a.pid), b: usageOf(sites.b.pid) };
    let usageRead = performance.now();
    for (let index = 1; index <= options.chunks; index++) {
      continueUnlessAborted();
      const chunkStarted = performance.now();
      const direction: SoakDirection = index % 2 === 1 ? 'a->b' : 'b->a';
      const { traffic, pings } = await runTraffic(topology, options, direction, pingIntervalSeconds);
      const pcap = await capture.stop();
      const pcapPath = capture.path;
      running = undefined;
      continueUnlessAborted();
      if (index < options.chunks) {
        capture = await startCapture(index + 1);
        running = capture;
      }
      const wire = summarizeCapture(pcap, { bypass4: `${topology.addresses.bypass4}/${topology.addresses.bypass4Length}` });
      if (wire.violations === 0) rmSync(pcapPath, { force: true });
      const figures = await settledFigures(appliances);
      continueUnlessAborted();
      const now = { a: usageOf(sites.a.pid), b: usageOf(sites.b.pid) };
      const nowRead = performance.now();
      const usageSeconds = (nowRead - usageRead) / 1000;
      const sample: SoakChunkSample = {
        index,
        direction,
        seconds: (nowRead - chunkStarted) / 1000,
        traffic,
        pings,
        wire,
        pcapPath: wire.violations === 0 ? null : pcapPath,
        appliances: {
          a: applianceSample(sites.a, figures.a, now.a, usage.a, usageSeconds),
          b: applianceSample(sites.b, figures.b, now.b, usage.b, usageSeconds),
        },
      };
      usage = now;
      usageRead = nowRead;
      const chunk: SoakChunkReport = { ...sample, failures: checkSoakChunk(sample, chunks[0] ?? null, limits) };
      chunks.push(chunk);
      options.onChunk?.(chunk);
      if (chunk.failures.length > 0) break;
    }
  } catch (error) {
    // Commands the teardown ended fail in their own words; say what happened instead.
    continueUnlessAborted();
    throw error;
  } finally {
    signal?.removeEventListener('abort', onAbort);
    await tearDown();
  }
  const failed = chunks.find((c) => c.failures.length > 0);
  return {
    prefix,
    runDir,
    chunksPlanned: options.chunks,
    chunkSeconds: options.chunkSeconds,
    udpBitsPerSecond: options.udpBitsPerSecond,
    udpPayloadBytes: DEFAULT_UDP_PAYLOAD_BYTES,
    pingIntervalSeconds,
    limits,
    chunks,
    pass: failed === undefined,
    firstFailure: failed === undefined ? null : { chunk: failed.index, ...failed.failures[0] },
    durationSeconds: (performance.now() - started) / 1000,
  };
}
