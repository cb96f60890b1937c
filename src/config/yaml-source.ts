/**
 * The configuration file as YAML: parsed once into plain values for validation, with the node
 * positions kept so every issue found later can cite the line of the field it names.
 * YAML 1.2 core schema: `yes`/`no` stay text and duplicate keys are errors.
 */

import { type Document, isMap, isNode, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import type { ValidationIssue } from '../policy/validation.js';
import type { ConfigIssue } from './config-error.js';

/** Bound on alias expansion, so a small file cannot expand into a huge value ("billion laughs"). */
const MAX_ALIAS_COUNT = 100;

export class YamlSource {
  /** The document as plain values; undefined when `syntaxIssues` is not empty. */
  readonly data: unknown;
  /** YAML problems (syntax, duplicate keys, unknown tags); when any, the content was not read. */
  readonly syntaxIssues: readonly ConfigIssue[];
  private readonly doc: Document;
  private readonly lines: LineCounter;

  constructor(text: string) {
    this.lines = new LineCounter();
    // prettyErrors off: pretty messages quote the source line, which may hold key material.
    this.doc = parseDocument(text, { lineCounter: this.lines, prettyErrors: false });
    const problems = [...this.doc.errors, ...this.doc.warnings].map((e) => ({
      path: '',
      line: this.lineAt(e.pos[0]),
      message: `YAML: ${e.message}`,
    }));
    let data: unknown;
    if (problems.length === 0) {
      try {
        data = this.doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT });
      } catch (e) {
        problems.push({ path: '', line: 0, message: `YAML: ${(e as Error).message}: use fewer aliases` });
      }
    }
    this.data = data;
    this.syntaxIssues = Object.freeze(problems);
  }

  /** Line of the field at `path` (`spd[2].protect.mode`), or of its nearest ancestor in the file. */
  lineOf(path: string): number {
    let node: unknown = this.doc.contents;
    let offset = isNode(node) && node.range ? node.range[0] : 0;
    for (const segment of pathSegments(path)) {
      if (isMap(node)) {
        const pair = node.items.find((p) => (isScalar(p.key) ? String(p.key.value) : String(p.key)) === String(segment));
        if (pair === undefined) break;
        if (isNode(pair.key) && pair.key.range) offset = pair.key.range[0];
        node = pair.value;
      } else if (isSeq(node) && typeof segment === 'number') {
        const item: unknown = node.items[segment];
        if (!isNode(item) || !item.range) break;
        offset = item.range[0];
        node = item;
      } else {
        break;
      }
    }
    return this.lineAt(offset);
  }

  /** Adds the line of each issue's path. */
  locate(issues: readonly ValidationIssue[]): ConfigIssue[] {
    return issues.map((i) => ({ path: i.path, line: this.lineOf(i.path), message: i.message }));
  }

  private lineAt(offset: number): number {
    return Math.max(1, this.lines.linePos(offset).line);
  }
}

/** `spd[2].protect.algorithms[0]` -> ['spd', 2, 'protect', 'algorithms', 0]. */
function pathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  for (const m of path.matchAll(/([^.[\]]+)|\[(\d+)\]/g)) out.push(m[2] !== undefined ? Number(m[2]) : m[1]);
  return out;
}
