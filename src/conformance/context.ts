/**
 * The state of one TestScript execution: bound variables, expanded fixtures and captured exchanges.
 * Expression variables are evaluated lazily at each use, because their source (a response) often only
 * exists after an operation has run.
 */
import { dirname, resolve as resolvePath } from 'node:path';
import type { Resource, TestScript, TestScriptVariable } from 'fhir/r4';
import { evaluateFhirPath, resultAsString } from './fhirpath.ts';
import { expandPlaceholders, expandTree, type PlaceholderContext } from './placeholders.ts';
import { readResourceFile, type WireFormat } from './resources.ts';

export interface HttpRequestRecord {
  method: string;
  url: string;
  headers: Record<string, string>;
  body?: string;
  resource?: Resource;
}

export interface HttpResponseRecord {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: string;
  resource?: Resource;
  format?: WireFormat;
}

export interface HttpExchange {
  request: HttpRequestRecord;
  response: HttpResponseRecord;
}

export class ScriptContext {
  readonly fixtures = new Map<string, Resource>();
  readonly responses = new Map<string, HttpExchange>();
  last?: HttpExchange;
  private readonly bound = new Map<string, string>();
  private readonly variables = new Map<string, TestScriptVariable>();
  private readonly resolving = new Set<string>();

  constructor(
    readonly script: TestScript,
    readonly scriptPath: string,
    readonly now: Date,
  ) {
    for (const v of script.variable ?? []) this.variables.set(v.name, v);
  }

  /** Placeholder context bound to this script's variables. */
  get placeholders(): PlaceholderContext {
    return { now: this.now, resolve: (name) => this.resolve(name) };
  }

  expand(text: string): string {
    return expandPlaceholders(text, this.placeholders);
  }

  /**
   * Binds defaultValue variables (once: `X-Correlation-ID = ${UUID}` must stay the same for the whole
   * script) and loads the fixtures, expanding their placeholders once so that a variable read from a
   * fixture and the body sent for it agree.
   */
  async prepare(): Promise<void> {
    for (const v of this.variables.values()) {
      if (v.defaultValue !== undefined && !v.expression && !v.headerField && !v.path) {
        this.bound.set(v.name, expandPlaceholders(v.defaultValue, { now: this.now, resolve: (n) => this.bound.get(n) }));
      }
    }
    const base = dirname(this.scriptPath);
    for (const f of this.script.fixture ?? []) {
      const ref = f.resource?.reference;
      if (!f.id || !ref) continue;
      // References are relative to the script file (`../_reference/resources/X.xml`).
      const raw = await readResourceFile(resolvePath(base, ref));
      this.fixtures.set(f.id, expandTree(raw, this.placeholders));
    }
  }

  /** A fixture or a captured response body, by id. */
  source(id: string): Resource | undefined {
    return this.fixtures.get(id) ?? this.responses.get(id)?.response.resource;
  }

  /** The value of a variable now, or undefined when it cannot (yet) be computed. */
  resolve(name: string): string | undefined {
    const b = this.bound.get(name);
    if (b !== undefined) return b;
    const v = this.variables.get(name);
    if (!v || this.resolving.has(name)) return undefined;
    this.resolving.add(name);
    try {
      return this.evaluateVariable(v);
    } finally {
      this.resolving.delete(name);
    }
  }

  private evaluateVariable(v: TestScriptVariable): string | undefined {
    if (v.headerField) {
      const ex = v.sourceId ? this.responses.get(v.sourceId) : this.last;
      return ex?.response.headers[v.headerField.toLowerCase()] ?? v.defaultValue;
    }
    if (v.expression) {
      const src = v.sourceId ? this.source(v.sourceId) : this.last?.response.resource;
      if (src) {
        try {
          const value = resultAsString(evaluateFhirPath(src, this.expand(v.expression)));
          if (value !== undefined) return value;
        } catch {
          // A broken expression behaves like an unset variable; the operation using it then fails visibly.
        }
      }
      return v.defaultValue !== undefined ? this.expand(v.defaultValue) : undefined;
    }
    return undefined;
  }
}
