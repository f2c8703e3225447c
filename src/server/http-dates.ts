/** Header helpers: weak ETags carry the version id (FHIR http.html#versioning), Last-Modified is an HTTP date. */
export const etag = (versionId: number | string): string => `W/"${versionId}"`;

export function parseEtag(value: string | undefined): number | undefined {
  if (!value) return undefined;
  const m = /^(?:W\/)?"?(\d+)"?$/.exec(value.trim());
  return m ? Number(m[1]) : Number.NaN;
}

export const httpDate = (iso: string): string => new Date(iso).toUTCString();

export function versionHeaders(base: string, type: string, id: string, versionId: number, lastUpdated: string): Record<string, string> {
  return {
    ETag: etag(versionId),
    'Last-Modified': httpDate(lastUpdated),
    Location: `${base}/${type}/${id}/_history/${versionId}`,
  };
}
