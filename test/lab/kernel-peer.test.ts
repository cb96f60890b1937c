/**
 * Interoperability with a real Linux kernel IPsec stack: one redblack 6in4 gateway (RFC 4891
 * §5.1 shape, test/fixtures/lab/kernel-gateway.yaml) in rb-a, and as its peer a QEMU VM running
 * the Debian kernel (../shared/peers/kernel-vm.sh) with a sit tunnel under XFRM ESP transport,
 * rfc4106(gcm(aes)), keyed manually from the same fixture:
 *
 *   red-a (2001:db8:a::10) -- [rb-a: redblack, TEP 192.0.2.1] -- wan br0 -- VM (192.0.2.2, sit1 2001:db8:b::1)
 *
 * The VM's TAP sits on wan's bridge where rb-b's port would be (rb-b and red-b stay idle). Needs
 * root, qemu-system-x86 and linux-image-amd64 (scripts/setup); the appliance runs from dist/
 * (`npm test` builds first). Namespace prefix rm-kv-.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { startWanCapture } from '../../src/lab/capture.js';
import { runCommand } from '../../src/lab/command.js';
import { LabAppliance, labRunDir } from '../../src/lab/appliance.js';
import { peersDir } from '../../src/lab/paths.js';
import { echoRequestsAt, echoRequestsReaching, pingFrom } from '../../src/lab/ping.js';
import { buildLabTopology, destroyLabTopology, LAB_ADDRESSES, LAB_INTERFACES, type LabTopology } from '../../src/lab/topology.js';
import { summarizeCapture, type FrameClass } from '../../src/lab/wire-summary.js';
import { packageRoot } from '../../src/platform/package-root.js';

const PREFIX = 'rm-kv-';
const VM = 'rm-kv';
const ROOT = packageRoot();
const CONFIG = path.join(ROOT, 'test', 'fixtures', 'lab', 'kernel-gateway.yaml');
const KERNEL_VM = path.join(peersDir, 'kernel-vm.sh');
// The VM image cache goes to /tmp: ../shared may be read-only (kernel-vm.sh caches next to itself).
process.env.KERNEL_VM_CACHE ??= path.join(tmpdir(), 'redblack-kernel-vm-cache');
const MANUAL_XFRM_SETUP = path.join(peersDir, 'examples', 'kernel-vm-manual-xfrm-setup.sh');
const { a: SITE_A, b: SITE_B } = LAB_ADDRESSES;
/** The VM's sit address, in site b's prefix (the peer's prefix in the fixture). */
const VM_SIT6 = '2001:db8:b::1';
const PINGS = 3;

/** Why the test cannot run here, or null. */
function missingPrerequisite(): string | null {
  if (!existsSync(KERNEL_VM)) return `${KERNEL_VM} is missing (the shared peers directory)`;
  const onPath = (process.env.PATH ?? '').split(':').some((dir) => existsSync(path.join(dir, 'qemu-system-x86_64')));
  if (!onPath) return 'qemu-system-x86_64 is not installed: run scripts/setup (apt package qemu-system-x86)';
  if (!existsSync('/boot') || !readdirSync('/boot').some((f) => f.startsWith('vmlinuz-'))) {
    return 'no /boot/vmlinuz-*: run scripts/setup (apt package linux-image-amd64)';
  }
  return null;
}
const MISSING = missingPrerequisite();

interface ManualKeyText {
  direction: 'inbound' | 'outbound';
  spi: number;
  key: string;
}

/** The fixture's manual SAs, as the VM must mirror them (its outbound is redblack's inbound). */
function vmKeys(): { spiOut: string; keyOut: string; spiIn: string; keyIn: string } {
  const keys = (parseYaml(readFileSync(CONFIG, 'utf8')) as { manualKeys: ManualKeyText[] }).manualKeys;
  const of = (direction: ManualKeyText['direction']) => keys.find((k) => k.direction === direction)!;
  const hex = (spi: number) => `0x${spi.toString(16)}`;
  return { spiOut: hex(of('inbound').spi), keyOut: of('inbound').key, spiIn: hex(of('outbound').spi), keyIn: of('outbound').key };
}

/** Key material (0x + 40 or more hex digits) blanked out of a message: keys never reach test output. */
function withoutKeys(text: string): string {
  return text.replace(/0x[0-9a-f]{40,}/gi, '0x<key>');
}

/** Runs kernel-vm.sh (start, exec, stop); its output for exec, a keyless error otherwise. */
async function kernelVm(args: string[], timeoutMs = 30_000): Promise<string> {
  let result;
  try {
    result = await runCommand([KERNEL_VM, ...args], { timeoutMs, allowFailure: true });
  } catch (error) {
    throw new Error(withoutKeys((error as Error).message));
  }
  if (result.code !== 0) throw new Error(withoutKeys(`kernel-vm.sh ${args[0]} ${VM} failed (exit ${result.code}): ${result.stderr}${result.stdout}`));
  return result.stdout;
}

/** Packets of each ESP state in `ip -s xfrm state`, by SPI ("lifetime current: B(bytes), P(packets)"). */
function xfrmPackets(text: string): Map<number, number> {
  const out = new Map<number, number>();
  for (const state of text.split(/^src /m).slice(1)) {
    const spi = /proto esp spi 0x([0-9a-f]+)/.exec(state);
    const packets = /lifetime current:\s*\n\s*\d+\(bytes\), (\d+)\(packets\)/.exec(state);
    if (spi !== null && packets !== null) out.set(Number.parseInt(spi[1], 16), Number(packets[1]));
  }
  return out;
}

interface SaStatus {
  spi: string;
  direction: 'inbound' | 'outbound';
  counters: { packets: number };
}

async function sasOf(appliance: LabAppliance): Promise<SaStatus[]> {
  return ((await appliance.status()) as { sas: SaStatus[] }).sas;
}

describe.skipIf(MISSING !== null)(`a Linux kernel peer (XFRM + sit in QEMU)${MISSING === null ? '' : ` -- SKIPPED: ${MISSING}`}`, () => {
  let topology: LabTopology;
  let appliance: LabAppliance | undefined;
  let vmMayRun = false;
  const keys = vmKeys();

  beforeAll(async () => {
    expect(existsSync(path.join(ROOT, 'dist', 'src', 'cli', 'main.js')), 'dist/ is missing: run "npm run build" first').toBe(true);
    await runCommand([KERNEL_VM, 'stop', VM], { allowFailure: true, timeoutMs: 20_000 });
    topology = await buildLabTopology({ prefix: PREFIX });
    appliance = await LabAppliance.start(PREFIX, topology.namespaces.rbA, CONFIG, 'gateway');
    vmMayRun = true;
    await kernelVm([
      'start', VM, '--netns', topology.namespaces.wan, '--bridge', LAB_INTERFACES.bridge,
      '--addr', `${SITE_B.tep4}/${topology.addresses.blackPrefixLength}`, '--setup', MANUAL_XFRM_SETUP,
      '--env', `SIT_LOCAL=${SITE_B.tep4}`, '--env', `SIT_REMOTE=${SITE_A.tep4}`, '--env', `SIT_ADDR6=${VM_SIT6}/64`,
      '--env', `XFRM_SPI_OUT=${keys.spiOut}`, '--env', `XFRM_KEY_OUT=${keys.keyOut}`,
      '--env', `XFRM_SPI_IN=${keys.spiIn}`, '--env', `XFRM_KEY_IN=${keys.keyIn}`, '--timeout', '60',
    ], 70_000);
    // Site a is behind the tunnel for the VM (the setup script only puts sit1's own /64 on it).
    await kernelVm(['exec', VM, '--', `ip -6 route add ${SITE_A.lan6}/${SITE_A.lan6Length} dev sit1`]);
    // First packets are slow while TCG translates the VM's code, and ARP runs both ways: warm up.
    await pingFrom(topology.namespaces.redA, VM_SIT6, { count: 1, deadlineSeconds: 20 });
  }, 110_000);

  afterAll(async () => {
    if (vmMayRun) await runCommand([KERNEL_VM, 'stop', VM], { allowFailure: true, timeoutMs: 20_000 });
    await appliance?.stop();
    await destroyLabTopology(PREFIX);
  }, 40_000);

  /**
   * Pings both ways (red host -> VM sit address, VM -> red host) and returns how many ESP packets
   * each side's SAs counted meanwhile: redblack's outbound/inbound and the VM's states by SPI.
   */
  async function pingBothWays(): Promise<{ sent: number; received: number; vmIn: number; vmOut: number }> {
    const vmBefore = xfrmPackets(await kernelVm(['exec', VM, '--', 'ip -s xfrm state']));
    const ourBefore = await sasOf(appliance!);
    const fromRed = await pingFrom(topology.namespaces.redA, VM_SIT6, { count: PINGS, deadlineSeconds: 15 });
    expect(fromRed).toMatchObject({ ok: true, received: PINGS });
    const fromVm = await kernelVm(['exec', VM, '--', `ping -6 -n -c ${PINGS} -i 0.2 -W 2 -w 15 ${SITE_A.host6}`]);
    expect(fromVm).toMatch(new RegExp(`${PINGS} packets transmitted, ${PINGS} received`));
    const vmAfter = xfrmPackets(await kernelVm(['exec', VM, '--', 'ip -s xfrm state']));
    const ourAfter = await sasOf(appliance!);
    const ours = (direction: SaStatus['direction']) =>
      ourAfter.find((s) => s.direction === direction)!.counters.packets - (ourBefore.find((s) => s.direction === direction)?.counters.packets ?? 0);
    const vm = (spi: string) => (vmAfter.get(Number(spi)) ?? 0) - (vmBefore.get(Number(spi)) ?? 0);
    return { sent: ours('outbound'), received: ours('inbound'), vmIn: vm(keys.spiIn), vmOut: vm(keys.spiOut) };
  }

  it('carries ping6 both ways between the red host and the VM\'s sit address, only as ESP (and ARP) on the wire', async () => {
    const capture = await startWanCapture(topology, { maxSeconds: 60, maxPackets: 1000 });
    let counts: Awaited<ReturnType<typeof pingBothWays>>;
    let pcap: Uint8Array;
    try {
      counts = await pingBothWays();
    } finally {
      pcap = await capture.stop();
    }
    // Each ping puts a request one way and a reply the other; the kernel's SAs counted exactly
    // what redblack's did, so every packet was decrypted and accepted on both sides.
    expect(counts).toEqual({ sent: 2 * PINGS, received: 2 * PINGS, vmIn: 2 * PINGS, vmOut: 2 * PINGS });
    const wire = summarizeCapture(pcap);
    const seen = (Object.keys(wire.counts) as FrameClass[]).filter((c) => wire.counts[c] > 0);
    expect(wire.violations).toBe(0);
    expect(seen.filter((c) => c !== 'arp')).toEqual(['esp']);
    expect(wire.counts.esp).toBe(counts.sent + counts.received);
  });

  it('interoperates with Extended Sequence Numbers too (RFC 4303 §2.2.1; RFC 4106 §5: 12-byte AAD)', async () => {
    // The same SAs with ESN on both sides: the VM's states re-added with "flag esn", redblack
    // restarted with the fixture's esn: false turned into its default, true.
    const state = (src: string, dst: string, spi: string, key: string) =>
      `ip xfrm state add src ${src} dst ${dst} proto esp spi ${spi} mode transport reqid 41 replay-window 128 flag esn aead 'rfc4106(gcm(aes))' ${key} 128`;
    await kernelVm(['exec', VM, '--', [
      'ip xfrm state deleteall',
      state(SITE_B.tep4, SITE_A.tep4, keys.spiOut, keys.keyOut),
      state(SITE_A.tep4, SITE_B.tep4, keys.spiIn, keys.keyIn),
    ].join(' && ')]);
    expect((await kernelVm(['exec', VM, '--', 'ip xfrm state'])).match(/flag esn/g)).toHaveLength(2);
    const text = readFileSync(CONFIG, 'utf8');
    const esnText = text.replace(/^(\s*)esn: false\b.*$/m, '$1esn: true');
    expect(esnText).not.toBe(text);
    const esnConfig = path.join(labRunDir(PREFIX), 'kernel-gateway-esn.yaml');
    writeFileSync(esnConfig, esnText);
    await appliance!.stop();
    appliance = await LabAppliance.start(PREFIX, topology.namespaces.rbA, esnConfig, 'gateway');

    expect(await pingBothWays()).toEqual({ sent: 2 * PINGS, received: 2 * PINGS, vmIn: 2 * PINGS, vmOut: 2 * PINGS });
  });

  it('reassembles the ESP the kernel fragments once its sit tunnel runs without path MTU discovery (RFC 4303 §3.4.1)', async () => {
    // DF clear on sit's outer header (nopmtudisc needs ttl 0, inherit): a 1468-byte IPv6 packet makes
    // a 1488-byte sit packet, which ESP transport mode grows past the VM's 1500-byte link, so its
    // kernel sends the ESP as two IPv4 fragments.
    // The path MTU sit learned through XFRM so far (1446) is forgotten, so nothing is cut before ESP.
    await kernelVm(['exec', VM, '--', `ip tunnel change sit1 mode sit local ${SITE_B.tep4} remote ${SITE_A.tep4} ttl 0 nopmtudisc && ip -6 route flush cache`]);
    const before = (await appliance!.status()) as { pipeline: Record<string, number>; drops: Record<string, number> };
    const echoes = await echoRequestsAt(topology.namespaces.redA);
    // Exactly PINGS requests (no -w: ping would send more until PINGS replies came). Only requests
    // are counted: a 1468-byte reply may meet Packet Too Big at rb-a first.
    await kernelVm(['exec', VM, '--', `timeout 20 ping -6 -n -c ${PINGS} -i 0.3 -W 2 -s 1420 ${SITE_A.host6} || true`]);
    expect(await echoRequestsReaching(topology.namespaces.redA, echoes + PINGS)).toBe(echoes + PINGS);
    const after = (await appliance!.status()) as typeof before;
    expect(after.pipeline.reassembled - before.pipeline.reassembled).toBe(PINGS);
    expect(after.pipeline.fragmentsReassembled - before.pipeline.fragmentsReassembled).toBe(2 * PINGS);
    expect(after.pipeline.fragmentsHeld).toBe(0);
  });
});
