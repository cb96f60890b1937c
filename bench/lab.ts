/**
 * Lab throughput: redblack appliances vs strongSwan (kernel-libipsec) as the two gateways of the
 * same five-namespace topology, iperf3 from red-a to red-b over IPv6:
 *   - TCP: one stream;
 *   - UDP throughput (RFC 2544 §26.1): the highest offered rate of 1400-byte datagrams that
 *     arrives with at most UDP_LOSS_ALLOWANCE_PERCENT lost, found by bisection between 0 and
 *     what the flood could offer;
 *   - UDP flood: -b 0, what arrives while the sender offers all it can. The sender shares the
 *     lab's CPUs with the gateways, so this mostly shows how the scheduler splits them.
 * UDP tests size both sockets at 4 MiB (-w), so the receiving iperf3 is not what drops.
 *
 *   npm run bench:lab [-- --quick] [-- --json] [-- --rounds N] [-- --rx-ring v2|v3]
 *
 * Before its tests each gateway pair carries an unmeasured TCP warm-up (2 s; --quick: 1 s).
 * Each of N rounds (default 3; --quick: 1) measures redblack, then strongSwan; every test reports
 * the round with its median rate, so one slow moment of the machine does not decide the ratio.
 * --rx-ring runs both appliances with that receive ring (`redblack run --rx-ring`; default v2).
 *
 * Prints the receiver rates, the ratio redblack/strongSwan (goal: at least 3x), and per gateway
 * process its RSS and CPU seconds per Gbit moved (= CPU cores busy per Gbit/s), from
 * /proc/PID/status VmRSS and /proc/PID/stat utime+stime read before and after each run.
 */
import { DEFAULT_UDP_PAYLOAD_BYTES, runIperf, type IperfResult } from '../src/lab/iperf.js';
import { RX_RINGS, type RxRing } from '../src/io/frame-port.js';
import { startLabAppliances } from '../src/lab/appliance.js';
import { pingFrom } from '../src/lab/ping.js';
import { readProcessUsage } from '../src/lab/process-usage.js';
import { startStrongSwanGateways } from '../src/lab/strongswan.js';
import { buildLabTopology, destroyLabTopology, type LabTopology } from '../src/lab/topology.js';

const PREFIX = 'rbbench-';
const UDP_PAYLOAD_BYTES = DEFAULT_UDP_PAYLOAD_BYTES;
const UDP_SOCKET_BUFFER_BYTES = 4 * 1024 * 1024;
/** RFC 2544 asks for no loss; a lab sharing two CPUs with its traffic generator gets this much slack. */
const UDP_LOSS_ALLOWANCE_PERCENT = 0.5;
const TESTS = ['tcp', 'udp', 'udpFlood'] as const;
type Test = (typeof TESTS)[number];
const TEST_NAMES: Record<Test, string> = { tcp: 'TCP', udp: 'UDP', udpFlood: 'UDP flood' };

interface GatewayProcess {
  readonly site: 'a' | 'b';
  readonly pid: number;
}

interface GatewayUsage extends GatewayProcess {
  readonly rssKiB: number;
  readonly cpuSeconds: number;
  readonly cpuSecondsPerGbit: number;
}

interface Measurement {
  readonly iperf: IperfResult;
  readonly gateways: readonly GatewayUsage[];
}

type SideReport =
  | ({ readonly status: 'measured' } & Record<Test, Measurement>)
  | { readonly status: 'failed'; readonly error: string };

class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

class GatewayPathError extends Error {
  override readonly name = 'GatewayPathError';
}

interface Timing {
  /** TCP and UDP flood test length. */
  readonly seconds: number;
  /** Length and number of the UDP throughput probes. */
  readonly probeSeconds: number;
  readonly probes: number;
  /** The unmeasured TCP run before the tests. */
  readonly warmUpSeconds: number;
}

function parseArgs(argv: readonly string[]): { json: boolean; timing: Timing; rounds: number; rxRing: RxRing } {
  const quick = argv.includes('--quick');
  let rounds = quick ? 1 : 3;
  let rxRing: RxRing = 'v2';
  for (let k = 0; k < argv.length; k++) {
    const arg = argv[k];
    if (arg === '--rounds') {
      rounds = Number(argv[++k]);
      if (!Number.isInteger(rounds) || rounds < 1 || rounds > 9) throw new BenchUsageError(`bench:lab: --rounds needs a whole number from 1 to 9, got "${argv[k] ?? ''}"`);
    } else if (arg === '--rx-ring') {
      const value = argv[++k] ?? '';
      if (!(RX_RINGS as readonly string[]).includes(value)) throw new BenchUsageError(`bench:lab: --rx-ring needs ${RX_RINGS.join(' or ')}, got "${value}"`);
      rxRing = value as RxRing;
    } else if (arg !== '--json' && arg !== '--quick') {
      throw new BenchUsageError(`bench:lab: unknown argument "${arg}"; use --quick (shorter tests, a coarser UDP search, one round), --rounds N, --rx-ring v2|v3 and/or --json`);
    }
  }
  return { json: argv.includes('--json'), rounds, rxRing, timing: quick ? { seconds: 2, probeSeconds: 1, probes: 4, warmUpSeconds: 1 } : { seconds: 5, probeSeconds: 2, probes: 7, warmUpSeconds: 2 } };
}

/** A round's received rates (bit/s) per test, or null when it failed. */
function roundRates(side: SideReport): Record<Test, number> | null {
  if (side.status !== 'measured') return null;
  return { tcp: side.tcp.iperf.receivedBitsPerSecond, udp: side.udp.iperf.receivedBitsPerSecond, udpFlood: side.udpFlood.iperf.receivedBitsPerSecond };
}

/** Per test, the round with the median received rate; failed when any round failed. */
function medianRound(rounds: readonly SideReport[]): SideReport {
  const failed = rounds.find((r) => r.status === 'failed');
  if (failed !== undefined) return failed;
  const measured = rounds as readonly Extract<SideReport, { status: 'measured' }>[];
  const pick = (test: Test): Measurement => {
    const sorted = measured.map((r) => r[test]).sort((x, y) => x.iperf.receivedBitsPerSecond - y.iperf.receivedBitsPerSecond);
    return sorted[(sorted.length - 1) >> 1];
  };
  return { status: 'measured', tcp: pick('tcp'), udp: pick('udp'), udpFlood: pick('udpFlood') };
}

/** Waits (bounded: 10 s) until ping6 red-a -> red-b answers. */
async function waitForPath(topology: LabTopology): Promise<void> {
  const result = await pingFrom(topology.namespaces.redA, topology.addresses.b.host6, { count: 1, deadlineSeconds: 10 });
  if (!result.ok) throw new GatewayPathError(`no ping6 answer from ${result.target} within 10 s; the gateways do not forward`);
}

/** Runs one iperf3 test, reading each gateway's CPU time and RSS around it. */
async function measured(gateways: readonly GatewayProcess[], run: () => Promise<IperfResult>): Promise<Measurement> {
  const before = gateways.map((g) => readProcessUsage(g.pid));
  const iperf = await run();
  const after = gateways.map((g) => readProcessUsage(g.pid));
  const gigabits = (iperf.receivedBitsPerSecond * iperf.seconds) / 1e9;
  return {
    iperf,
    gateways: gateways.map((g, i) => {
      const cpuSeconds = after[i].cpuSeconds - before[i].cpuSeconds;
      return { ...g, rssKiB: after[i].rssKiB, cpuSeconds, cpuSecondsPerGbit: gigabits > 0 ? cpuSeconds / gigabits : Number.POSITIVE_INFINITY };
    }),
  };
}

/**
 * RFC 2544 §26.1 throughput by bisection: the first probe offers what the flood delivered, then
 * each probe halves the interval between the best rate that passed and the lowest that lost too
 * much (at first, what the flood sender offered). Returns the fastest probe that passed.
 */
async function udpThroughput(topology: LabTopology, gateways: readonly GatewayProcess[], flood: IperfResult, timing: Timing): Promise<Measurement> {
  let passed = 0;
  let failed = flood.sentBitsPerSecond;
  let best: Measurement | null = null;
  let last: Measurement | null = null;
  for (let probe = 0; probe < timing.probes; probe++) {
    const rate = probe === 0 ? flood.receivedBitsPerSecond : (passed + failed) / 2;
    last = await measured(gateways, () => runIperf(topology, {
      protocol: 'udp', seconds: timing.probeSeconds, udpPayloadBytes: UDP_PAYLOAD_BYTES, udpBitsPerSecond: rate, socketBufferBytes: UDP_SOCKET_BUFFER_BYTES,
    }));
    if ((last.iperf.lostPercent ?? 100) <= UDP_LOSS_ALLOWANCE_PERCENT) {
      passed = rate;
      best = last;
    } else {
      failed = rate;
    }
  }
  // No probe passed: report the slowest one (its loss shows it did not pass).
  return best ?? last!;
}

async function measure(topology: LabTopology, gateways: readonly GatewayProcess[], timing: Timing): Promise<Record<Test, Measurement>> {
  await waitForPath(topology);
  // Warm-up, not measured, for both kinds of gateway alike: a freshly started appliance runs its
  // JavaScript unoptimized until V8 has compiled it, about its first second under load (TCP in
  // 0.5 s steps: 137, 464, 629, 669 Mbit/s), which cost a 2 s TCP test a quarter of its rate.
  await runIperf(topology, { protocol: 'tcp', seconds: timing.warmUpSeconds });
  const tcp = await measured(gateways, () => runIperf(topology, { protocol: 'tcp', seconds: timing.seconds }));
  const udpFlood = await measured(gateways, () => runIperf(topology, {
    protocol: 'udp', seconds: timing.seconds, udpPayloadBytes: UDP_PAYLOAD_BYTES, socketBufferBytes: UDP_SOCKET_BUFFER_BYTES,
  }));
  const udp = await udpThroughput(topology, gateways, udpFlood.iperf, timing);
  return { tcp, udp, udpFlood };
}

async function measureRedblack(timing: Timing, rxRing: RxRing): Promise<SideReport> {
  const topology = await buildLabTopology({ prefix: PREFIX, gateways: 'appliance' });
  try {
    const args = ['--rx-ring', rxRing];
    const appliances = await startLabAppliances(topology, { runArgs: { a: args, b: args } });
    try {
      return { status: 'measured', ...(await measure(topology, appliances.processes, timing)) };
    } finally {
      await appliances.stop();
    }
  } finally {
    await destroyLabTopology(PREFIX);
  }
}

async function measureStrongSwan(timing: Timing): Promise<SideReport> {
  const topology = await buildLabTopology({ prefix: PREFIX, gateways: 'kernel' });
  try {
    const gateways = await startStrongSwanGateways(topology);
    try {
      const processes: GatewayProcess[] = [{ site: 'a', pid: gateways.pids.a }, { site: 'b', pid: gateways.pids.b }];
      return { status: 'measured', ...(await measure(topology, processes, timing)) };
    } finally {
      await gateways.stop();
    }
  } finally {
    await destroyLabTopology(PREFIX);
  }
}

async function guarded(run: () => Promise<SideReport>): Promise<SideReport> {
  try {
    return await run();
  } catch (error) {
    return { status: 'failed', error: error instanceof Error ? `${error.name}: ${error.message}` : String(error) };
  }
}

const mbit = (bps: number): string => `${(bps / 1e6).toFixed(0)} Mbit/s`;

function rateCell(side: SideReport, test: Test): string {
  if (side.status !== 'measured') return 'failed';
  const { receivedBitsPerSecond, lostPercent } = side[test].iperf;
  return test === 'tcp' ? mbit(receivedBitsPerSecond) : `${mbit(receivedBitsPerSecond)} ${(lostPercent ?? 0).toFixed(1)}% lost`;
}

function usageLines(name: string, side: SideReport): string[] {
  if (side.status !== 'measured') return [`${name}: ${side.error}`];
  return TESTS.map((test) => {
    const cells = side[test].gateways.map(
      (g) => `${g.site} pid ${g.pid}: RSS ${(g.rssKiB / 1024).toFixed(1)} MiB, ${g.cpuSecondsPerGbit.toFixed(2)} CPU s/Gbit`,
    );
    return `${name.padEnd(11)}${TEST_NAMES[test].padEnd(10)}${cells.join('   ')}`;
  });
}

async function main(): Promise<number> {
  const { json, timing, rounds, rxRing } = parseArgs(process.argv.slice(2));
  const onSignal = (): void => {
    void destroyLabTopology(PREFIX).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const redblackRounds: SideReport[] = [];
  const strongswanRounds: SideReport[] = [];
  for (let round = 0; round < rounds; round++) {
    redblackRounds.push(await guarded(() => measureRedblack(timing, rxRing)));
    strongswanRounds.push(await guarded(() => measureStrongSwan(timing)));
  }
  const redblack = medianRound(redblackRounds);
  const strongswan = medianRound(strongswanRounds);
  const ratio: Record<Test, number | null> = { tcp: null, udp: null, udpFlood: null };
  if (redblack.status === 'measured' && strongswan.status === 'measured') {
    for (const t of TESTS) ratio[t] = redblack[t].iperf.receivedBitsPerSecond / strongswan[t].iperf.receivedBitsPerSecond;
  }
  const perRound = { redblack: redblackRounds.map(roundRates), strongswan: strongswanRounds.map(roundRates) };
  const report = { timing, rounds, rxRing, udpPayloadBytes: UDP_PAYLOAD_BYTES, udpLossAllowancePercent: UDP_LOSS_ALLOWANCE_PERCENT, goalRatio: 3, redblack, strongswan, ratio, perRound };

  if (json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`lab throughput, red-a -> red-b over IPv6 (UDP: ${UDP_PAYLOAD_BYTES}-byte payloads, 1400-byte IPv6 datagrams), median of ${rounds} round${rounds === 1 ? '' : 's'}`);
    console.log(`  TCP: one stream, ${timing.seconds} s. UDP: RFC 2544 throughput, the highest rate with <= ${UDP_LOSS_ALLOWANCE_PERCENT}% lost (${timing.probes} probes of ${timing.probeSeconds} s).`);
    console.log(`  UDP flood: -b 0 for ${timing.seconds} s, for information (the sender competes with the gateways for the CPUs).`);
    console.log(`  redblack receives through TPACKET_${rxRing.toUpperCase()} rings.`);
    console.log(`${'test'.padEnd(10)}${'redblack'.padStart(24)}${'strongSwan'.padStart(24)}${'ratio (goal >= 3x)'.padStart(22)}`);
    for (const t of TESTS) {
      const r = ratio[t];
      const verdict = r === null ? '-' : `${r.toFixed(2)}x${t === 'udpFlood' || r >= 3 ? '' : ' (below goal)'}`;
      console.log(`${TEST_NAMES[t].padEnd(10)}${rateCell(redblack, t).padStart(24)}${rateCell(strongswan, t).padStart(24)}${verdict.padStart(22)}`);
    }
    if (rounds > 1) {
      const list = (side: (Record<Test, number> | null)[], t: Test) => side.map((r) => (r === null ? 'failed' : (r[t] / 1e6).toFixed(0))).join('/');
      for (const t of TESTS) console.log(`  rounds, ${TEST_NAMES[t]} Mbit/s: redblack ${list(perRound.redblack, t)}, strongSwan ${list(perRound.strongswan, t)}`);
    }
    console.log('gateway processes (RSS after the test; CPU seconds per Gbit received = CPU cores per Gbit/s):');
    for (const line of [...usageLines('redblack', redblack), ...usageLines('strongSwan', strongswan)]) console.log(`  ${line}`);
  }
  return redblack.status === 'failed' || strongswan.status === 'failed' ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
    process.exit(2);
  },
);
