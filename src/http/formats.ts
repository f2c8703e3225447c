/**
 * Content negotiation for FHIR (http.html#mime-type): `_format` wins over Accept; JSON is the default.
 * Request bodies: FHIR JSON, FHIR XML, JSON Patch, or a form for POST _search.
 */
export type Format = 'json' | 'xml';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'json', 'application/json+fhir', 'text/json'];
const XML_TYPES = ['application/fhir+xml', 'application/xml', 'xml', 'text/xml', 'application/xml+fhir'];

export function formatOf(mime: string | undefined): Format | undefined {
  if (!mime) return undefined;
  // An unencoded '+' in `_format=application/fhir+xml` arrives as a space after query decoding.
  const base = mime.split(';')[0].trim().toLowerCase().replace(/ /g, '+');
  if (JSON_TYPES.includes(base)) return 'json';
  if (XML_TYPES.includes(base)) return 'xml';
  return undefined;
}

/** The response format: `_format`, else the first acceptable type in Accept, else JSON. */
export function negotiate(formatParam: string | undefined, accept: string | undefined): Format {
  const fromParam = formatOf(formatParam);
  if (fromParam) return fromParam;
  if (accept) {
    const ranked = accept
      .split(',')
      .map((part) => {
        const [type, ...params] = part.split(';');
        const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
        return { type: type.trim(), q: q ? Number(q.slice(2)) : 1 };
      })
      .sort((a, b) => b.q - a.q);
    for (const r of ranked) {
      const f = formatOf(r.type);
      if (f) return f;
    }
  }
  return 'json';
}

export const contentTypeOf = (f: Format): string => (f === 'xml' ? 'application/fhir+xml; charset=utf-8' : 'application/fhir+json; charset=utf-8');
