/**
 * Lab throughput: redblack appliances vs strongSwan (kernel-libipsec) as the two gateways of the
 * same five-namespace topology, iperf3 TCP and UDP from red-a to red-b over IPv6.
 *
 *   npm run bench:lab [-- --quick] [-- --json]
 *
 * Prints the receiver rates, the ratio redblack/strongSwan (goal: at least 3x), and per gateway
 * process its RSS and CPU seconds per Gbit moved (= CPU cores busy per Gbit/s), from
 * /proc/PID/status VmRSS and /proc/PID/stat utime+stime read before and after each run.
 */
import { runIperf, type IperfProtocol, type IperfResult } from '../src/lab/iperf.js';
import { startLabAppliances } from '../src/lab/appliance.js';
import { pingFrom } from '../src/lab/ping.js';
import { readProcessUsage } from '../src/lab/process-usage.js';
import { startStrongSwanGateways } from '../src/lab/strongswan.js';
import { buildLabTopology, destroyLabTopology, type LabTopology } from '../src/lab/topology.js';

const PREFIX = 'rbbench-';
const UDP_PAYLOAD_BYTES = 1352;
const PROTOCOLS: readonly IperfProtocol[] = ['tcp', 'udp'];

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
  | { readonly status: 'measured'; readonly tcp: Measurement; readonly udp: Measurement }
  | { readonly status: 'failed'; readonly error: string };

class BenchUsageError extends Error {
  override readonly name = 'BenchUsageError';
}

class GatewayPathError extends Error {
  override readonly name = 'GatewayPathError';
}

function parseArgs(argv: readonly string[]): { json: boolean; seconds: number } {
  for (const arg of argv) {
    if (arg !== '--json' && arg !== '--quick') {
      throw new BenchUsageError(`bench:lab: unknown argument "${arg}"; use --quick (2 s per test instead of 5) and/or --json`);
    }
  }
  return { json: argv.includes('--json'), seconds: argv.includes('--quick') ? 2 : 5 };
}

/** Waits (bounded: 10 s) until ping6 red-a -> red-b answers. */
async function waitForPath(topology: LabTopology): Promise<void> {
  const result = await pingFrom(topology.namespaces.redA, topology.addresses.b.host6, { count: 1, deadlineSeconds: 10 });
  if (!result.ok) throw new GatewayPathError(`no ping6 answer from ${result.target} within 10 s; the gateways do not forward`);
}

async function measure(topology: LabTopology, gateways: readonly GatewayProcess[], seconds: number): Promise<Record<IperfProtocol, Measurement>> {
  await waitForPath(topology);
  const results: Partial<Record<IperfProtocol, Measurement>> = {};
  for (const protocol of PROTOCOLS) {
    const before = gateways.map((g) => readProcessUsage(g.pid));
    const iperf = await runIperf(topology, { protocol, seconds, udpPayloadBytes: UDP_PAYLOAD_BYTES });
    const after = gateways.map((g) => readProcessUsage(g.pid));
    const gigabits = (iperf.receivedBitsPerSecond * iperf.seconds) / 1e9;
    results[protocol] = {
      iperf,
      gateways: gateways.map((g, i) => {
        const cpuSeconds = after[i].cpuSeconds - before[i].cpuSeconds;
        return { ...g, rssKiB: after[i].rssKiB, cpuSeconds, cpuSecondsPerGbit: gigabits > 0 ? cpuSeconds / gigabits : Number.POSITIVE_INFINITY };
      }),
    };
  }
  return results as Record<IperfProtocol, Measurement>;
}

async function measureRedblack(seconds: number): Promise<SideReport> {
  const topology = await buildLabTopology({ prefix: PREFIX, gateways: 'appliance' });
  try {
    const appliances = await startLabAppliances(topology);
    try {
      return { status: 'measured', ...(await measure(topology, appliances.processes, seconds)) };
    } finally {
      await appliances.stop();
    }
  } finally {
    await destroyLabTopology(PREFIX);
  }
}

async function measureStrongSwan(seconds: number): Promise<SideReport> {
  const topology = await buildLabTopology({ prefix: PREFIX, gateways: 'kernel' });
  try {
    const gateways = await startStrongSwanGateways(topology);
    try {
      const processes: GatewayProcess[] = [{ site: 'a', pid: gateways.pids.a }, { site: 'b', pid: gateways.pids.b }];
      return { status: 'measured', ...(await measure(topology, processes, seconds)) };
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

function rateCell(side: SideReport, protocol: IperfProtocol): string {
  return side.status === 'measured' ? mbit(side[protocol].iperf.receivedBitsPerSecond) : 'failed';
}

function usageLines(name: string, side: SideReport): string[] {
  if (side.status !== 'measured') return [`${name}: ${side.error}`];
  return PROTOCOLS.map((protocol) => {
    const cells = side[protocol].gateways.map(
      (g) => `${g.site} pid ${g.pid}: RSS ${(g.rssKiB / 1024).toFixed(1)} MiB, ${g.cpuSecondsPerGbit.toFixed(2)} CPU s/Gbit`,
    );
    return `${name.padEnd(11)}${protocol.toUpperCase().padEnd(5)}${cells.join('   ')}`;
  });
}

async function main(): Promise<number> {
  const { json, seconds } = parseArgs(process.argv.slice(2));
  const onSignal = (): void => {
    void destroyLabTopology(PREFIX).finally(() => process.exit(130));
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);

  const redblack = await guarded(() => measureRedblack(seconds));
  const strongswan = await guarded(() => measureStrongSwan(seconds));
  const ratio: Record<IperfProtocol, number | null> = { tcp: null, udp: null };
  if (redblack.status === 'measured' && strongswan.status === 'measured') {
    for (const p of PROTOCOLS) ratio[p] = redblack[p].iperf.receivedBitsPerSecond / strongswan[p].iperf.receivedBitsPerSecond;
  }
  const report = { secondsPerTest: seconds, udpPayloadBytes: UDP_PAYLOAD_BYTES, goalRatio: 3, redblack, strongswan, ratio };

  if (json) {
    console.log(JSON.stringify(report));
  } else {
    console.log(`lab throughput, red-a -> red-b over IPv6, iperf3 ${seconds} s per test (UDP: ${UDP_PAYLOAD_BYTES}-byte payloads, 1400-byte IPv6 datagrams, -b 0)`);
    console.log(`${'test'.padEnd(8)}${'redblack'.padStart(16)}${'strongSwan'.padStart(16)}${'ratio (goal >= 3x)'.padStart(22)}`);
    for (const p of PROTOCOLS) {
      const r = ratio[p];
      console.log(`${p.toUpperCase().padEnd(8)}${rateCell(redblack, p).padStart(16)}${rateCell(strongswan, p).padStart(16)}${(r === null ? '-' : `${r.toFixed(2)}x${r >= 3 ? '' : ' (below goal)'}`).padStart(22)}`);
    }
    console.log('gateway processes (RSS after the run; CPU seconds per Gbit received = CPU cores per Gbit/s):');
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
