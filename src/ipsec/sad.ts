/**
 * Security Association Database (RFC 4301 §4.4.2).
 *  - Inbound: lookup by SPI, then the outer destination must match (RFC 4301 §4.1), no allocation.
 *  - Outbound: lookup by the SPD entry an SA serves. During make-before-break rekey several
 *    outbound SAs of one entry coexist; the newest usable one wins, while older inbound SAs keep
 *    working until they are removed.
 *  - Lifetime events: the data plane raises them mid-batch with `raise`; they are delivered as
 *    'rekey' / 'expire' events by `deliverEvents` once the batch is done, so listeners never
 *    change the SAD under a running AEAD batch. A hard-expired SA is removed (keys zeroized)
 *    right after its 'expire' event. Byte and packet limits are checked per packet by the
 *    engines, time limits by `clock` (each batch, at most every 100 ms) or `tick`.
 */
import { EventEmitter } from 'node:events';
import type { AeadBackend } from '../crypto/aead.js';
import { LifetimeEvent } from './lifetime.js';
import { SecurityAssociation, SecurityAssociationConfigError, validateSaConfig,
  type SecurityAssociationConfig } from './security-association.js';
import { SpiIndex } from './spi-index.js';
import { formatSpi } from '../wire/esp.js';

export interface SadEvents {
  /** Soft lifetime reached: negotiate a replacement (RFC 4301 §4.4.2.1). */
  rekey: [sa: SecurityAssociation];
  /** Hard lifetime reached or sequence numbers used up: the SA passes no more traffic and is removed. */
  expire: [sa: SecurityAssociation];
}

export interface SadOptions {
  backend: AeadBackend;
  /** Where the manual-keying warning goes. Default console.warn. */
  warn?: (message: string) => void;
}

/** Granularity of time lifetimes: how often `clock` checks them. */
export const TIME_CHECK_INTERVAL_MS = 100;

export const MANUAL_KEYING_WARNING =
  'WARNING: manually keyed IPsec SAs installed. RFC 4891 §6 forbids manual keying in production ' +
  '(no replay protection across restarts, no key rotation): use it only for tests and the lab.';

export class SecurityAssociationDatabase extends EventEmitter<SadEvents> {
  readonly backend: AeadBackend;
  private readonly warn: (message: string) => void;
  private readonly inbound = new SpiIndex<SecurityAssociation>();
  /** The same inbound SAs as a list, for the rare lookup by outer addresses. */
  private readonly inboundList: SecurityAssociation[] = [];
  private readonly all = new Set<SecurityAssociation>();
  /** Outbound SAs per SPD entry id, oldest first. */
  private readonly outboundByPolicy = new Map<number, SecurityAssociation[]>();
  /** The SA outbound traffic of each SPD entry uses now. */
  private readonly currentOutbound = new Map<number, SecurityAssociation>();
  private readonly pending: SecurityAssociation[] = [];
  private readonly pendingEvents: number[] = [];
  private nextSerial = 1;
  private nextTimeCheck = -Infinity;
  private warnedManual = false;

  constructor(options: SadOptions) {
    super();
    this.backend = options.backend;
    this.warn = options.warn ?? ((message) => console.warn(message));
  }

  get size(): number {
    return this.all.size;
  }

  /** Every installed SA (for status output). */
  entries(): IterableIterator<SecurityAssociation> {
    return this.all.values();
  }

  /**
   * Installs an SA keyed by IKE. `now` is the install time (ms, the data plane's clock).
   * The key material in `config.keyAndSalt` is always wiped, also when the install fails.
   */
  install(config: SecurityAssociationConfig, now: number): SecurityAssociation {
    return this.add(config, now, false);
  }

  /** Installs an SA with operator-supplied keys: tests and the lab only (RFC 4891 §6). Warns once. */
  installManual(config: SecurityAssociationConfig, now: number): SecurityAssociation {
    if (!this.warnedManual) {
      this.warnedManual = true;
      this.warn(MANUAL_KEYING_WARNING);
    }
    return this.add(config, now, true);
  }

  /** Removes an SA and zeroizes its keys in the backend. Returns false if it was not installed. */
  remove(sa: SecurityAssociation): boolean {
    if (sa.removed || !this.all.has(sa)) return false;
    sa.removed = true;
    this.all.delete(sa);
    this.backend.freeSa(sa.handle);
    if (sa.direction === 'inbound') {
      this.inbound.delete(sa.spi);
      this.inboundList.splice(this.inboundList.indexOf(sa), 1);
    } else {
      const list = this.outboundByPolicy.get(sa.policyId) ?? [];
      list.splice(list.indexOf(sa), 1);
      if (list.length === 0) this.outboundByPolicy.delete(sa.policyId);
      this.electOutbound(sa.policyId);
    }
    return true;
  }

  /** Removes every SA (shutdown), zeroizing all keys. */
  removeAll(): void {
    for (const sa of [...this.all]) this.remove(sa);
  }

  /**
   * Inbound SA for `spi` whose outer destination equals the `addressLength` (4 or 16) bytes at
   * `bytes[addressOffset]`, or null. No allocation; `spi` may be the u32 or its int32 bit
   * pattern (`spi | 0`, which V8 keeps unboxed).
   */
  lookupInbound(spi: number, bytes: Uint8Array, addressOffset: number, addressLength: number): SecurityAssociation | null {
    const sa = this.inbound.get(spi);
    if (sa === null) return null;
    const dst = sa.destination;
    if (dst.length !== addressLength) return null;
    for (let i = 0; i < addressLength; i++) {
      if (bytes[addressOffset + i] !== dst[i]) return null;
    }
    return sa;
  }

  /**
   * Whether an inbound SA runs from outer IPv4 `source` to `destination` (int32 bit patterns, as
   * SecurityAssociation.sourceV4), over UDP (RFC 3948) when `udp`: whose fragments to reassemble.
   */
  hasInboundBetween(source: number, destination: number, udp: boolean): boolean {
    for (let k = 0; k < this.inboundList.length; k++) {
      const sa = this.inboundList[k];
      if (sa.sourceV4 === source && sa.destinationV4 === destination && sa.udpEncapsulated === udp && !sa.outerIpv6) return true;
    }
    return false;
  }

  /** The outbound SA for SPD entry `policyId` (the newest usable one), or null. */
  lookupOutbound(policyId: number): SecurityAssociation | null {
    return this.currentOutbound.get(policyId) ?? null;
  }

  /** Data plane: queue lifetime events (LifetimeEvent bits) that fired for `sa` in this batch. */
  raise(sa: SecurityAssociation, events: number): void {
    if (events === LifetimeEvent.None) return;
    this.pending.push(sa);
    this.pendingEvents.push(events);
  }

  /** Emits queued events; removes hard-expired SAs after their 'expire' event. Call between batches. */
  deliverEvents(): void {
    for (let i = 0; i < this.pending.length; i++) {
      const sa = this.pending[i];
      const events = this.pendingEvents[i];
      if (events & LifetimeEvent.Rekey) this.emit('rekey', sa);
      if (events & LifetimeEvent.Expire) {
        if (sa.direction === 'outbound') this.electOutbound(sa.policyId);
        this.emit('expire', sa);
        this.remove(sa);
      }
    }
    this.pending.length = 0;
    this.pendingEvents.length = 0;
  }

  /** Checks every SA's time lifetime at `now` (ms) and delivers the events. Call between batches. */
  tick(now: number): void {
    this.nextTimeCheck = now + TIME_CHECK_INTERVAL_MS;
    for (const sa of this.all) this.raise(sa, sa.lifetime.checkTime(now));
    this.deliverEvents();
  }

  /** The engines call this at the start of each batch: a `tick` at most every TIME_CHECK_INTERVAL_MS. */
  clock(now: number): void {
    if (now >= this.nextTimeCheck) this.tick(now);
  }

  private add(config: SecurityAssociationConfig, now: number, manual: boolean): SecurityAssociation {
    try {
      validateSaConfig(config);
      this.checkUnique(config);
      const handle = this.backend.createSa(config.algorithm, config.keyAndSalt, { esn: config.esn ?? false });
      let sa: SecurityAssociation;
      try {
        sa = new SecurityAssociation(config, handle, now, this.nextSerial++, manual);
      } catch (e) {
        this.backend.freeSa(handle);
        throw e;
      }
      this.all.add(sa);
      if (sa.direction === 'inbound') {
        this.inbound.add(sa.spi, sa);
        this.inboundList.push(sa);
      } else {
        const list = this.outboundByPolicy.get(sa.policyId);
        if (list) list.push(sa);
        else this.outboundByPolicy.set(sa.policyId, [sa]);
        this.electOutbound(sa.policyId);
      }
      return sa;
    } finally {
      if (config.keyAndSalt instanceof Uint8Array) config.keyAndSalt.fill(0);
    }
  }

  private checkUnique(config: SecurityAssociationConfig): void {
    const spi = config.spi >>> 0;
    if (config.direction === 'inbound') {
      // Inbound SPIs are ours to choose (RFC 4301 §4.1): one SA per SPI keeps lookup exact.
      if (this.inbound.get(spi) !== null) {
        throw new SecurityAssociationConfigError('spi', `inbound SPI ${formatSpi(spi)} is already installed: choose an unused SPI or remove the old SA first`);
      }
      return;
    }
    for (const sa of this.all) {
      if (sa.direction === 'outbound' && sa.spi === spi && sameBytes(sa.destination, config.destination)) {
        throw new SecurityAssociationConfigError('spi', `outbound SPI ${formatSpi(spi)} to this destination is already installed: remove the old SA first`);
      }
    }
  }

  /** Make-before-break: the newest installed, still usable outbound SA of the entry wins. */
  private electOutbound(policyId: number): void {
    const list = this.outboundByPolicy.get(policyId);
    let best: SecurityAssociation | undefined;
    if (list) {
      for (const sa of list) if (sa.usable && (!best || sa.serial > best.serial)) best = sa;
    }
    if (best) this.currentOutbound.set(policyId, best);
    else this.currentOutbound.delete(policyId);
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((v, i) => v === b[i]);
}
