/** Letters between providers: the sender keeps the PDF and the receiving GP files a copy in its own record. */
import type { Reference } from 'fhir/r4';
import { pdfDocument, type DOC_TYPES } from '../builders/documents.ts';
import { displayName } from '../builders/common.ts';
import { isoDate } from '../dates.ts';
import type { Professional, Tenant } from '../region.ts';
import type { PatientScope } from '../scope.ts';

export function sendLetter(
  scope: PatientScope,
  from: Tenant,
  author: Professional,
  recipients: Tenant[],
  type: (typeof DOC_TYPES)[keyof typeof DOC_TYPES],
  title: string,
  body: string[],
  day: number,
  minute: number,
): void {
  const p = scope.person;
  const lines = [
    `Patient: ${displayName(p.name)}, geboren ${isoDate(p.birthDay)}, BSN ${p.bsn}`,
    `Afzender: ${author.display}`,
    `Datum: ${isoDate(day)}`,
    '',
    ...body,
  ];
  for (const t of [from, ...recipients]) {
    const subject = scope.subject(t);
    const authorRef: Reference = scope.role(t, author);
    const custodian = scope.org(t, t);
    const [bin, doc] = pdfDocument(scope.id(t, 'Binary'), scope.id(t, 'DocumentReference'), subject, type, title, lines, day, minute, authorRef, custodian);
    scope.emit(t, bin);
    scope.emit(t, doc);
  }
}
