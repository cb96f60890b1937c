/**
 * One iperf3 measurement across the lab over IPv6: a one-shot server in red-b, the client in
 * red-a, both bounded in time; red-a -> red-b, or red-b -> red-a with `reverse` (iperf3 -R).
 * Reports the receiver's rate.
 */
import { runCommand, inNamespace, sleep } from './command.js';
import type { LabTopology } from './topology.js';

export type IperfProtocol = 'tcp' | 'udp';

/**
 * UDP payload per datagram by default: a 1400-byte IPv6 datagram, which fits both the strongSwan
 * TUN MTU (1400) and redblack's 1500-byte black MTU after encapsulation.
 */
export const DEFAULT_UDP_PAYLOAD_BYTES = 1352;

export interface IperfOptions {
  readonly protocol: IperfProtocol;
  readonly seconds: number;
  /** UDP payload per datagram. Default DEFAULT_UDP_PAYLOAD_BYTES. */
  readonly udpPayloadBytes?: number;
  /** UDP offered rate in bit/s; 0 (the default) sends as fast as it can. */
  readonly udpBitsPerSecond?: number;
  /** Socket buffer size (-w) of both ends, in bytes; iperf3's default when absent. */
  readonly socketBufferBytes?: number;
  /** Send red-b -> red-a instead (iperf3 -R: the server in red-b sends). Default false. */
  readonly reverse?: boolean;
}

export interface IperfResult {
  readonly protocol: IperfProtocol;
  readonly seconds: number;
  /** What arrived at the receiver (red-b; red-a with `reverse`). */
  readonly receivedBitsPerSecond: number;
  readonly sentBitsPerSecond: number;
  /** UDP only: datagrams lost, in percent. */
  readonly lostPercent: number | null;
}

export class IperfError extends Error {
  override readonly name = 'IperfError';
}

const PORT = 5201;

interface IperfSum {
  seconds: number;
  bits_per_second: number;
  lost_percent?: number;
}

async function waitForListener(namespace: string): Promise<void> {
  for (let waited = 0; waited < 5000; waited += 100) {
    const { stdout } = await runCommand(inNamespace(namespace, ['ss', '-Hltn', `sport = :${PORT}`]));
    if (stdout.trim() !== '') return;
    await sleep(100);
  }
  throw new IperfError(`iperf3: the server in ${namespace} did not listen on port ${PORT} within 5 s`);
}

/** Runs one test from red-a to red-b (or back, with options.reverse); UDP sends at options.udpBitsPerSecond, by default as fast as it can (-b 0). */
export async function runIperf(topology: LabTopology, options: IperfOptions): Promise<IperfResult> {
  const { redA, redB } = topology.namespaces;
  const { a, b } = topology.addresses;
  const stopServer = new AbortController();
  const server = runCommand(inNamespace(redB, ['iperf3', '-s', '-1', '-B', b.host6, '-p', String(PORT)]), {
    timeoutMs: (options.seconds + 30) * 1000,
    allowFailure: true,
    signal: stopServer.signal,
  }).catch(() => undefined);
  try {
    await waitForListener(redB);
    const client = ['iperf3', '-c', b.host6, '-B', a.host6, '-p', String(PORT), '-t', String(options.seconds), '-J'];
    if (options.protocol === 'udp') client.push('-u', '-b', String(Math.round(options.udpBitsPerSecond ?? 0)), '-l', String(options.udpPayloadBytes ?? DEFAULT_UDP_PAYLOAD_BYTES));
    // The client hands -w to the server too, so it sizes the receiving socket.
    if (options.socketBufferBytes !== undefined) client.push('-w', String(options.socketBufferBytes));
    // With -R the report's sum_received is still the receiver's (now red-a's), lost_percent included.
    if (options.reverse === true) client.push('-R');
    const { stdout } = await runCommand(inNamespace(redA, client), { timeoutMs: (options.seconds + 20) * 1000, allowFailure: true });
    let report: { error?: string; end?: { sum_sent?: IperfSum; sum_received?: IperfSum } };
    try {
      report = JSON.parse(stdout) as typeof report;
    } catch {
      throw new IperfError(`iperf3 ${options.protocol}: the client printed no JSON report: ${stdout.slice(0, 200)}`);
    }
    const received = report.end?.sum_received;
    const sent = report.end?.sum_sent;
    if (report.error !== undefined || received === undefined || sent === undefined) {
      const path = options.reverse === true ? `${b.host6} -> ${a.host6}` : `${a.host6} -> ${b.host6}`;
      throw new IperfError(`iperf3 ${options.protocol} ${path}: ${report.error ?? 'the report has no end.sum_sent/sum_received'}`);
    }
    return {
      protocol: options.protocol,
      seconds: received.seconds,
      receivedBitsPerSecond: received.bits_per_second,
      sentBitsPerSecond: sent.bits_per_second,
      lostPercent: options.protocol === 'udp' ? (received.lost_percent ?? null) : null,
    };
  } finally {
    // The one-shot server exits after its test; if the client never reached it, end it.
    const deadline = setTimeout(() => stopServer.abort(), 3000);
    await server;
    clearTimeout(deadline);
  }
}
