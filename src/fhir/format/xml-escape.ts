/**
 * XML escaping for generated output. Scans by char code (no regex) because every attribute value of every
 * element passes through here. Control characters other than tab/newline/carriage return cannot be
 * represented in XML 1.0 at all, so they are a client error rather than silently dropped.
 */
import { badRequest } from '../outcome.ts';

function needsEscape(s: string, attr: boolean): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 || c === 38 || c === 60 || c === 62 || (attr && c === 34)) return true;
  }
  return false;
}

function escape(s: string, attr: boolean, path: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    let rep: string;
    switch (c) {
      case 38: rep = '&amp;'; break;
      case 60: rep = '&lt;'; break;
      case 62: rep = '&gt;'; break;
      case 34: if (!attr) continue; rep = '&quot;'; break;
      // In attributes, literal whitespace would be normalised to spaces by the reader: use references.
      case 9: if (!attr) continue; rep = '&#x9;'; break;
      case 10: if (!attr) continue; rep = '&#xA;'; break;
      case 13: rep = '&#xD;'; break;
      default:
        if (c >= 0x20) continue;
        throw badRequest(`Character U+${c.toString(16).padStart(4, '0')} cannot be represented in XML (at ${path})`, path);
    }
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return out + s.slice(last);
}

/** Escapes an attribute value; `path` names the element in errors. */
export function escapeAttr(s: string, path: string): string {
  return needsEscape(s, true) ? escape(s, true, path) : s;
}

/** Escapes character data. */
export function escapeText(s: string, path: string): string {
  return needsEscape(s, false) ? escape(s, false, path) : s;
}
