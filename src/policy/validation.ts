/**
 * Typed configuration errors for the SPD and PAD. A whole configuration is validated at once and
 * every problem is reported, each naming its field path (`spd[3].remote`) and how to fix it.
 * Messages never contain secret values (PSKs): callers describe secrets by length only.
 */

export interface ValidationIssue {
  /** Field path such as `spd[3].protect.algorithms[1]`. */
  readonly path: string;
  /** What is wrong and how to fix it, without the path. */
  readonly message: string;
}

export class PolicyValidationError extends Error {
  override readonly name = 'PolicyValidationError';
  readonly issues: readonly ValidationIssue[];

  constructor(issues: readonly ValidationIssue[]) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('\n'));
    this.issues = Object.freeze(issues.slice());
  }
}

/** Collects issues while a configuration is parsed; `throwIfAny` ends validation. */
export class IssueList {
  private readonly issues: ValidationIssue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  get count(): number {
    return this.issues.length;
  }

  /** The issues collected so far, in order. */
  get list(): readonly ValidationIssue[] {
    return this.issues;
  }

  throwIfAny(): void {
    if (this.issues.length > 0) throw new PolicyValidationError(this.issues);
  }
}

/** JSON-ish rendering of a configuration value for messages (strings quoted, objects summarized). */
export function quote(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  return `a ${typeof value}`;
}

/** Reports every own key of `value` that is not in `known` (catches typos such as "remtoe"). */
export function checkKnownFields(value: object, known: readonly string[], path: string, issues: IssueList): void {
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) issues.add(`${path}.${key}`, `unknown field: use one of ${known.join(', ')}`);
  }
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}
