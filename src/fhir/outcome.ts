/**
 * OperationOutcome errors. Every failure that reaches a client is a FhirError: it carries the HTTP status,
 * the FHIR issue code and the FHIRPath expression of the offending element, so the HTTP layer can always
 * answer with an OperationOutcome (the standard demands one; clients and TestScripts read `issue.code`).
 */
import type { OperationOutcome, OperationOutcomeIssue } from 'fhir/r4';

export type IssueSeverity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

export interface Issue {
  severity: IssueSeverity;
  code: IssueCode;
  diagnostics: string;
  /** FHIRPath of the element the issue is about, e.g. `Patient.birthDate`. */
  expression?: string[];
}

export class FhirError extends Error {
  constructor(
    readonly status: number,
    readonly issues: Issue[],
  ) {
    super(issues.map((i) => i.diagnostics).join('; '));
    this.name = 'FhirError';
  }

  static of(status: number, code: IssueCode, diagnostics: string, expression?: string | string[]): FhirError {
    const expr = expression === undefined ? undefined : Array.isArray(expression) ? expression : [expression];
    return new FhirError(status, [{ severity: 'error', code, diagnostics, expression: expr }]);
  }

  toOperationOutcome(): OperationOutcome {
    return operationOutcome(this.issues);
  }
}

export function operationOutcome(issues: Issue[]): OperationOutcome {
  return {
    resourceType: 'OperationOutcome',
    issue: issues.map((i) => ({
      severity: i.severity,
      code: i.code,
      diagnostics: i.diagnostics,
      ...(i.expression && i.expression.length > 0 ? { expression: i.expression } : {}),
    })),
  };
}

export const badRequest = (msg: string, expression?: string | string[]) => FhirError.of(400, 'invalid', msg, expression);
export const notFound = (msg: string) => FhirError.of(404, 'not-found', msg);
export const gone = (msg: string) => FhirError.of(410, 'deleted', msg);
export const conflict = (msg: string) => FhirError.of(409, 'conflict', msg);
export const preconditionFailed = (msg: string) => FhirError.of(412, 'conflict', msg);
export const unprocessable = (msg: string, expression?: string | string[]) => FhirError.of(422, 'processing', msg, expression);
export const notSupported = (msg: string, status = 400) => FhirError.of(status, 'not-supported', msg);
