/**
 * The data plane's policy decisions. Each is a function of a packet's selectors over the SPD and
 * the peers, which never change under a running pipeline, so each is cached per flow (the SPD
 * caches of RFC 4301 §4.4.1 may exist but must give the ordered list's answer; FlowCache).
 * The pipeline extracts the selectors and acts on the answers; the rules live here.
 */
import { FlowCache } from '../policy/flow-cache.js';
import { Direction, PacketSelectorExtractor, PacketSelectors } from '../policy/packet-selectors.js';
import { SelectorTable } from '../policy/selectors.js';
import { NO_MATCH, SpdAction, type SecurityPolicyDatabase } from '../policy/spd.js';
import { SIX_IN_FOUR_OVERHEAD, SixInFourEncapsulator, type SixInFourEndpoints } from '../tunnel/six-in-four.js';
import { IPV6_HEADER_BYTES } from '../wire/ipv6.js';
import { WireStatus } from '../wire/status.js';
import { DropReason } from './drop-reason.js';
import type { PeerSettings } from './settings.js';

/** What to do with IPv6 from red in the gateway role (redIpv6). */
export const RedDecision = Object.freeze({
  /** value: the DropReason. */
  Drop: 0,
  /** value: the tunnel-mode PROTECT entry for the IPv6 header itself (RFC 4891 App. A). */
  SealTunnel: 1,
  /** value: the peer; sixInFourPolicy: its 6in4 PROTECT entry (RFC 4891 §5.1). */
  SealSixInFour: 2,
  /** value: the peer: clear 6in4, as the SPD allows. */
  BypassSixInFour: 3,
});
export type RedDecision = (typeof RedDecision)[keyof typeof RedDecision];

/** Which decision a flow-cache entry holds (the context of its key; a peer goes in the low 24 bits). */
const FlowContext = Object.freeze({
  /** first = RedDecision | value << KIND_BITS, second = the 6in4 SPD entry. */
  RedIpv6: 1 << 24,
  /** first = the SPD entry index or NO_MATCH. */
  Policy: 2 << 24,
  /** first = 1 when the inner source is behind the peer, else 0. */
  InnerSource: 3 << 24,
});
const KIND_BITS = 4;
const KIND_MASK = (1 << KIND_BITS) - 1;

export class PolicyDecisions {
  readonly flows: FlowCache;
  /** The answer of the last redIpv6 call (fields, so asking allocates nothing). */
  kind: RedDecision = RedDecision.Drop;
  value = 0;
  sixInFourPolicy = NO_MATCH;
  private readonly peerTable: SelectorTable;
  /** SelectorTable row -> peer index. */
  private readonly peerOfRow: Int32Array;
  /** SPD entry of the 6in4 packets to each peer (index as peers), or NO_MATCH. */
  private readonly peerSixInFourPolicy: Int32Array;

  /** `peerEndpoints`: the 6in4 outer header fields toward each peer (gateway role; empty otherwise). */
  constructor(
    private readonly spd: SecurityPolicyDatabase,
    peers: readonly PeerSettings[],
    peerEndpoints: readonly SixInFourEndpoints[],
    flowCacheEntries?: number,
  ) {
    const rows = peers.flatMap((p, peer) => p.prefixes.map((sel) => ({ sel, peer })));
    this.peerTable = new SelectorTable(rows.map((r) => r.sel));
    this.peerOfRow = Int32Array.from(rows.map((r) => r.peer));
    this.flows = new FlowCache(flowCacheEntries);
    this.peerSixInFourPolicy = sixInFourPolicies(spd, peerEndpoints);
  }

  /**
   * IPv6 from red (outbound selectors `sel`): a PROTECT entry for the IPv6 header itself means
   * tunnel mode (RFC 4891 App. A); otherwise the packet goes into the 6in4 tunnel of the peer
   * whose prefix holds the destination, and the policy of that protocol-41 packet applies
   * (RFC 4891 §5.1; RFC 4301 §5.1: checked at the header it leaves with). Sets kind, value and
   * sixInFourPolicy.
   */
  redIpv6(sel: PacketSelectors): void {
    const flows = this.flows;
    let e = flows.find(sel, FlowContext.RedIpv6);
    if (e < 0) e = this.decideRedIpv6(sel);
    this.kind = (flows.first[e] & KIND_MASK) as RedDecision;
    this.value = flows.first[e] >> KIND_BITS;
    this.sixInFourPolicy = flows.second[e];
  }

  /** spd.lookup (§4.4.1 ordered search). */
  policyIndex(sel: PacketSelectors): number {
    const e = this.flows.find(sel, FlowContext.Policy);
    if (e >= 0) return this.flows.first[e];
    const index = this.spd.lookup(sel);
    this.flows.store(sel, FlowContext.Policy, index, 0);
    return index;
  }

  /** RFC 4213 §3.6 / RFC 3884: is the inner source (inbound selectors: sel.remote) behind `peer`? */
  innerSourceAllowed(sel: PacketSelectors, peer: number): boolean {
    if (peer < 0) return false;
    const context = FlowContext.InnerSource | peer;
    const e = this.flows.find(sel, context);
    if (e >= 0) return this.flows.first[e] === 1;
    const row = this.peerTable.firstMatch(sel);
    const allowed = row >= 0 && this.peerOfRow[row] === peer;
    this.flows.store(sel, context, allowed ? 1 : 0, 0);
    return allowed;
  }

  private decideRedIpv6(sel: PacketSelectors): number {
    const index = this.spd.lookup(sel);
    const action = this.spd.actionOf(index);
    if (index !== NO_MATCH && action === SpdAction.Discard) return this.storeRed(sel, RedDecision.Drop, DropReason.Discard, NO_MATCH);
    if (action === SpdAction.Protect && this.spd.entries[index].protect?.mode === 'tunnel') return this.storeRed(sel, RedDecision.SealTunnel, index, NO_MATCH);
    const row = this.peerTable.firstMatch(sel);
    if (row < 0) return this.storeRed(sel, RedDecision.Drop, DropReason.NoRoute, NO_MATCH);
    const peer = this.peerOfRow[row];
    const outerIndex = this.peerSixInFourPolicy[peer];
    switch (this.spd.actionOf(outerIndex)) {
      case SpdAction.Protect:
        return this.storeRed(sel, RedDecision.SealSixInFour, peer, outerIndex);
      case SpdAction.Bypass:
        return this.storeRed(sel, RedDecision.BypassSixInFour, peer, NO_MATCH);
      default:
        return this.storeRed(sel, RedDecision.Drop, outerIndex === NO_MATCH ? DropReason.NoPolicy : DropReason.Discard, NO_MATCH);
    }
  }

  private storeRed(sel: PacketSelectors, kind: RedDecision, value: number, sixInFourPolicy: number): number {
    return this.flows.store(sel, FlowContext.RedIpv6, kind | (value << KIND_BITS), sixInFourPolicy);
  }
}

/**
 * The SPD entry for the 6in4 packets to each peer: their selectors are the same for every packet
 * (TEP to TEP, protocol 41, no ports), so they are extracted once, from a header the encapsulator
 * writes, exactly as a packet's would be.
 */
function sixInFourPolicies(spd: SecurityPolicyDatabase, peerEndpoints: readonly SixInFourEndpoints[]): Int32Array {
  const policies = new Int32Array(peerEndpoints.length).fill(NO_MATCH);
  const scratch = new Uint8Array(SIX_IN_FOUR_OVERHEAD + IPV6_HEADER_BYTES);
  scratch[SIX_IN_FOUR_OVERHEAD] = 0x60;
  const encapsulator = new SixInFourEncapsulator();
  const extractor = new PacketSelectorExtractor();
  const sel = new PacketSelectors();
  peerEndpoints.forEach((endpoints, peer) => {
    encapsulator.encapsulate(scratch, SIX_IN_FOUR_OVERHEAD, IPV6_HEADER_BYTES, endpoints);
    if (extractor.extractIpv4Header(scratch, encapsulator.header, Direction.Outbound, sel) === WireStatus.Ok) policies[peer] = spd.lookup(sel);
  });
  return policies;
}
