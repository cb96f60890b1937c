/**
 * Findings that do not stop a configuration from loading but that an operator should see:
 * manual keys in use (RFC 4891 §6), manual SAs that will expire with nothing to rekey them,
 * PROTECT entries without an SA for one direction, and SPD entries that can never match
 * because earlier entries cover them (RFC 4301 §4.4.1 ordered search).
 */

import type { PeerAuthorizationDatabase } from '../policy/pad.js';
import type { SecurityPolicyDatabase } from '../policy/spd.js';
import type { IssueList } from '../policy/validation.js';
import type { ManualKey } from './appliance-config.js';

export function collectWarnings(spd: SecurityPolicyDatabase, pad: PeerAuthorizationDatabase, manualKeys: readonly ManualKey[], warnings: IssueList): void {
  if (manualKeys.length > 0) {
    warnings.add('manualKeys', 'manual keys are for tests and the lab only: RFC 4891 §6 forbids manual keying in production (keys never change and anti-replay restarts with the appliance); use IKE');
  }
  for (const key of manualKeys) warnExpiry(key, spd, warnings);
  warnMissingSas(spd, pad, manualKeys, warnings);
  warnShadowed(spd, warnings);
}

/** RFC 4301 §4.4.2.1: a hard lifetime ends the SA; a manual SA has no IKE to replace it. */
function warnExpiry(key: ManualKey, spd: SecurityPolicyDatabase, warnings: IssueList): void {
  const entry = spd.entries[spd.indexOfId(key.sa.policyId)];
  const hard = entry.protect!.lifetime.hard;
  const limits = [[hard.seconds, 'seconds'], [hard.bytes, 'bytes'], [hard.packets, 'packets']]
    .filter(([n]) => (n as number) > 0)
    .map(([n, unit]) => `${n} ${unit}`);
  if (limits.length === 0) return;
  warnings.add(`manualKeys[${key.index}]`, `spd[${entry.index}].protect.lifetime ends this SA after ${limits.join(' or ')} and nothing rekeys a manual SA: set the entry's hardSeconds, hardBytes and hardPackets to 0 for lab use`);
}

function warnMissingSas(spd: SecurityPolicyDatabase, pad: PeerAuthorizationDatabase, manualKeys: readonly ManualKey[], warnings: IssueList): void {
  for (const entry of spd.entries) {
    if (entry.protect === null) continue;
    const mine = manualKeys.filter((k) => k.sa.policyId === entry.id);
    const path = `spd[${entry.index}]`;
    if (mine.length === 0) {
      if (pad.entries.length === 0) {
        warnings.add(path, `no SA can serve "${entry.name}": add manualKeys for it (lab only) or a pad entry for IKE; until then its traffic is dropped`);
      }
      continue;
    }
    for (const direction of ['inbound', 'outbound'] as const) {
      if (!mine.some((k) => k.sa.direction === direction)) {
        warnings.add(path, `"${entry.name}" has manual SAs but no ${direction} one: its ${direction} traffic is dropped; add the ${direction} SA of the pair`);
      }
    }
  }
}

function warnShadowed(spd: SecurityPolicyDatabase, warnings: IssueList): void {
  const report = spd.findShadowedEntries();
  const describe = (id: number) => {
    const e = spd.entries[spd.indexOfId(id)];
    return `spd[${e.index}] "${e.name}"`;
  };
  for (const finding of report.shadowed) {
    const conflict = finding.kind === 'conflicting' ? ' with a different action, so its own action is never applied' : '';
    warnings.add(`spd[${finding.index}]`, `"${finding.name}" can never match: ${finding.coveredBy.map(describe).join(', ')} cover all its traffic${conflict}; move it up or remove it`);
  }
  for (const id of report.undecided) {
    const e = spd.entries[spd.indexOfId(id)];
    warnings.add(`spd[${e.index}]`, `"${e.name}" is too complex for the shadowing analysis: check by hand whether earlier entries cover it`);
  }
}
