import { LineCounter, parseDocument, isMap, isSeq, isScalar, isPair, type Node, type Document } from 'yaml';

/** A position in a source file, 1-based, as editors and compilers print it. */
export interface SourcePosition {
  file: string;
  line: number;
  column: number;
}

export function formatPosition(p: SourcePosition): string {
  return `${p.file}:${p.line}:${p.column}`;
}

/** A problem found in a YAML file, with where it is. */
export interface SourceProblem extends SourcePosition {
  message: string;
}

export function formatProblem(p: SourceProblem): string {
  return `${formatPosition(p)}: ${p.message}`;
}

/**
 * A parsed YAML file that remembers where every value came from, so schema errors (JSON pointers) can be reported
 * as file:line:column. Syntax errors are collected as problems, never thrown.
 */
export class YamlSource {
  readonly file: string;
  readonly value: unknown;
  readonly problems: SourceProblem[];
  readonly #doc: Document;
  readonly #lines: LineCounter;

  constructor(file: string, text: string) {
    this.file = file;
    this.#lines = new LineCounter();
    this.#doc = parseDocument(text, { lineCounter: this.#lines, prettyErrors: false, uniqueKeys: true });
    this.problems = this.#doc.errors.map((e) => {
      const pos = this.#lines.linePos(e.pos[0]);
      return { file, line: pos.line, column: pos.col, message: e.message.split('\n')[0] ?? e.message };
    });
    this.value = this.problems.length === 0 ? this.#doc.toJS({ maxAliasCount: 100 }) : undefined;
  }

  /**
   * The position of the value at a JSON pointer (`/spec/steps/2/with/replicas`). When the pointer names a key that
   * is missing, the position of the nearest existing parent is returned.
   */
  locate(pointer: string): SourcePosition {
    const parts = pointer
      .split('/')
      .slice(1)
      .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
    let node: unknown = this.#doc.contents;
    let best: Node | null = isNode(node) ? node : null;
    for (const part of parts) {
      if (isMap(node)) {
        const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === part);
        if (!pair) break;
        node = pair.value ?? pair.key;
        if (isNode(pair.key) && !isNode(pair.value)) best = pair.key as Node;
      } else if (isSeq(node)) {
        node = node.items[Number(part)];
      } else break;
      if (isNode(node)) best = node;
    }
    const offset = best?.range?.[0] ?? 0;
    const pos = this.#lines.linePos(offset);
    return { file: this.file, line: pos.line, column: pos.col };
  }

  /** The position of a map key (better than its value for "unknown property" errors). */
  locateKey(pointer: string, key: string): SourcePosition {
    const parts = pointer.split('/').slice(1);
    let node: unknown = this.#doc.contents;
    for (const part of parts) {
      if (isMap(node)) node = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === part)?.value;
      else if (isSeq(node)) node = node.items[Number(part)];
    }
    if (isMap(node)) {
      const pair = node.items.find((it) => isPair(it) && isScalar(it.key) && String(it.key.value) === key);
      if (pair && isNode(pair.key) && pair.key.range) {
        const pos = this.#lines.linePos(pair.key.range[0]);
        return { file: this.file, line: pos.line, column: pos.col };
      }
    }
    return this.locate(pointer);
  }
}

function isNode(v: unknown): v is Node {
  return typeof v === 'object' && v !== null && 'range' in v;
}
