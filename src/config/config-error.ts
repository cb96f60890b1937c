/**
 * Problems found in an appliance configuration file. Every issue names its field path
 * (`manualKeys[1].key`), the line of the file it comes from, and how to fix it. Messages never
 * contain key bytes or pre-shared keys: secrets are described by their length only.
 */

export interface ConfigIssue {
  /** Field path such as `spd[2].protect.algorithms[0]`; empty for problems of the file as a whole. */
  readonly path: string;
  /** 1-based line in the file; 0 when the problem has no line (the file could not be read). */
  readonly line: number;
  /** What is wrong and how to fix it, without the path. */
  readonly message: string;
}

/** `FILE:LINE: path: message`, leaving out the parts an issue does not have. */
export function formatConfigIssue(source: string, issue: ConfigIssue, label = ''): string {
  const where = issue.line > 0 ? `${source}:${issue.line}` : source;
  const path = issue.path === '' ? '' : `${issue.path}: `;
  return `${where}: ${path}${label}${issue.message}`;
}

/** A configuration was rejected as a whole; `issues` lists every problem, in file order. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    const sorted = issues.slice().sort((a, b) => a.line - b.line);
    super(sorted.map((issue) => formatConfigIssue(source, issue)).join('\n'));
    this.source = source;
    this.issues = Object.freeze(sorted);
  }
}
