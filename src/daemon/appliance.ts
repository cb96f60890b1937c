/**
 * The running appliance: two AF_PACKET ports, the frame slots, the pipeline, the link layer and
 * the SAD, driven by the event loop (a port turning readable drains it in batches). Stopping
 * zeroizes every SA. If the process dies, nothing forwards, and with the host stack isolated
 * (the default) nothing else sends on the NICs either (fail closed).
 */
import type { ApplianceConfig } from '../config/appliance-config.js';
import { formatAddressBytes } from '../policy/address-text.js';
import { availableParallelism } from 'node:os';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { selectAeadBackend } from '../crypto/index.js';
import { DROP_REASON_NAMES, DropCounters } from '../dataplane/drop-reason.js';
import { FrameSlots } from '../dataplane/frame-slots.js';
import { Pipeline, Port } from '../dataplane/pipeline.js';
import type { DataplaneSettings } from '../dataplane/settings.js';
import { FramePort, type RxRing } from '../io/frame-port.js';
import { APPLIANCE_FRAME_MARK, applyHostStackMode, HOST_STACK_TABLE, reportHostStack, type HostStackMode } from '../io/host-stack-isolation.js';
import { SecurityAssociationDatabase } from '../ipsec/sad.js';
import type { SecurityAssociation } from '../ipsec/security-association.js';
import { IcmpErrorSender } from '../link/icmp-errors.js';
import { compileLinkSettings, compileTransparentIcmpSettings } from '../link/link-config.js';
import { LinkServices } from '../link/link-services.js';
import { LinkTransmitQueue } from '../link/transmit-queue.js';
import { remoteRangeSelector } from '../policy/selectors.js';
import { SpdAction } from '../policy/spd.js';
import { largestEspPayload } from '../tunnel/tunnel-mtu.js';
import { formatSpi } from '../wire/esp.js';
import { IPV4_MIN_HEADER_BYTES } from '../wire/ipv4.js';
import { IPV6_MIN_MTU } from '../wire/ipv6.js';
import { DEFAULT_TTL } from '../wire/protocol.js';

export interface ApplianceOptions {
  /** Frames per batch (slots per port). Default 256. */
  batch?: number;
  /** Where log lines go. Default: stderr with a timestamp. */
  log?: (line: string) => void;
  /** Poll the NICs on every event-loop turn instead of waiting for readiness (burns a core). */
  busyPoll?: boolean;
  /**
   * Seal and open on the AEAD backend's crypto thread, a second core working beside the pipeline.
   * Default: on with at least CRYPTO_THREAD_MIN_CPUS CPUs (one for the pipeline, one for crypto,
   * the rest for the kernel's packet work), off with fewer.
   */
  cryptoThread?: boolean;
  /**
   * The NICs' receive ring: 'v2' (default) hands each frame over as the kernel writes it; 'v3'
   * hands over blocks of frames, cheaper per frame under load but up to its retire timer late (1 ms,
   * or a scheduler tick on kernels without the hrtimer retire timer).
   */
  rxRing?: RxRing;
  /**
   * 'isolated' (default): red and black are taken from the host's network stack once both are
   * open, before anything is sent (src/io/host-stack-isolation.ts): it neither sees nor sends
   * frames there, and still sends nothing after the appliance stopped or died. 'shared': the host
   * stack keeps them (a table an earlier isolated run left is removed).
   */
  hostStack?: HostStackMode;
}

export const CRYPTO_THREAD_MIN_CPUS = 4;

/** Batches drained per readable event before yielding to the event loop (timers, status). */
const MAX_BATCHES_PER_TURN = 64;
const TICK_MS = 100;
/** The event-loop delay monitor's timer; the histogram holds whole intervals between its runs (ns). */
const LOOP_DELAY_RESOLUTION_MS = 10;

/** How late past its timer an interval of the event-loop delay histogram ran, in ms. */
function loopLateMs(intervalNs: number): number {
  return Math.max(0, intervalNs / 1e6 - LOOP_DELAY_RESOLUTION_MS);
}
const DROP_LOG_INTERVAL_MS = 10_000;

export class Appliance {
  private readonly drops = new DropCounters();
  private readonly redSlots: FrameSlots;
  private readonly blackSlots: FrameSlots;
  /** Frames the appliance originates for a destination beyond red (Port.Local), on their way through the data plane. */
  private readonly localSlots: FrameSlots;
  private readonly sad: SecurityAssociationDatabase;
  private readonly link: LinkServices | null;
  /** The transparent role's ICMP errors (the gateway role's belong to `link`). */
  private readonly transparentIcmp: IcmpErrorSender | null;
  /** Frames the appliance generates itself: the link services' queue, or the transparent role's own. */
  private readonly generated: LinkTransmitQueue;
  private readonly pipeline: Pipeline;
  private readonly timer: NodeJS.Timeout;
  /** Event-loop delay since start, for status. */
  private readonly loopDelay = monitorEventLoopDelay({ resolution: LOOP_DELAY_RESOLUTION_MS });
  private readonly startedAt = performance.now();
  private readonly loggedDrops: Float64Array;
  private lastDropLog = 0;
  private txErrors = 0;
  private stopped = false;
  /** The nft read a status request started, while it runs. */
  private hostStackRead: Promise<object> | null = null;
  private readonly cryptoThread: boolean;

  private constructor(
    readonly config: ApplianceConfig,
    private readonly red: FramePort,
    private readonly black: FramePort,
    private readonly log: (line: string) => void,
    batch: number,
    cryptoThread: boolean,
    private readonly hostStack: HostStackMode,
  ) {
    const now = performance.now();
    const backend = selectAeadBackend();
    this.cryptoThread = backend.setCryptoThread(cryptoThread);
    if (cryptoThread && !this.cryptoThread) log(`the ${backend.name} AEAD backend has no crypto thread: sealing on the pipeline's thread`);
    this.redSlots = new FrameSlots({ count: batch });
    this.blackSlots = new FrameSlots({ count: batch });
    this.localSlots = new FrameSlots({ count: batch });
    this.sad = new SecurityAssociationDatabase({ backend, warn: log });
    for (const sa of config.manualSecurityAssociations()) this.sad.installManual(sa, now);
    this.sad.on('rekey', (sa) => log(`SA ${describeSa(sa)} reached its soft lifetime: rekey needed`));
    this.sad.on('expire', (sa) => log(`SA ${describeSa(sa)} expired and was removed (keys zeroized)`));

    const blackMtu = config.interfaces.black.mtu ?? black.info.mtu;
    const settings = dataplaneSettings(config, blackMtu, config.interfaces.red.mtu ?? red.info.mtu);
    this.link = config.gateway === null ? null : new LinkServices(compileLinkSettings({
      redMac: red.info.mac,
      blackMac: black.info.mac,
      routerAddress: config.gateway.redAddress,
      routerPrefixLength: config.gateway.redPrefixLength,
      tepAddress: config.gateway.tep,
      tepPrefixLength: config.gateway.tepPrefixLength,
      ipv4NextHop: config.gateway.nextHop ?? undefined,
      tunnelInnerMtu: Math.max(IPV6_MIN_MTU, largestEspPayload(blackMtu, IPV4_MIN_HEADER_BYTES, usesUdpEncapsulation(config))),
      routerAdvertisements: {
        intervalSeconds: config.gateway.routerAdvertisements.enabled ? config.gateway.routerAdvertisements.intervalSeconds : 0,
      },
    }), this.drops, { frameCapacity: this.redSlots.slotSize });
    this.generated = this.link?.transmit ?? new LinkTransmitQueue({ slotSize: this.redSlots.slotSize });
    // The transparent role owns no address but still answers a too-big DF packet (RFC 3884 appendix).
    this.transparentIcmp = this.link === null
      ? new IcmpErrorSender(compileTransparentIcmpSettings(red.info.mac, black.info.mac), this.generated)
      : null;
    this.pipeline = new Pipeline({
      settings, spd: config.spd, sad: this.sad, link: this.link, icmpErrors: this.transparentIcmp, transmit: this.generated, drops: this.drops, batchCapacity: batch,
    });
    this.loggedDrops = new Float64Array(this.drops.counts.length);

    red.onReadable(() => this.drain(Port.Red));
    black.onReadable(() => this.drain(Port.Black));
    red.onLink((up) => log(`red link ${red.info.name} is ${up ? 'up' : 'DOWN'}`));
    black.onLink((up) => log(`black link ${black.info.name} is ${up ? 'up' : 'DOWN'}`));
    this.link?.start(now);
    this.flushLink();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.loopDelay.enable();
  }

  /** Opens both NICs and starts forwarding. Errors name what to fix (missing NIC, missing root). */
  static start(config: ApplianceConfig, options: ApplianceOptions = {}): Appliance {
    const log = options.log ?? ((line: string) => process.stderr.write(`${new Date().toISOString()} ${config.name}: ${line}\n`));
    const hostStack = options.hostStack ?? 'isolated';
    const ports = { busyPoll: options.busyPoll ?? false, rxRing: options.rxRing, mark: APPLIANCE_FRAME_MARK };
    const red = FramePort.open(config.interfaces.red.name, ports);
    let black: FramePort | null = null;
    try {
      black = FramePort.open(config.interfaces.black.name, ports);
      // Both NICs exist (so errors about them name them first); nothing has been sent yet.
      applyHostStackMode(hostStack, [red.ifname, black.ifname]);
    } catch (e) {
      red.close();
      black?.close();
      throw e;
    }
    if (hostStack === 'shared') log(`the host stack shares ${red.ifname} and ${black.ifname}: it sees their frames and may send on them, in clear too after a crash`);
    const cryptoThread = options.cryptoThread ?? availableParallelism() >= CRYPTO_THREAD_MIN_CPUS;
    const appliance = new Appliance(config, red, black, log, options.batch ?? 256, cryptoThread, hostStack);
    log(`started (${config.role} role, red ${red.info.name} ${red.info.mac}, black ${black.info.name} ${black.info.mac}, ` +
      `${appliance.sad.size} SAs, AEAD ${appliance.sad.backend.name}${appliance.cryptoThread ? ' on its crypto thread' : ''}, ` +
      `${hostStack === 'isolated' ? `host stack kept off both NICs by nft table netdev ${HOST_STACK_TABLE}` : 'host stack shares the NICs'})`);
    return appliance;
  }

  /** Receives, processes and transmits until the port is empty (bounded per event-loop turn). */
  private drain(port: Port): void {
    if (this.stopped) return;
    const rx = port === Port.Red ? this.red : this.black;
    const slots = port === Port.Red ? this.redSlots : this.blackSlots;
    for (let round = 0; round < MAX_BATCHES_PER_TURN; round++) {
      const n = rx.receive(slots, 0, slots.count);
      if (n === 0) return;
      this.pipeline.processBatch(port, slots, n, performance.now());
      this.send(this.red, slots, this.pipeline.txRed.slots, this.pipeline.txRed.count);
      this.send(this.black, slots, this.pipeline.txBlack.slots, this.pipeline.txBlack.count);
      this.flushLink();
    }
    // More is waiting: let timers and the other port run, then continue.
    setImmediate(() => this.drain(port));
  }

  private send(port: FramePort, slots: FrameSlots, list: Uint16Array | Int32Array, count: number): void {
    if (count === 0) return;
    const sent = port.send(slots, list, count);
    if (sent < count) this.txErrors += count - sent;
  }

  /** Sends what ARP/ND/ICMP queued (replies, solicitations, released frames). */
  private flushLink(): void {
    const t = this.generated;
    // Replies to senders beyond a tunnel are routed. Routing them queues at most ARP or ND of
    // its own (a router sends itself no ICMP errors), which the second flush sends.
    const local = t.takeLocal(this.localSlots);
    this.sendQueued(t);
    if (local === 0) return;
    this.pipeline.processBatch(Port.Local, this.localSlots, local, performance.now());
    this.send(this.red, this.localSlots, this.pipeline.txRed.slots, this.pipeline.txRed.count);
    this.send(this.black, this.localSlots, this.pipeline.txBlack.slots, this.pipeline.txBlack.count);
    this.sendQueued(t);
  }

  private sendQueued(t: LinkTransmitQueue): void {
    this.send(this.red, t.slots, t.red, t.redCount);
    this.send(this.black, t.slots, t.black, t.blackCount);
    t.clear();
  }

  private tick(): void {
    const now = performance.now();
    this.sad.tick(now);
    this.pipeline.age(now);
    this.link?.poll(now);
    this.flushLink();
    if (now - this.lastDropLog >= DROP_LOG_INTERVAL_MS) {
      this.lastDropLog = now;
      this.logNewDrops();
    }
  }

  /** One line per interval naming every drop reason that rose, so no drop goes unexplained. */
  private logNewDrops(): void {
    const parts: string[] = [];
    const counts = this.drops.counts;
    for (let r = 0; r < counts.length; r++) {
      const delta = counts[r] - this.loggedDrops[r];
      if (delta > 0) parts.push(`${DROP_REASON_NAMES[r]}=${delta}`);
      this.loggedDrops[r] = counts[r];
    }
    if (parts.length > 0) this.log(`dropped since last report: ${parts.join(' ')}`);
  }

  /**
   * SAs (never keys), counters, drops and ports, for the status socket; with the host stack
   * isolated, also what the nft rules kept from it and blocked of its frames per NIC
   * (reportHostStack: null and an error when they cannot be read).
   */
  async status(): Promise<object> {
    const hostStack = await this.hostStackStatus();
    const sas = [...this.sad.entries()].map((sa) => ({
      ...sa.toJSON(),
      policy: this.config.spd.entries[this.config.spd.indexOfId(sa.policyId)]?.name ?? null,
    }));
    return {
      name: this.config.name,
      role: this.config.role,
      uptimeSeconds: Math.round((performance.now() - this.startedAt) / 1000),
      aeadBackend: this.sad.backend.name,
      cryptoThread: this.cryptoThread,
      rxRing: this.red.rxRing,
      hostStack,
      // How late the event loop ran since start: a stall here is time the receive rings had to cover.
      eventLoopDelayMs: { p50: loopLateMs(this.loopDelay.percentile(50)), p99: loopLateMs(this.loopDelay.percentile(99)), max: loopLateMs(this.loopDelay.max) },
      sas,
      pipeline: {
        ...this.pipeline.counters, pmtuUpdates: this.pipeline.pathMtu.updates, txErrors: this.txErrors,
        fragments: this.pipeline.reassembly.fragments, fragmentsReassembled: this.pipeline.reassembly.fragmentsReassembled,
        fragmentsHeld: this.pipeline.reassembly.heldFragments, reassembled: this.pipeline.reassembly.reassembled,
      },
      flowCache: { ...this.pipeline.decisions.flows.counters },
      drops: this.drops.snapshot(),
      pathMtu: Object.fromEntries(this.config.peers.map((p, k) => [p.name, this.pipeline.pathMtu.mtu[k]])),
      link: this.link?.counterSnapshot() ?? null,
      ...(this.transparentIcmp === null ? {} : { icmpErrors: { ...this.transparentIcmp.counters }, transmitOverflows: this.generated.overflows }),
      ports: { red: { ...this.red.info, ...this.red.counters() }, black: { ...this.black.info, ...this.black.counters() } },
    };
  }

  /** The host-stack part of the status: one nft read at a time, however many status requests wait for it. */
  private hostStackStatus(): Promise<object> {
    if (this.hostStack === 'shared') return Promise.resolve({ mode: this.hostStack });
    this.hostStackRead ??= reportHostStack({ red: this.red.ifname, black: this.black.ifname })
      .then((report) => ({ mode: this.hostStack, ...report }))
      .finally(() => {
        this.hostStackRead = null;
      });
    return this.hostStackRead;
  }

  /** Stops forwarding, closes the NICs and zeroizes every SA. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    clearInterval(this.timer);
    this.loopDelay.disable();
    this.red.close();
    this.black.close();
    this.sad.removeAll();
    this.sad.backend.setCryptoThread(false);
    this.log('stopped; all SAs removed and their keys zeroized');
  }
}

function describeSa(sa: SecurityAssociation): string {
  return `${sa.direction} SPI ${formatSpi(sa.spi)} (${formatAddressBytes(sa.source)} -> ${formatAddressBytes(sa.destination)})`;
}

function usesUdpEncapsulation(config: ApplianceConfig): boolean {
  return config.spd.entries.some((e) => e.action === SpdAction.Protect && e.protect?.udpEncapsulation != null);
}

/** The data plane's view of a configuration. */
export function dataplaneSettings(config: ApplianceConfig, blackMtu: number, redMtu: number): DataplaneSettings {
  const peers = config.peers.map((p) => ({ name: p.name, tep: p.tep, prefixes: p.prefixes.map((x) => remoteRangeSelector(x.range)) }));
  return {
    gateway: config.gateway === null ? null : { tep: config.gateway.tep },
    bridge: config.bridgeIpv4,
    peers,
    blackMtu,
    redMtu,
    // RFC 4213 §3.3: the outer TTL is a tunnel parameter; the appliance uses its default one.
    tunnelTtl: DEFAULT_TTL,
  };
}
