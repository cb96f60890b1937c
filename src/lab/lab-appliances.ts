/**
 * The contract between the lab and the redblack appliances it runs, and the loader that finds
 * `startLabAppliances` in `src/lab/appliance.ts` (written separately). The lab, the benchmark and
 * the tests depend only on this contract, so they build and report "appliance not available"
 * cleanly while that module does not exist yet.
 */
import type { LabTopology } from './topology.js';

export interface LabApplianceProcess {
  /** Which gateway: 'a' runs in rb-a, 'b' in rb-b. */
  readonly site: 'a' | 'b';
  readonly namespace: string;
  /** PID of the appliance process (read for RSS and CPU time, signalled to stop it). */
  readonly pid: number;
}

/**
 * Two running appliances. Their processes must not depend on the process that started them
 * (`npm run lab --keep` exits and leaves them running; `--down` ends them by PID).
 */
export interface LabAppliances {
  readonly processes: readonly LabApplianceProcess[];
  /** SAs and counters of both appliances, as JSON; the lab prints it as it is. */
  status(): Promise<unknown>;
  /** Stops both appliances by PID and waits (bounded) for them to exit. */
  stop(): Promise<void>;
}

/** Starts an appliance in rb-a and one in rb-b of an 'appliance' topology, ready to forward. */
export type StartLabAppliances = (topology: LabTopology) => Promise<LabAppliances>;

export type LabApplianceLoad =
  | { readonly available: true; readonly start: StartLabAppliances }
  | { readonly available: false; readonly reason: string };

/** Finds `startLabAppliances` in ./appliance.js; reports why when it is not there. */
export async function loadLabAppliances(): Promise<LabApplianceLoad> {
  // A non-literal specifier: this module compiles whether or not appliance.ts exists.
  const specifier: string = './appliance.js';
  let module: { startLabAppliances?: unknown };
  try {
    module = (await import(specifier)) as { startLabAppliances?: unknown };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ERR_MODULE_NOT_FOUND' && String((error as Error).message).includes('appliance')) {
      return { available: false, reason: 'appliance not available: src/lab/appliance.ts is not written yet' };
    }
    throw error;
  }
  if (typeof module.startLabAppliances !== 'function') {
    return { available: false, reason: 'appliance not available: src/lab/appliance.ts does not export startLabAppliances(topology)' };
  }
  return { available: true, start: module.startLabAppliances as StartLabAppliances };
}
