/**
 * What one chunk of the soak (src/lab/soak.ts) measured, and the checks each chunk must pass:
 * both appliances answer, the traffic ran, no drop under a protected-path failure reason, nothing
 * but ESP and ARP crossed wan, every packet one side's outbound SA sealed was opened by the
 * other side's inbound SA (or lost where the kernel counted it), UDP loss within its allowance,
 * every ping answered, and no appliance's RSS grown beyond its bound since the first chunk.
 * Pure functions of the samples: no lab needed to test them.
 */
import { PROTECTED_PATH_FAILURES } from './protected-path-failures.js';
import { describeViolations, type WireSummary } from './wire-summary.js';

export type SoakSite = 'a' | 'b';

/** Which way the chunk's iperf3 UDP ran: red-a -> red-b or back. */
export type SoakDirection = 'a->b' | 'b->a';

/** The checks, in the order they are reported. */
export const SOAK_CHECKS = ['appliances', 'traffic', 'protected-path-drops', 'wan-violations', 'sa-counters', 'udp-loss', 'pings', 'rss-growth'] as const;
export type SoakCheck = (typeof SOAK_CHECKS)[number];

/** What an appliance's status socket says after a chunk, cumulative since its start. */
export interface SoakStatusFigures {
  /** Every non-zero drop counter, by reason name. */
  readonly drops: Readonly<Record<string, number>>;
  /** Packets its outbound SAs sealed and its inbound SAs opened. */
  readonly outboundPackets: number;
  readonly inboundPackets: number;
  /** Frames the kernel dropped from its black receive ring, and black sends that failed. */
  readonly blackRxKernelDrops: number;
  readonly blackTxErrors: number;
  /** Frames the kernel dropped from its red receive ring: traffic lost before the appliance saw it. */
  readonly redRxKernelDrops: number;
  /** The longest the appliance's event loop ran late (its status' eventLoopDelayMs.max). */
  readonly eventLoopDelayMaxMs: number;
}

/** One appliance after a chunk: its status figures and, from /proc, its memory and CPU. */
export type SoakApplianceSample =
  | (SoakStatusFigures & {
      readonly state: 'running';
      readonly namespace: string;
      readonly pid: number;
      readonly rssKiB: number;
      /** CPU time used during the chunk, in percent of one core. */
      readonly cpuPercent: number;
    })
  | {
      readonly state: 'unavailable';
      readonly namespace: string;
      readonly pid: number;
      /** Why its status or /proc entry could not be read. */
      readonly error: string;
    };

export type SoakTrafficSample =
  | {
      readonly ok: true;
      readonly receivedBitsPerSecond: number;
      readonly sentBitsPerSecond: number;
      readonly lostPercent: number;
    }
  | { readonly ok: false; readonly error: string };

export interface SoakPingSample {
  /** "ping6 red-a -> red-b". */
  readonly name: string;
  readonly transmitted: number;
  readonly received: number;
  /** Every reply wanted arrived before the ping's deadline. */
  readonly ok: boolean;
}

export interface SoakChunkSample {
  /** From 1. */
  readonly index: number;
  readonly direction: SoakDirection;
  /** Wall time of the chunk, traffic and sampling included. */
  readonly seconds: number;
  readonly traffic: SoakTrafficSample;
  readonly pings: readonly SoakPingSample[];
  /** What crossed wan during the chunk, leaving out ESP (see the soak's capture filter). */
  readonly wire: WireSummary;
  /** The chunk's capture, kept only when it shows violations. */
  readonly pcapPath: string | null;
  readonly appliances: Readonly<Record<SoakSite, SoakApplianceSample>>;
}

export interface SoakLimits {
  /** Most UDP datagrams a chunk may lose, in percent. */
  readonly udpLossPercent: number;
  /** Most an appliance's RSS may grow over what it was after the first chunk, in KiB. */
  readonly rssGrowthKiB: number;
}

export const DEFAULT_SOAK_LIMITS: SoakLimits = Object.freeze({
  // bench:lab's RFC 2544 allowance at the throughput limit; the soak runs well below it.
  udpLossPercent: 0.5,
  rssGrowthKiB: 16 * 1024,
});

export interface SoakFailure {
  readonly check: SoakCheck;
  /** What went wrong and where to look. */
  readonly message: string;
}

const mib = (kib: number): string => (kib / 1024).toFixed(1);

function applianceFailures(sample: SoakChunkSample): SoakFailure[] {
  return Object.values(sample.appliances)
    .filter((a) => a.state === 'unavailable')
    .map((a) => ({ check: 'appliances', message: `${a.namespace} (PID ${a.pid}) did not answer or has exited: ${a.error}; see its log in the soak's run directory` }));
}

function protectedPathFailures(sample: SoakChunkSample): SoakFailure[] {
  const failures: SoakFailure[] = [];
  for (const a of Object.values(sample.appliances)) {
    if (a.state !== 'running') continue;
    const seen = PROTECTED_PATH_FAILURES.filter((reason) => (a.drops[reason] ?? 0) > 0).map((reason) => `${reason} ${a.drops[reason]}`);
    if (seen.length > 0) {
      failures.push({ check: 'protected-path-drops', message: `${a.namespace} dropped protected-path traffic: ${seen.join(', ')} (since start; its log names the reasons as they rose)` });
    }
  }
  return failures;
}

function wireFailures(sample: SoakChunkSample): SoakFailure[] {
  const { wire } = sample;
  if (wire.violations === 0) return [];
  const first = wire.firstViolations[0];
  const where = sample.pcapPath === null ? '' : `; first at frame ${first?.frame ?? '?'} of ${sample.pcapPath}`;
  return [{ check: 'wan-violations', message: `wan carried ${wire.violations} frame(s) that must never cross it: ${describeViolations(wire)}${where}` }];
}

/**
 * Every packet the sender's outbound SA sealed must have been opened by the receiver's inbound
 * SA, except those the kernel counted as lost on the way: the receiver's black ring drops and the
 * sender's failed black sends.
 */
function saCounterFailures(sample: SoakChunkSample): SoakFailure[] {
  const { a, b } = sample.appliances;
  if (a.state !== 'running' || b.state !== 'running') return [];
  const failures: SoakFailure[] = [];
  for (const [sender, receiver] of [[a, b], [b, a]] as const) {
    const missing = sender.outboundPackets - receiver.inboundPackets;
    const explained = receiver.blackRxKernelDrops + sender.blackTxErrors;
    if (missing >= 0 && missing <= explained) continue;
    const why = missing < 0
      ? 'more than were sealed: the counters or the SAs are wrong'
      : `${missing} short, of which only ${explained} were counted as lost (${receiver.namespace}'s black ring drops, ${sender.namespace}'s black send errors)`;
    failures.push({
      check: 'sa-counters',
      message: `${sender.namespace}'s outbound SA sealed ${sender.outboundPackets} packets, ${receiver.namespace}'s inbound SA opened ${receiver.inboundPackets}: ${why}`,
    });
  }
  return failures;
}

function trafficFailures(sample: SoakChunkSample, limits: SoakLimits): SoakFailure[] {
  const { traffic } = sample;
  if (!traffic.ok) return [{ check: 'traffic', message: `iperf3 UDP ${sample.direction} did not run to its end: ${traffic.error}` }];
  if (traffic.lostPercent <= limits.udpLossPercent) return [];
  return [{
    check: 'udp-loss',
    message: `iperf3 UDP ${sample.direction} lost ${traffic.lostPercent.toFixed(2)} % of its datagrams, more than the ${limits.udpLossPercent} % allowed (the summary shows where the kernel dropped frames: each appliance's red and black ring drops; a lower --rate shows whether it is load)`,
  }];
}

function pingFailures(sample: SoakChunkSample): SoakFailure[] {
  return sample.pings
    .filter((p) => !p.ok)
    .map((p) => ({ check: 'pings', message: `${p.name}: ${p.received} of ${p.transmitted} answered before its deadline` }));
}

function rssFailures(sample: SoakChunkSample, first: SoakChunkSample | null, limits: SoakLimits): SoakFailure[] {
  if (first === null) return [];
  const failures: SoakFailure[] = [];
  for (const site of ['a', 'b'] as const) {
    const now = sample.appliances[site];
    const then = first.appliances[site];
    if (now.state !== 'running' || then.state !== 'running') continue;
    const growth = now.rssKiB - then.rssKiB;
    if (growth <= limits.rssGrowthKiB) continue;
    failures.push({
      check: 'rss-growth',
      message: `${now.namespace}'s RSS grew ${mib(growth)} MiB since chunk ${first.index} (${mib(then.rssKiB)} -> ${mib(now.rssKiB)} MiB), more than the ${mib(limits.rssGrowthKiB)} MiB allowed: memory that is never freed?`,
    });
  }
  return failures;
}

/**
 * Every check `sample` fails, in SOAK_CHECKS order; empty when it passes. `first` is the first
 * chunk's sample (the RSS baseline), null while checking the first chunk itself.
 */
export function checkSoakChunk(sample: SoakChunkSample, first: SoakChunkSample | null, limits: SoakLimits = DEFAULT_SOAK_LIMITS): SoakFailure[] {
  const failures = [
    ...applianceFailures(sample),
    ...trafficFailures(sample, limits),
    ...protectedPathFailures(sample),
    ...wireFailures(sample),
    ...saCounterFailures(sample),
    ...pingFailures(sample),
    ...rssFailures(sample, first, limits),
  ];
  return failures.sort((x, y) => SOAK_CHECKS.indexOf(x.check) - SOAK_CHECKS.indexOf(y.check));
}
