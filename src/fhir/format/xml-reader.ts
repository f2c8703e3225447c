/**
 * A small namespace-aware, non-validating XML 1.0 reader that builds a light element tree.
 *
 * Why not a general-purpose library: FHIR needs exact source offsets (the narrative `div` is carried over
 * verbatim), strict well-formedness errors with positions, namespace resolution on element names, and no
 * DTD processing at all (DOCTYPE is refused, which also rules out entity-expansion attacks). Doing just
 * that in one pass is both simpler and faster than adapting a generic parser.
 *
 * Whitespace-only text is dropped inside elements for which `keepWhitespace(ns)` is false (FHIR elements
 * only ever have whitespace between children); all other text, including whitespace in XHTML, is kept.
 */
import { badRequest } from '../outcome.ts';

export const XML_NS = 'http://www.w3.org/XML/1998/namespace';
/** Consumers walk the tree recursively; a bound keeps hostile input from overflowing the call stack. */
export const MAX_DEPTH = 512;
const XMLNS_NS = 'http://www.w3.org/2000/xmlns/';

export interface XmlAttr {
  /** Namespace URI; '' for unprefixed attributes (attributes do not take the default namespace). */
  readonly ns: string;
  readonly local: string;
  readonly qname: string;
  readonly value: string;
}

export interface XmlElement {
  readonly ns: string;
  readonly local: string;
  readonly qname: string;
  /** All attributes, including namespace declarations (those have ns XMLNS_NS). */
  readonly attrs: XmlAttr[];
  /** Child elements and text (strings, entity-decoded; CDATA included as text). */
  readonly children: (XmlElement | string)[];
  /** Offsets in the source (after BOM removal): `<` of the start tag … just after the end tag. */
  readonly start: number;
  end: number;
}

export interface XmlDocument {
  readonly root: XmlElement;
  /** The source after BOM removal; element offsets refer to this string. */
  readonly source: string;
}

export interface ReadOptions {
  keepWhitespace?: (ns: string) => boolean;
}

type Scope = Map<string, string>;
const INITIAL_SCOPE: Scope = new Map([
  ['xml', XML_NS],
  ['xmlns', XMLNS_NS],
  ['', ''],
]);

export function isXmlNsDeclaration(a: XmlAttr): boolean {
  return a.ns === XMLNS_NS;
}

function position(src: string, offset: number): string {
  let line = 1;
  let lineStart = 0;
  for (let i = 0; i < offset && i < src.length; i++) {
    if (src.charCodeAt(i) === 10) {
      line++;
      lineStart = i + 1;
    }
  }
  return `line ${line}, column ${offset - lineStart + 1}`;
}

function fail(src: string, offset: number, msg: string): never {
  throw badRequest(`Malformed XML at ${position(src, offset)}: ${msg}`);
}

const ENTITY: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function isXmlChar(cp: number): boolean {
  return (
    cp === 0x9 || cp === 0xa || cp === 0xd || (cp >= 0x20 && cp <= 0xd7ff) || (cp >= 0xe000 && cp <= 0xfffd) || (cp >= 0x10000 && cp <= 0x10ffff)
  );
}

/** Decodes entity and character references in raw[from, to). */
/** indexOf bounded to [from, to): String#indexOf would scan to the end of the document (quadratic). */
function indexIn(src: string, code: number, from: number, to: number): number {
  for (let k = from; k < to; k++) if (src.charCodeAt(k) === code) return k;
  return -1;
}

function decode(src: string, from: number, to: number): string {
  let amp = indexIn(src, 38, from, to);
  if (amp < 0) return src.slice(from, to);
  let out = '';
  let last = from;
  while (amp >= 0) {
    const semi = indexIn(src, 59, amp, to);
    if (semi < 0) fail(src, amp, 'unterminated entity reference');
    out += src.slice(last, amp);
    const name = src.slice(amp + 1, semi);
    if (name.charCodeAt(0) === 35 /* # */) {
      const hex = name.charCodeAt(1) === 120; /* x */
      const digits = name.slice(hex ? 2 : 1);
      const cp = digits !== '' && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits) ? parseInt(digits, hex ? 16 : 10) : NaN;
      if (!isXmlChar(cp)) fail(src, amp, `invalid character reference &${name};`);
      out += String.fromCodePoint(cp);
    } else {
      const ch = ENTITY[name];
      if (ch === undefined) fail(src, amp, `undefined entity &${name}; (only the five XML entities are allowed)`);
      out += ch;
    }
    last = semi + 1;
    amp = indexIn(src, 38, last, to);
  }
  return out + src.slice(last, to);
}

const isSpace = (c: number): boolean => c === 32 || c === 10 || c === 9 || c === 13;
function isBlank(src: string, from: number, to: number): boolean {
  for (let k = from; k < to; k++) if (!isSpace(src.charCodeAt(k))) return false;
  return true;
}
/** Characters that end a name: whitespace / > = ' " and end of input. */
const endsName = (c: number): boolean => isSpace(c) || c === 47 || c === 62 || c === 61 || c === 34 || c === 39 || Number.isNaN(c);

export function readXml(input: string, opts: ReadOptions = {}): XmlDocument {
  // Line endings are normalised where values are read, not up front: element offsets must point into the
  // caller's text so that a verbatim slice (the narrative div) is byte-identical to the source.
  const src = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const hasCR = src.includes('\r');
  const keepWhitespace = opts.keepWhitespace ?? (() => true);
  const len = src.length;
  let i = 0;
  let root: XmlElement | undefined;
  const stack: XmlElement[] = [];
  const scopes: Scope[] = [INITIAL_SCOPE];

  const readName = (): string => {
    const s = i;
    while (i < len && !endsName(src.charCodeAt(i))) i++;
    if (i === s) fail(src, s, 'expected a name');
    return src.slice(s, i);
  };
  const skipSpace = (): void => {
    while (i < len && isSpace(src.charCodeAt(i))) i++;
  };
  const resolve = (qname: string, isAttr: boolean, scope: Scope, at: number): [string, string] => {
    const colon = qname.indexOf(':');
    if (colon < 0) return [isAttr ? '' : (scope.get('') ?? ''), qname];
    const prefix = qname.slice(0, colon);
    const uri = scope.get(prefix);
    if (uri === undefined || uri === '') fail(src, at, `undeclared namespace prefix '${prefix}'`);
    return [uri, qname.slice(colon + 1)];
  };

  const addText = (text: string): void => {
    const parent = stack[stack.length - 1];
    if (!parent) {
      if (/\S/.test(text)) fail(src, i, 'text outside the root element');
      return;
    }
    if (!keepWhitespace(parent.ns) && !/\S/.test(text)) return;
    const kids = parent.children;
    const lastIdx = kids.length - 1;
    if (lastIdx >= 0 && typeof kids[lastIdx] === 'string') kids[lastIdx] += text;
    else kids.push(text);
  };

  while (i < len) {
    const lt = src.indexOf('<', i);
    if (lt !== i) {
      const end = lt < 0 ? len : lt;
      const parent = stack[stack.length - 1];
      // Fast path: indentation between FHIR elements is skipped without building a string.
      if (parent) {
        if (keepWhitespace(parent.ns) || !isBlank(src, i, end)) addText(decodeText(src, i, end, hasCR));
      } else if (!isBlank(src, i, end)) {
        fail(src, i, root ? 'content after the root element' : 'text before the root element');
      }
      i = end;
      continue;
    }
    const c1 = src.charCodeAt(i + 1);
    if (c1 === 33 /* ! */) {
      if (src.startsWith('<!--', i)) {
        const e = src.indexOf('-->', i + 4);
        if (e < 0) fail(src, i, 'unterminated comment');
        i = e + 3;
      } else if (src.startsWith('<![CDATA[', i)) {
        const e = src.indexOf(']]>', i + 9);
        if (e < 0) fail(src, i, 'unterminated CDATA section');
        if (stack.length === 0) fail(src, i, 'CDATA outside the root element');
        addText(src.slice(i + 9, e).replace(/\r\n?/g, '\n'));
        i = e + 3;
      } else if (src.startsWith('<!DOCTYPE', i)) {
        fail(src, i, 'DOCTYPE declarations are not allowed');
      } else {
        fail(src, i, 'unexpected markup declaration');
      }
    } else if (c1 === 63 /* ? */) {
      const e = src.indexOf('?>', i + 2);
      if (e < 0) fail(src, i, 'unterminated processing instruction');
      i = e + 2;
    } else if (c1 === 47 /* / */) {
      const at = i;
      i += 2;
      const qname = readName();
      skipSpace();
      if (src.charCodeAt(i) !== 62) fail(src, i, `expected '>' to close </${qname}`);
      i++;
      const open = stack.pop();
      if (!open) fail(src, at, `unexpected end tag </${qname}>`);
      if (open.qname !== qname) fail(src, at, `end tag </${qname}> does not match <${open.qname}>`);
      open.end = i;
      scopes.pop();
    } else {
      // Start tag.
      const start = i;
      if (root && stack.length === 0) fail(src, i, 'a second root element');
      i++;
      const qname = readName();
      const raw: { qname: string; value: string; at: number }[] = [];
      let selfClosing = false;
      for (;;) {
        const before = i;
        skipSpace();
        const c = src.charCodeAt(i);
        if (c === 62) {
          i++;
          break;
        }
        if (c === 47 && src.charCodeAt(i + 1) === 62) {
          i += 2;
          selfClosing = true;
          break;
        }
        if (i >= len) fail(src, start, `unterminated start tag <${qname}`);
        if (i === before) fail(src, i, `expected whitespace between attributes in <${qname}>`);
        const at = i;
        const aname = readName();
        skipSpace();
        if (src.charCodeAt(i) !== 61) fail(src, i, `expected '=' after attribute ${aname}`);
        i++;
        skipSpace();
        const q = src.charCodeAt(i);
        if (q !== 34 && q !== 39) fail(src, i, `attribute ${aname} value must be quoted`);
        const close = src.indexOf(q === 34 ? '"' : "'", i + 1);
        if (close < 0) fail(src, i, `unterminated value of attribute ${aname}`);
        const lt2 = src.indexOf('<', i + 1);
        if (lt2 >= 0 && lt2 < close) fail(src, lt2, `'<' in value of attribute ${aname}`);
        const value = decodeAttr(src, i + 1, close);
        for (const r of raw) if (r.qname === aname) fail(src, at, `duplicate attribute ${aname}`);
        raw.push({ qname: aname, value, at });
        i = close + 1;
      }
      // Namespace declarations first: they apply to this element's own name and attributes.
      const parentScope = scopes[scopes.length - 1];
      let scope = parentScope;
      for (const r of raw) {
        if (r.qname === 'xmlns' || r.qname.startsWith('xmlns:')) {
          if (scope === parentScope) scope = new Map(parentScope);
          scope.set(r.qname === 'xmlns' ? '' : r.qname.slice(6), r.value);
        }
      }
      const [ns, local] = resolve(qname, false, scope, start);
      const attrs: XmlAttr[] = raw.map((r) => {
        if (r.qname === 'xmlns' || r.qname.startsWith('xmlns:')) {
          return { ns: XMLNS_NS, local: r.qname === 'xmlns' ? '' : r.qname.slice(6), qname: r.qname, value: r.value };
        }
        const [ans, alocal] = resolve(r.qname, true, scope, r.at);
        return { ns: ans, local: alocal, qname: r.qname, value: r.value };
      });
      const el: XmlElement = { ns, local, qname, attrs, children: [], start, end: i };
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(el);
      else root = el;
      if (!selfClosing) {
        if (stack.length >= MAX_DEPTH) fail(src, start, `elements nested deeper than ${MAX_DEPTH} levels`);
        stack.push(el);
        scopes.push(scope);
      }
    }
  }
  if (stack.length > 0) fail(src, len, `element <${stack[stack.length - 1].qname}> is not closed`);
  if (!root) fail(src, 0, 'no root element');
  return { root, source: src };
}

/** Text content: line endings become \n (before decoding, so a &#xD; reference survives). */
function decodeText(src: string, from: number, to: number, hasCR: boolean): string {
  if (!hasCR || indexIn(src, 13, from, to) < 0) return decode(src, from, to);
  const raw = src.slice(from, to).replace(/\r\n?/g, '\n');
  return decode(raw, 0, raw.length);
}

/**
 * Attribute values: literal line endings and tabs become spaces (XML attribute-value normalisation).
 * Done on the raw text, before decoding: character references (&#xA;) must stay real newlines.
 */
function decodeAttr(src: string, from: number, to: number): string {
  for (let k = from; k < to; k++) {
    const c = src.charCodeAt(k);
    if (c === 9 || c === 10 || c === 13) {
      const raw = src.slice(from, to).replace(/\r\n?|[\t\n]/g, ' ');
      return decode(raw, 0, raw.length);
    }
  }
  return decode(src, from, to);
}
