/**
 * The contract between the lab (and its benchmark and tests) and the redblack appliances it runs;
 * `src/lab/appliance.ts` implements it.
 */
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
