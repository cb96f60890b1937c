/**
 * `npm run soak` (root): the opt-in soak run of the lab (src/lab/soak.ts). CI does not run it.
 *
 *   npm run soak [-- --minutes N] [-- --rate MBIT] [-- --json] [-- --prefix P]
 *
 * --minutes N  how long the traffic runs, in 30 s chunks (default 10; a fraction of a minute
 *              gives one shorter chunk)
 * --rate MBIT  iperf3 UDP rate in Mbit/s, 1400-byte IPv6 datagrams (default 200, well below the
 *              lab's throughput), red-a -> red-b and back in alternate chunks
 * --json       print one JSON object at the end instead of a line per chunk and a summary
 * --prefix P   namespace prefix (default "soak-": soak-red-a, ... beside a running `npm run lab`)
 *
 * Exit status 0 when every chunk passed its checks, 1 when one failed (the run stops there),
 * 2 when the soak could not run (usage, not root, a lab that never forwarded), 130/143 on
 * SIGINT/SIGTERM. The lab is torn down in every case.
 */
import { DEFAULT_PING_INTERVAL_SECONDS, DEFAULT_SOAK_PREFIX, runSoak, type SoakChunkReport, type SoakReport } from './soak.js';
import type { SoakApplianceSample } from './soak-checks.js';
import { labNamespaces } from './topology.js';

const CHUNK_SECONDS = 30;
const DEFAULT_MINUTES = 10;
const DEFAULT_RATE_MBIT = 200;
const MAX_MINUTES = 24 * 60;
const MAX_RATE_MBIT = 10_000;

class SoakUsageError extends Error {
  override readonly name = 'SoakUsageError';
}

interface SoakArgs {
  readonly minutes: number;
  readonly rateMbit: number;
  readonly json: boolean;
  readonly prefix: string;
}

function numberArg(argv: readonly string[], k: number, flag: string, max: number, example: string): number {
  const value = Number(argv[k]);
  if (k >= argv.length || !Number.isFinite(value) || value <= 0 || value > max) {
    throw new SoakUsageError(`soak: ${flag} needs a number above 0 and at most ${max}, got "${argv[k] ?? ''}" (e.g. ${flag} ${example})`);
  }
  return value;
}

function parseArgs(argv: readonly string[]): SoakArgs {
  let minutes = DEFAULT_MINUTES;
  let rateMbit = DEFAULT_RATE_MBIT;
  let prefix = DEFAULT_SOAK_PREFIX;
  let json = false;
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === '--minutes') minutes = numberArg(argv, ++k, arg, MAX_MINUTES, '1');
    else if (arg === '--rate') rateMbit = numberArg(argv, ++k, arg, MAX_RATE_MBIT, '100');
    else if (arg === '--json') json = true;
    else if (arg === '--prefix') {
      if (k + 1 >= argv.length) throw new SoakUsageError('soak: --prefix needs a value, e.g. --prefix soak2-');
      prefix = argv[++k];
      labNamespaces(prefix); // rejects a prefix that cannot name a namespace, saying why
    } else {
      throw new SoakUsageError(`soak: unknown argument "${arg}"; use --minutes N, --rate MBIT, --json and/or --prefix P`);
    }
  }
  return { minutes, rateMbit, json, prefix };
}

const mbit = (bps: number): string => (bps / 1e6).toFixed(1);
const mib = (kib: number): string => (kib / 1024).toFixed(1);

function applianceCell(a: SoakApplianceSample): string {
  return a.state === 'running' ? `${a.namespace} ${mib(a.rssKiB)} MiB ${a.cpuPercent.toFixed(0)}% CPU` : `${a.namespace} unavailable`;
}

function saCell(sender: SoakApplianceSample, receiver: SoakApplianceSample): string {
  return sender.state === 'running' && receiver.state === 'running' ? `${sender.outboundPackets}/${receiver.inboundPackets}` : '-';
}

function chunkLine(chunk: SoakChunkReport, planned: number): string {
  const { traffic, appliances: { a, b } } = chunk;
  const udp = traffic.ok ? `${mbit(traffic.receivedBitsPerSecond)} Mbit/s, ${traffic.lostPercent.toFixed(2)}% lost` : 'iperf3 failed';
  const pings = chunk.pings.map((p) => `${p.received}/${p.transmitted}`).join(' ');
  const verdict = chunk.failures.length === 0 ? 'ok' : `FAIL ${chunk.failures.map((f) => f.check).join(', ')}`;
  return `chunk ${String(chunk.index).padStart(String(planned).length)}/${planned} ${chunk.direction} ${chunk.seconds.toFixed(1)} s: UDP ${udp}; ping6 ${pings}; `
    + `wan ${chunk.wire.frames} non-ESP, ${chunk.wire.violations} violations; SA sealed/opened a->b ${saCell(a, b)}, b->a ${saCell(b, a)}; `
    + `${applianceCell(a)}, ${applianceCell(b)}: ${verdict}`;
}

function summaryLines(report: SoakReport): string[] {
  const ran = report.chunks;
  const head = `soak "${report.prefix}": ${ran.length} of ${report.chunksPlanned} chunks of ${report.chunkSeconds} s, UDP ${mbit(report.udpBitsPerSecond)} Mbit/s `
    + `(${report.udpPayloadBytes}-byte payloads) alternating a->b / b->a, ping6 each way every ${report.pingIntervalSeconds} s, ${(report.durationSeconds / 60).toFixed(1)} min in all`;
  const lines = [head];
  const measured = ran.flatMap((c) => (c.traffic.ok ? [c.traffic] : []));
  if (measured.length > 0) {
    const mean = measured.reduce((sum, t) => sum + t.receivedBitsPerSecond, 0) / measured.length;
    lines.push(`  UDP received: mean ${mbit(mean)} Mbit/s, worst loss ${Math.max(...measured.map((t) => t.lostPercent)).toFixed(2)}% (allowed ${report.limits.udpLossPercent}%)`);
  }
  const pings = ran.flatMap((c) => c.pings);
  lines.push(`  ping6: ${pings.reduce((n, p) => n + p.received, 0)} of ${pings.reduce((n, p) => n + p.transmitted, 0)} answered; wan: ${ran.reduce((n, c) => n + c.wire.violations, 0)} violations in ${ran.reduce((n, c) => n + c.wire.frames, 0)} non-ESP frames`);
  const first = ran[0];
  const last = ran[ran.length - 1];
  if (first !== undefined && last !== undefined) {
    for (const site of ['a', 'b'] as const) {
      const [x, y] = [first.appliances[site], last.appliances[site]];
      if (x.state !== 'running' || y.state !== 'running') continue;
      const cpu = ran.map((c) => c.appliances[site]).flatMap((s) => (s.state === 'running' ? [s.cpuPercent] : []));
      lines.push(`  ${y.namespace}: RSS ${mib(x.rssKiB)} -> ${mib(y.rssKiB)} MiB (allowed +${mib(report.limits.rssGrowthKiB)}), CPU mean ${(cpu.reduce((n, v) => n + v, 0) / cpu.length).toFixed(0)}% of a core, SAs sealed ${y.outboundPackets} / opened ${y.inboundPackets}, ring drops red ${y.redRxKernelDrops} black ${y.blackRxKernelDrops}, event loop at most ${y.eventLoopDelayMaxMs.toFixed(0)} ms late`);
    }
  }
  if (report.firstFailure === null) {
    lines.push('result: PASS');
  } else {
    lines.push(`result: FAIL at chunk ${report.firstFailure.chunk}: ${report.firstFailure.check}: ${report.firstFailure.message}`);
    const rest = ran.find((c) => c.index === report.firstFailure?.chunk)?.failures.slice(1) ?? [];
    for (const f of rest) lines.push(`  also ${f.check}: ${f.message}`);
    lines.push(`  appliance logs: ${report.runDir}`);
  }
  return lines;
}

async function main(args: SoakArgs, signal: AbortSignal): Promise<number> {
  const totalSeconds = args.minutes * 60;
  const chunkSeconds = Math.min(CHUNK_SECONDS, Math.max(1, Math.round(totalSeconds)));
  const chunks = Math.max(1, Math.ceil(totalSeconds / chunkSeconds));
  const report = await runSoak({
    prefix: args.prefix,
    chunks,
    chunkSeconds,
    udpBitsPerSecond: args.rateMbit * 1e6,
    pingIntervalSeconds: Math.min(DEFAULT_PING_INTERVAL_SECONDS, chunkSeconds),
    onChunk: args.json ? undefined : (chunk) => console.log(chunkLine(chunk, chunks)),
    signal,
  });
  if (args.json) console.log(JSON.stringify(report));
  else for (const line of summaryLines(report)) console.log(line);
  return report.pass ? 0 : 1;
}

/** Set by SIGINT/SIGTERM: the exit status once runSoak has torn the lab down. */
let interruptedStatus: number | null = null;
const interrupt = new AbortController();
for (const [signal, status] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.once(signal, () => {
    console.error(`soak: ${signal}: tearing the lab down`);
    interruptedStatus = status;
    interrupt.abort();
  });
}

Promise.resolve()
  .then(() => main(parseArgs(process.argv.slice(2)), interrupt.signal))
  .then(
    (code) => process.exit(interruptedStatus ?? code),
    (error: unknown) => {
      console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
      process.exit(interruptedStatus ?? 2);
    },
  );
