/** Parses the Prefer header (RFC 7240) into the two preferences FHIR defines. */
export interface Preferences {
  return?: 'minimal' | 'representation' | 'OperationOutcome';
  handling?: 'strict' | 'lenient';
  respondAsync?: boolean;
}

export function parsePrefer(header: string | undefined): Preferences {
  const out: Preferences = {};
  if (!header) return out;
  for (const part of header.split(/[,;]/)) {
    const [k, v] = part.split('=').map((s) => s.trim().replace(/^"|"$/g, ''));
    if (k === 'return' && (v === 'minimal' || v === 'representation' || v === 'OperationOutcome')) out.return = v;
    else if (k === 'handling' && (v === 'strict' || v === 'lenient')) out.handling = v;
    else if (k === 'respond-async') out.respondAsync = true;
  }
  return out;
}
