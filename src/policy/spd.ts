/**
 * The Security Policy Database (RFC 4301 §4.4.1): an ordered list of entries where the first match
 * wins (§4.4.1 "ordered"), each with the action BYPASS, DISCARD or PROTECT. A packet that matches
 * no entry is discarded (§5: "If no policy is found ... the packet MUST be discarded").
 *
 * An SPD is built immutably from a whole configuration, so the console validates a candidate and
 * swaps it in atomically. Lookup runs over a compiled SelectorTable and does not allocate.
 */

import { type LifetimeLimits, isLifetimeLimit, lifetimeProblems } from '../ipsec/lifetime.js';
import { REPLAY_WINDOW_DEFAULT, replayWindowProblem } from '../ipsec/replay-window.js';
import { AEAD_ALGORITHMS, type AeadAlgorithm } from '../crypto/aead.js';
import { ESP_IN_UDP_PORT } from '../wire/esp.js';
import { type AddressFamily, formatAddress, parseAddress } from './address-text.js';
import type { PacketSelectors } from './packet-selectors.js';
import { boxesIntersect, boxesOfSelector, DEFAULT_PIECE_LIMIT, uncoveredPart } from './selector-space.js';
import {
  describeTrafficSelector,
  parseTrafficSelector,
  SelectorTable,
  type TrafficSelector,
  type TrafficSelectorSpec,
} from './selectors.js';
import { readName } from './names.js';
import { checkKnownFields, isPlainObject, IssueList, quote } from './validation.js';

export const SpdAction = Object.freeze({ Discard: 0, Bypass: 1, Protect: 2 });
export type SpdAction = (typeof SpdAction)[keyof typeof SpdAction];

const ACTION_NAMES: Readonly<Record<string, SpdAction>> = Object.freeze({
  discard: SpdAction.Discard,
  bypass: SpdAction.Bypass,
  protect: SpdAction.Protect,
});

const ACTION_TEXT: readonly string[] = ['discard', 'bypass', 'protect'];

/** lookup() result when no entry matches; actionOf(NO_MATCH) is DISCARD. */
export const NO_MATCH = -1;

/** The lifetime of a PROTECT entry as the configuration writes it. */
export interface ProtectLifetimeConfig {
  /** Seconds until rekey (soft) and until the SA dies (hard), RFC 4301 §4.4.2.1. Defaults 90 % of hard / 3600. */
  softSeconds?: number;
  hardSeconds?: number;
  /** Byte and packet counts; 0 (the default) means no limit. */
  softBytes?: number;
  hardBytes?: number;
  softPackets?: number;
  hardPackets?: number;
}

export interface ProtectConfig {
  mode: 'transport' | 'tunnel';
  /** Outer header addresses; required in tunnel mode, not allowed in transport mode. */
  tunnel?: { local: string; remote: string };
  /** AEAD algorithms in preference order. */
  algorithms: AeadAlgorithm[];
  /** Extended Sequence Numbers (RFC 4303 §2.2.1). Default true. */
  esn?: boolean;
  /** Anti-replay window in packets (RFC 4303 §3.4.3): 32 to 4096, default 1024. */
  replayWindow?: number;
  /** UDP encapsulation of ESP (RFC 3948); true means ports 4500/4500. */
  udpEncapsulation?: boolean | { localPort?: number; remotePort?: number };
  lifetime?: ProtectLifetimeConfig;
}

/** Populate From Packet flags (RFC 4301 §4.4.1.2): take the SA selector from the packet, not the entry. */
export interface PfpConfig {
  localAddress?: boolean;
  remoteAddress?: boolean;
  protocol?: boolean;
  localPort?: boolean;
  remotePort?: boolean;
}

export interface SpdEntryConfig extends TrafficSelectorSpec {
  /** Stable id (unsigned 32-bit), kept across configuration swaps; counters are keyed by it. */
  id: number;
  /** Unique name for logs and counters: letters, digits, ".", "_" and "-", up to 64 characters. */
  name: string;
  action: 'bypass' | 'discard' | 'protect';
  protect?: ProtectConfig;
  pfp?: PfpConfig;
}

export interface TunnelEndpoints {
  readonly family: AddressFamily;
  readonly local: bigint;
  readonly remote: bigint;
}

export interface ProtectAction {
  readonly mode: 'transport' | 'tunnel';
  readonly tunnel: TunnelEndpoints | null;
  readonly algorithms: readonly AeadAlgorithm[];
  readonly esn: boolean;
  readonly replayWindow: number;
  readonly udpEncapsulation: { readonly localPort: number; readonly remotePort: number } | null;
  /** Every limit filled in (0 = none), in the shape SAs take (ipsec LifetimeConfig). */
  readonly lifetime: { readonly soft: Readonly<Required<LifetimeLimits>>; readonly hard: Readonly<Required<LifetimeLimits>> };
}

export interface SpdEntry {
  /** Position in this SPD (changes across swaps; `id` does not). */
  readonly index: number;
  readonly id: number;
  readonly name: string;
  readonly selector: TrafficSelector;
  readonly action: SpdAction;
  /** Non-null exactly when action is PROTECT. */
  readonly protect: ProtectAction | null;
  readonly pfp: Readonly<Required<PfpConfig>>;
}

/** An entry that can never match because earlier entries cover all of its selector space. */
export interface ShadowFinding {
  readonly index: number;
  readonly id: number;
  readonly name: string;
  /** Ids of the earlier entries that overlap it (together they cover it). */
  readonly coveredBy: readonly number[];
  /** "conflicting" when some covering entry has a different action (the operator's intent is lost). */
  readonly kind: 'redundant' | 'conflicting';
}

export interface ShadowReport {
  readonly shadowed: readonly ShadowFinding[];
  /** Ids whose analysis passed the piece limit; they may or may not be shadowed. */
  readonly undecided: readonly number[];
}

/** Result of the post-decryption selector check (RFC 4301 §5.2 step 4). */
export const InboundSelectorCheck = Object.freeze({
  Ok: 0,
  /** The decrypted packet's selectors lie outside the SA's entry: drop and audit. */
  Mismatch: 1,
  /** The index is not a PROTECT entry of this SPD (e.g. stale after a swap): drop. */
  NotProtected: 2,
});
export type InboundSelectorCheck = (typeof InboundSelectorCheck)[keyof typeof InboundSelectorCheck];

const ENTRY_FIELDS = ['id', 'name', 'action', 'protect', 'pfp', 'local', 'remote', 'protocol', 'localPort', 'remotePort', 'icmp', 'mhType'];
const PROTECT_FIELDS = ['mode', 'tunnel', 'algorithms', 'esn', 'replayWindow', 'udpEncapsulation', 'lifetime'];
const LIFETIME_FIELDS = ['softSeconds', 'hardSeconds', 'softBytes', 'hardBytes', 'softPackets', 'hardPackets'];
const PFP_FIELDS = ['localAddress', 'remoteAddress', 'protocol', 'localPort', 'remotePort'];

export const DEFAULT_HARD_SECONDS = 3600;

const NO_PFP: Readonly<Required<PfpConfig>> = Object.freeze({
  localAddress: false,
  remoteAddress: false,
  protocol: false,
  localPort: false,
  remotePort: false,
});

export class SecurityPolicyDatabase {
  readonly entries: readonly SpdEntry[];
  private readonly table: SelectorTable;
  private readonly actions: Uint8Array;
  private readonly indexById: ReadonlyMap<number, number>;

  private constructor(entries: readonly SpdEntry[]) {
    this.entries = Object.freeze(entries.slice());
    this.table = new SelectorTable(entries.map((e) => e.selector));
    this.actions = Uint8Array.from(entries, (e) => e.action);
    this.indexById = new Map(entries.map((e) => [e.id, e.index]));
  }

  /** Validates a whole configuration; throws PolicyValidationError listing every problem. */
  static build(configs: readonly SpdEntryConfig[]): SecurityPolicyDatabase {
    const issues = new IssueList();
    if (!Array.isArray(configs)) {
      issues.add('spd', 'must be an array of entries');
      issues.throwIfAny();
    }
    const entries: SpdEntry[] = [];
    const ids = new Map<number, number>();
    const names = new Map<string, number>();
    configs.forEach((config, index) => {
      const entry = parseEntry(config, index, issues, ids, names);
      if (entry !== null) entries.push(entry);
    });
    issues.throwIfAny();
    return new SecurityPolicyDatabase(entries);
  }

  get size(): number {
    return this.entries.length;
  }

  /** Index of the first entry whose selectors match (§4.4.1 ordered search), or NO_MATCH. */
  lookup(p: PacketSelectors): number {
    return this.table.firstMatch(p);
  }

  /** The action at `index`; DISCARD for NO_MATCH or any index outside the SPD (fail closed). */
  actionOf(index: number): SpdAction {
    return index >= 0 && index < this.actions.length ? (this.actions[index] as SpdAction) : SpdAction.Discard;
  }

  /** Index of the entry with this stable id, or NO_MATCH (used to re-resolve SAs after a swap). */
  indexOfId(id: number): number {
    return this.indexById.get(id) ?? NO_MATCH;
  }

  /**
   * RFC 4301 §5.2 step 4: after decryption, the packet's selectors (tunnel mode: the inner header;
   * transport mode, RFC 3884: the restored header) must match the entry the SA was created from.
   */
  verifyInbound(index: number, p: PacketSelectors): InboundSelectorCheck {
    if (this.actionOf(index) !== SpdAction.Protect) return InboundSelectorCheck.NotProtected;
    return this.table.matches(index, p) ? InboundSelectorCheck.Ok : InboundSelectorCheck.Mismatch;
  }

  /** Operator view of every entry (entries themselves hold bigints, which JSON cannot carry). */
  toJSON(): object[] {
    return this.entries.map((e) => ({
      id: e.id,
      name: e.name,
      selector: describeTrafficSelector(e.selector),
      action: ACTION_TEXT[e.action],
      ...(e.protect === null
        ? {}
        : {
            protect: {
              ...e.protect,
              tunnel:
                e.protect.tunnel === null
                  ? null
                  : { local: formatAddress(e.protect.tunnel.family, e.protect.tunnel.local), remote: formatAddress(e.protect.tunnel.family, e.protect.tunnel.remote) },
            },
          }),
      pfp: e.pfp,
    }));
  }

  /** Entries that can never match because earlier entries cover them (for operators; allocates). */
  findShadowedEntries(pieceLimit = DEFAULT_PIECE_LIMIT): ShadowReport {
    const shadowed: ShadowFinding[] = [];
    const undecided: number[] = [];
    const boxes = this.entries.map((e) => boxesOfSelector(e.selector));
    this.entries.forEach((entry, i) => {
      const earlier = this.entries.slice(0, i).filter((_, j) => boxes[j].some((b) => boxes[i].some((own) => boxesIntersect(own, b))));
      if (earlier.length === 0) return;
      const rest = uncoveredPart(boxes[i], earlier.flatMap((e) => boxes[e.index]), pieceLimit);
      if (rest === null) undecided.push(entry.id);
      else if (rest.length === 0) {
        shadowed.push({
          index: entry.index,
          id: entry.id,
          name: entry.name,
          coveredBy: earlier.map((e) => e.id),
          kind: earlier.every((e) => e.action === entry.action) ? 'redundant' : 'conflicting',
        });
      }
    });
    return { shadowed, undecided };
  }
}

function isU32(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff;
}


function parseEntry(
  config: SpdEntryConfig,
  index: number,
  issues: IssueList,
  ids: Map<number, number>,
  names: Map<string, number>,
): SpdEntry | null {
  const path = `spd[${index}]`;
  if (!isPlainObject(config)) {
    issues.add(path, 'must be an object with id, name, action and selectors');
    return null;
  }
  const before = issues.count;
  checkKnownFields(config, ENTRY_FIELDS, path, issues);

  if (!isU32(config.id)) issues.add(`${path}.id`, `${quote(config.id)} is not an id: use an integer 0 to 4294967295`);
  else if (ids.has(config.id)) issues.add(`${path}.id`, `${config.id} is already used by spd[${ids.get(config.id)}]: ids must be unique`);
  else ids.set(config.id, index);

  const name = readName(config.name, `${path}.name`, issues);
  if (name !== null && names.has(name)) issues.add(`${path}.name`, `${quote(name)} is already used by spd[${names.get(name)}]: names must be unique`);
  else if (name !== null) names.set(name, index);

  const selector = parseTrafficSelector(config, path, issues);

  const action = typeof config.action === 'string' && Object.hasOwn(ACTION_NAMES, config.action) ? ACTION_NAMES[config.action] : null;
  if (action === null) issues.add(`${path}.action`, `${quote(config.action)} is not an action: use "bypass", "discard" or "protect"`);

  let protect: ProtectAction | null = null;
  if (action === SpdAction.Protect) {
    if (config.protect === undefined) issues.add(`${path}.protect`, 'is required when action is "protect": give mode and algorithms');
    else protect = parseProtect(config.protect, `${path}.protect`, issues);
  } else if (action !== null && config.protect !== undefined) {
    issues.add(`${path}.protect`, `is only allowed when action is "protect" (this entry is "${config.action}"): remove it`);
  }

  const pfp = parsePfp(config.pfp, `${path}.pfp`, issues);

  if (issues.count !== before || selector === null || action === null) return null;
  return Object.freeze({ index, id: config.id, name: config.name, selector, action, protect, pfp });
}

function parsePfp(config: PfpConfig | undefined, path: string, issues: IssueList): Readonly<Required<PfpConfig>> {
  if (config === undefined) return NO_PFP;
  if (!isPlainObject(config)) {
    issues.add(path, `must be an object with boolean fields ${PFP_FIELDS.join(', ')}`);
    return NO_PFP;
  }
  checkKnownFields(config, PFP_FIELDS, path, issues);
  const out: Record<string, boolean> = {};
  for (const field of PFP_FIELDS) {
    const v = config[field as keyof PfpConfig];
    if (v !== undefined && typeof v !== 'boolean') issues.add(`${path}.${field}`, `${quote(v)} is not a boolean: use true or false`);
    out[field] = v === true;
  }
  return Object.freeze(out as Required<PfpConfig>);
}

function parseProtect(config: ProtectConfig, path: string, issues: IssueList): ProtectAction | null {
  if (!isPlainObject(config)) {
    issues.add(path, 'must be an object with mode and algorithms');
    return null;
  }
  const before = issues.count;
  checkKnownFields(config, PROTECT_FIELDS, path, issues);

  const mode = config.mode;
  if (mode !== 'transport' && mode !== 'tunnel') issues.add(`${path}.mode`, `${quote(mode)} is not a mode: use "transport" or "tunnel"`);

  let tunnel: TunnelEndpoints | null = null;
  if (mode === 'tunnel') {
    if (!isPlainObject(config.tunnel)) issues.add(`${path}.tunnel`, 'is required in tunnel mode: give { local, remote } outer addresses');
    else tunnel = parseTunnel(config.tunnel, `${path}.tunnel`, issues);
  } else if (mode === 'transport' && config.tunnel !== undefined) {
    issues.add(`${path}.tunnel`, 'is only allowed in tunnel mode: remove it or set mode to "tunnel"');
  }

  const algorithms: AeadAlgorithm[] = [];
  if (!Array.isArray(config.algorithms) || config.algorithms.length === 0) {
    issues.add(`${path}.algorithms`, `must list at least one of ${AEAD_ALGORITHMS.join(', ')} in preference order`);
  } else {
    config.algorithms.forEach((alg, i) => {
      if (!AEAD_ALGORITHMS.includes(alg)) issues.add(`${path}.algorithms[${i}]`, `${quote(alg)} is not supported: use one of ${AEAD_ALGORITHMS.join(', ')}`);
      else if (algorithms.includes(alg)) issues.add(`${path}.algorithms[${i}]`, `${quote(alg)} is listed twice: list each algorithm once`);
      else algorithms.push(alg);
    });
  }

  const esn = config.esn ?? true;
  if (typeof esn !== 'boolean') issues.add(`${path}.esn`, `${quote(esn)} is not a boolean: use true or false`);

  const replayWindow = config.replayWindow ?? REPLAY_WINDOW_DEFAULT;
  const replayProblem = replayWindowProblem(replayWindow);
  if (replayProblem !== null) issues.add(`${path}.replayWindow`, replayProblem);

  const udpEncapsulation = parseUdpEncapsulation(config.udpEncapsulation, `${path}.udpEncapsulation`, issues);
  const lifetime = parseLifetime(config.lifetime ?? {}, `${path}.lifetime`, issues);

  if (issues.count !== before || (mode !== 'transport' && mode !== 'tunnel') || lifetime === null) return null;
  return Object.freeze({
    mode,
    tunnel,
    algorithms: Object.freeze(algorithms),
    esn,
    replayWindow,
    udpEncapsulation,
    lifetime,
  });
}

function parseTunnel(config: { local: string; remote: string }, path: string, issues: IssueList): TunnelEndpoints | null {
  checkKnownFields(config, ['local', 'remote'], path, issues);
  const local = typeof config.local === 'string' ? parseAddress(config.local) : null;
  const remote = typeof config.remote === 'string' ? parseAddress(config.remote) : null;
  if (local === null) issues.add(`${path}.local`, `${quote(config.local)} is not a single IPv4 or IPv6 address (no prefixes or ranges for tunnel endpoints)`);
  if (remote === null) issues.add(`${path}.remote`, `${quote(config.remote)} is not a single IPv4 or IPv6 address (no prefixes or ranges for tunnel endpoints)`);
  if (local === null || remote === null) return null;
  if (local.family !== remote.family) {
    issues.add(`${path}.remote`, `is IPv${remote.family} but tunnel.local is IPv${local.family}: both outer addresses must be the same family`);
    return null;
  }
  return Object.freeze({ family: local.family, local: local.value, remote: remote.value });
}

function parseUdpEncapsulation(config: ProtectConfig['udpEncapsulation'], path: string, issues: IssueList): ProtectAction['udpEncapsulation'] {
  if (config === undefined || config === false) return null;
  if (config === true) return Object.freeze({ localPort: ESP_IN_UDP_PORT, remotePort: ESP_IN_UDP_PORT });
  if (!isPlainObject(config)) {
    issues.add(path, `${quote(config)} is not valid: use true, false, or { localPort, remotePort }`);
    return null;
  }
  checkKnownFields(config, ['localPort', 'remotePort'], path, issues);
  const port = (v: unknown, field: string): number => {
    if (v === undefined) return ESP_IN_UDP_PORT;
    if (typeof v === 'number' && Number.isInteger(v) && v >= 1 && v <= 65535) return v;
    issues.add(`${path}.${field}`, `${quote(v)} is not a UDP port: use 1 to 65535 (RFC 3948 uses 4500)`);
    return ESP_IN_UDP_PORT;
  };
  return Object.freeze({ localPort: port(config.localPort, 'localPort'), remotePort: port(config.remotePort, 'remotePort') });
}

/** Reads the entry's lifetime into the SA's shape; the SA layer's rule decides what is valid. */
function parseLifetime(config: ProtectLifetimeConfig, path: string, issues: IssueList): ProtectAction['lifetime'] | null {
  if (!isPlainObject(config)) {
    issues.add(path, `must be an object with ${LIFETIME_FIELDS.join(', ')}`);
    return null;
  }
  const before = issues.count;
  checkKnownFields(config, LIFETIME_FIELDS, path, issues);
  // Values as written (YAML may give any type): lifetimeProblems checks them.
  const given = (field: keyof ProtectLifetimeConfig, fallback: number): number => (config[field] === undefined ? fallback : config[field]) as number;
  const hardSeconds = given('hardSeconds', DEFAULT_HARD_SECONDS);
  // RFC 4301 §4.4.2.1 leaves the soft margin local: by default the rekey comes at 90 % of the hard time.
  const soft = {
    seconds: given('softSeconds', isLifetimeLimit(hardSeconds) ? Math.floor(hardSeconds * 0.9) : 0),
    bytes: given('softBytes', 0),
    packets: given('softPackets', 0),
  };
  const hard = { seconds: hardSeconds, bytes: given('hardBytes', 0), packets: given('hardPackets', 0) };
  for (const problem of lifetimeProblems({ soft, hard })) {
    // The SA's lifetime.soft.seconds is the file's softSeconds, and so on.
    const unit = problem.unit;
    issues.add(`${path}.${problem.level}${unit[0].toUpperCase()}${unit.slice(1)}`, problem.message);
  }
  if (issues.count !== before) return null;
  return Object.freeze({ soft: Object.freeze(soft), hard: Object.freeze(hard) });
}
