/**
 * Reading and writing FHIR resources in either format. XML goes through the project's converter
 * (src/fhir/format/xml.ts); it is loaded on first use, so JSON-only runs and the unit tests do not
 * depend on it.
 */
import { readFile } from 'node:fs/promises';
import type { Resource } from 'fhir/r4';

interface XmlFormat {
  parseFhirXml(xml: string): Resource;
  toFhirXml(resource: Resource): string;
}

let xmlFormat: Promise<XmlFormat> | undefined;

async function xml(): Promise<XmlFormat> {
  xmlFormat ??= import('../fhir/format/xml.ts') as Promise<XmlFormat>;
  return xmlFormat;
}

export type WireFormat = 'json' | 'xml';

export const MIME: Record<WireFormat, string> = {
  json: 'application/fhir+json',
  xml: 'application/fhir+xml',
};

/** Maps TestScript's `json`/`xml` shorthand (or a full MIME type) to the header value. */
export function mimeType(shorthand: string | undefined): string | undefined {
  if (!shorthand) return undefined;
  if (shorthand === 'json' || shorthand === 'xml') return MIME[shorthand];
  if (shorthand === 'ttl') return 'application/fhir+turtle';
  if (shorthand === 'none') return undefined;
  return shorthand;
}

export function formatOfMime(contentType: string | null | undefined): WireFormat | undefined {
  if (!contentType) return undefined;
  if (/json/i.test(contentType)) return 'json';
  if (/xml/i.test(contentType)) return 'xml';
  return undefined;
}

export async function parseResource(text: string, format: WireFormat): Promise<Resource> {
  if (format === 'json') return JSON.parse(text) as Resource;
  return (await xml()).parseFhirXml(text);
}

export async function serializeResource(resource: Resource, format: WireFormat): Promise<string> {
  if (format === 'json') return JSON.stringify(resource);
  return (await xml()).toFhirXml(resource);
}

/** Sniffs the format from the content: files and bodies are not always named or labelled right. */
export function sniffFormat(text: string): WireFormat | undefined {
  const t = text.trimStart();
  if (t.startsWith('{')) return 'json';
  if (t.startsWith('<')) return 'xml';
  return undefined;
}

const fileCache = new Map<string, Promise<Resource>>();

/** Reads a resource file (XML or JSON); parsed once per process since sets share fixtures. */
export function readResourceFile(path: string): Promise<Resource> {
  let p = fileCache.get(path);
  if (!p) {
    p = readFile(path, 'utf8').then((text) => {
      const format = sniffFormat(text);
      if (!format) throw new Error(`${path}: neither FHIR JSON nor XML`);
      return parseResource(text, format);
    });
    fileCache.set(path, p);
    // A failed read should not stick: the next run may have the file (or the XML module).
    p.catch(() => fileCache.delete(path));
  }
  return p;
}
