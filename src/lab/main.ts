/**
 * `npm run lab`: builds the five-namespace lab, runs two redblack appliances in rb-a and rb-b,
 * pings across it (IPv6 both ways through the protected path, IPv4 across the bypass), captures
 * what crossed wan and prints a summary. Exit status 1 when a ping failed or the wan capture shows
 * anything but ESP, IKE, ARP and the bypassed IPv4 (never clear protocol 41, never IPv6).
 *
 *   npm run lab [-- --json] [-- --keep] [-- --prefix P] | npm run lab -- --down [--prefix P]
 *
 * --prefix P puts P in front of every namespace name (default none: red-a, rb-a, ...), so a test
 * can run its own lab beside the real one.
 */
import { startWanCapture, type WanCapture } from './capture.js';
import { startLabAppliances } from './appliance.js';
import type { LabAppliances } from './lab-appliances.js';
import { pingFrom, type PingResult } from './ping.js';
import { buildLabTopology, destroyLabTopology, DEFAULT_LAB_PREFIX, labNamespaces, type LabTopology } from './topology.js';
import { describeViolations, FRAME_CLASSES, FRAME_CLASS_LABELS, summarizeCapture, type WireSummary } from './wire-summary.js';

class LabUsageError extends Error {
  override readonly name = 'LabUsageError';
}

interface LabArgs {
  readonly json: boolean;
  readonly keep: boolean;
  readonly down: boolean;
  /** Prefix of the lab's namespace names (checked by labNamespaces). */
  readonly prefix: string;
}

function parseArgs(argv: readonly string[]): LabArgs {
  const flags = ['--json', '--keep', '--down'];
  let prefix = DEFAULT_LAB_PREFIX;
  for (let k = 0; k < argv.length; k++) {
    if (argv[k] === '--prefix') {
      if (k + 1 >= argv.length) throw new LabUsageError('lab: --prefix needs a value, e.g. --prefix rbt-');
      prefix = argv[++k];
      labNamespaces(prefix); // rejects a prefix that cannot name a namespace, saying why
    } else if (!flags.includes(argv[k])) {
      throw new LabUsageError(`lab: unknown argument "${argv[k]}"; use --json, --keep, --down or --prefix P`);
    }
  }
  const args = { json: argv.includes('--json'), keep: argv.includes('--keep'), down: argv.includes('--down'), prefix };
  if (args.down && args.keep) throw new LabUsageError('lab: --down tears the lab down; it cannot be combined with --keep');
  return args;
}

interface LabReport {
  readonly prefix: string;
  readonly namespaces: LabTopology['namespaces'];
  readonly addresses: LabTopology['addresses'];
  readonly pings: readonly (PingResult & { readonly name: string })[];
  readonly appliances: unknown;
  readonly capture: { readonly path: string; readonly summary: WireSummary };
  readonly kept: boolean;
  readonly problems: readonly string[];
}

async function runPings(topology: LabTopology): Promise<(PingResult & { name: string })[]> {
  const { redA, redB } = topology.namespaces;
  const { a, b } = topology.addresses;
  return [
    { name: 'ping6 red-a -> red-b', ...(await pingFrom(redA, b.host6)) },
    { name: 'ping6 red-b -> red-a', ...(await pingFrom(redB, a.host6)) },
    { name: 'ping red-a -> red-b (IPv4 bypass)', ...(await pingFrom(redA, b.host4)) },
  ];
}

function problemsOf(pings: LabReport['pings'], summary: WireSummary): string[] {
  const problems = pings.filter((p) => !p.ok).map((p) => `${p.name}: ${p.received} of ${p.transmitted} answered`);
  if (summary.violations > 0) {
    problems.push(`wan carried ${summary.violations} frame(s) that must never cross it: ${describeViolations(summary)}`);
  }
  return problems;
}

function printReport(report: LabReport): void {
  const { namespaces: ns, addresses: ad } = report;
  console.log(`redblack lab "${report.prefix}"`);
  console.log(`  ${ns.redA} (${ad.a.host6}, ${ad.a.host4}) | ${ns.rbA} (TEP ${ad.a.tep4}) | ${ns.wan} | ${ns.rbB} (TEP ${ad.b.tep4}) | ${ns.redB} (${ad.b.host6}, ${ad.b.host4})`);
  console.log('pings:');
  for (const p of report.pings) {
    const rtt = p.averageRttMs === null ? '' : `, avg rtt ${p.averageRttMs} ms`;
    console.log(`  ${p.ok ? 'ok  ' : 'FAIL'} ${p.name} (${p.target}): ${p.received}/${p.transmitted} replies${rtt}`);
  }
  console.log('appliances (SAs and counters):');
  for (const line of JSON.stringify(report.appliances, null, 2).split('\n')) console.log(`  ${line}`);
  const s = report.capture.summary;
  console.log(`wan capture: ${s.frames} frames in ${report.capture.path}`);
  for (const c of FRAME_CLASSES) {
    console.log(`  ${FRAME_CLASS_LABELS[c].padEnd(24)}${String(s.counts[c]).padStart(7)}${s.allowed.includes(c) ? '' : '  (must be 0)'}`);
  }
  for (const v of s.firstViolations) console.log(`  violation: frame ${v.frame}, ${FRAME_CLASS_LABELS[v.frameClass]}, ${v.length} bytes`);
  if (report.kept) console.log(`lab kept running; tear it down with: npm run lab -- --down`);
  console.log(report.problems.length === 0 ? 'result: PASS' : `result: FAIL\n${report.problems.map((p) => `  - ${p}`).join('\n')}`);
}

async function runLab(args: LabArgs): Promise<number> {
  const { prefix } = args;
  if (args.down) {
    await destroyLabTopology(prefix);
    console.log(args.json ? JSON.stringify({ prefix, down: true }) : `lab "${prefix}" torn down`);
    return 0;
  }
  const topology = await buildLabTopology({ prefix, gateways: 'appliance' });
  let capture: WanCapture | undefined;
  let appliances: LabAppliances | undefined;
  let report: LabReport | undefined;
  try {
    capture = await startWanCapture(topology);
    appliances = await startLabAppliances(topology);
    const pings = await runPings(topology);
    const status = await appliances.status();
    const summary = summarizeCapture(await capture.stop(), { bypass4: `${topology.addresses.bypass4}/${topology.addresses.bypass4Length}` });
    report = {
      prefix,
      namespaces: topology.namespaces,
      addresses: topology.addresses,
      pings,
      appliances: status,
      capture: { path: capture.path, summary },
      kept: args.keep,
      problems: problemsOf(pings, summary),
    };
  } finally {
    if (report === undefined || !args.keep) {
      await capture?.stop().catch(() => undefined);
      await appliances?.stop();
      await destroyLabTopology(prefix);
    }
  }
  if (args.json) console.log(JSON.stringify(report));
  else printReport(report);
  return report.problems.length === 0 ? 0 : 1;
}

Promise.resolve()
  .then(() => {
    const args = parseArgs(process.argv.slice(2));
    process.once('SIGINT', () => {
      // Interrupted mid-run: leave nothing behind (a kept lab is only kept after a finished run).
      void destroyLabTopology(args.prefix).finally(() => process.exit(130));
    });
    return runLab(args);
  })
  .then(
    (code) => process.exit(code),
    (error: unknown) => {
      console.error(error instanceof Error ? `${error.name}: ${error.message}` : error);
      process.exit(2);
    },
  );
