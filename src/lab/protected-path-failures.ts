/**
 * The drop reasons that mean the protected path is broken or under attack: a lab run, a test or
 * the soak that sees any of them under its own traffic has found a fault.
 */
import { DROP_REASON_NAMES, DropReason } from '../dataplane/drop-reason.js';

/** Names as `redblack status` shows them under "drops" (e.g. "icv-failure"). */
export const PROTECTED_PATH_FAILURES: readonly string[] = Object.freeze([
  DropReason.IcvFailure, DropReason.Replay, DropReason.BadPadding, DropReason.SelectorMismatch, DropReason.SpoofedTunnelSource,
  DropReason.IngressFilter, DropReason.NoSa, DropReason.UnknownSpi, DropReason.ClearWherePolicyRequiresEsp, DropReason.NoPolicy,
  DropReason.Discard, DropReason.NoRoute, DropReason.Malformed,
].map((reason) => DROP_REASON_NAMES[reason]));
