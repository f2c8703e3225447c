/** Letters as a PDF Binary plus the DocumentReference that indexes it (MedMij "Documenten PDF/A" style). */
import type { Binary, DocumentReference, Reference } from 'fhir/r4';
import { LOINC } from '../data/terminology.ts';
import { isoDateTime } from '../dates.ts';
import { minimalPdf } from '../pdf.ts';
import { meta, PROFILE } from '../profiles.ts';
import { cc } from './common.ts';

export const DOC_TYPES = {
  discharge: { system: LOINC, code: '18842-5', display: 'Discharge summary' },
  consult: { system: LOINC, code: '11488-4', display: 'Consult note' },
  outOfHours: { system: LOINC, code: '34133-9', display: 'Summary of episode note' },
  nursingTransfer: { system: LOINC, code: '34745-0', display: 'Nurse Discharge summary' },
} as const;

export function pdfDocument(
  binaryId: string,
  docId: string,
  subject: Reference,
  type: (typeof DOC_TYPES)[keyof typeof DOC_TYPES],
  title: string,
  lines: string[],
  day: number,
  minute: number,
  author: Reference,
  custodian: Reference,
): [Binary, DocumentReference] {
  const pdf = minimalPdf(title, lines);
  const binary: Binary = {
    resourceType: 'Binary',
    id: binaryId,
    meta: meta(PROFILE.binary),
    contentType: 'application/pdf',
    data: pdf.toString('base64'),
  };
  const doc: DocumentReference = {
    resourceType: 'DocumentReference',
    id: docId,
    meta: meta(PROFILE.documentReference),
    status: 'current',
    type: cc(type),
    subject,
    date: isoDateTime(day, minute),
    author: [author],
    custodian,
    description: title,
    content: [
      {
        attachment: {
          contentType: 'application/pdf',
          language: 'nl',
          url: `Binary/${binaryId}`,
          size: pdf.length,
          title,
          creation: isoDateTime(day, minute),
        },
      },
    ],
  };
  return [binary, doc];
}
