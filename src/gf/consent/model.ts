/**
 * FHIR Consent ⇄ the registry's rules. A stored Consent (R4, scope patient-privacy) is checked against the
 * catalogue and compiled into flat rules that decide.ts evaluates; nothing else interprets a Consent.
 *
 * Shape accepted (one level of provision; nested provisions are refused):
 * - `patient.identifier` = BSN (system http://fhir.nl/fhir/NamingSystem/bsn, passes the eleven-test)
 * - `provision.type` permit | deny
 * - `provision.actor[]`: role v3-ParticipationType `CST` (data holder) or `IRCP` (consulter); reference either
 *   `identifier` URA (specific organisation) or `identifier` with the provider-category system (RPZAC code), or
 *   the Mitz extension OTV-ProviderCategory (valueCoding). Several actors of one role = any of them.
 * - `provision.code[]` / `provision.class`-free: data category as Mitz GGC code (or an nl-gf data-category code,
 *   mapped to its GGC); absent = every category.
 * - `provision.purpose[]` v3-ActReason; absent = the default permit purpose (TREAT) for a permit, every purpose for a deny.
 * - `provision.period`; `status` active (in force) or inactive (revoked); other statuses are not in force.
 */
import type { Consent, ConsentProvisionActor, Period, Reference } from 'fhir/r4';
import { badRequest } from '../../fhir/outcome.ts';
import { passesElevenTest } from '../../synth/identifiers.ts';
import { ACTOR_ROLES, SYSTEMS, type CatalogueIndex } from './catalogue.ts';

export type ActorMatch = { kind: 'any' } | { kind: 'ura'; ura: string } | { kind: 'category'; code: string };

export interface ConsentRule {
  consentId: string;
  type: 'permit' | 'deny';
  holder: ActorMatch;
  consulter: ActorMatch;
  /** Data categories granted/denied; undefined = every category. */
  categories?: string[];
  /** Purposes; undefined = every purpose. */
  purposes?: string[];
  /** Epoch ms, inclusive; undefined = open. */
  start?: number;
  end?: number;
  /** A deny that names no holder and no consulter: the patient's objection, which beats any consent. */
  objection: boolean;
}

export interface CompiledConsent {
  id: string;
  versionId: number;
  bsn: string;
  /** In force (status active); otherwise the index keeps the version but applies none of its rules. */
  active: boolean;
  /** The rules as they read, whatever the status (notifications match revoked consents too). */
  rules: ConsentRule[];
}

export const CONSENT_STATUSES = ['draft', 'proposed', 'active', 'rejected', 'inactive', 'entered-in-error'] as const;

export function checkBsn(value: unknown, expression: string): string {
  if (typeof value !== 'string' || !/^\d{9}$/.test(value) || !passesElevenTest(value)) {
    throw badRequest('A BSN is 9 digits and passes the eleven-test', expression);
  }
  return value;
}

export function checkUraValue(value: unknown, expression: string): string {
  if (typeof value !== 'string' || !/^\d{8}$/.test(value)) throw badRequest('A URA is 8 digits', expression);
  return value;
}

/** The BSN of a Consent (patient.identifier), checked. */
export function bsnOfConsent(c: Consent): string {
  const id = c.patient?.identifier;
  if (!id || id.system !== SYSTEMS.bsn) throw badRequest(`Consent.patient must carry identifier with system ${SYSTEMS.bsn}`, 'Consent.patient.identifier');
  return checkBsn(id.value, 'Consent.patient.identifier.value');
}

/**
 * Checks a Consent against the catalogue and compiles it. Throws FhirError 400 with the FHIRPath of the
 * offending element.
 */
export function compileConsent(c: Consent, cat: CatalogueIndex, versionId = 0): CompiledConsent {
  if (c.resourceType !== 'Consent') throw badRequest('The body must be a Consent', 'resourceType');
  if (!CONSENT_STATUSES.includes(c.status)) throw badRequest(`Consent.status must be one of ${CONSENT_STATUSES.join(', ')}`, 'Consent.status');
  if (!c.scope?.coding?.some((x) => x.system === SYSTEMS.consentScope && x.code === 'patient-privacy')) {
    throw badRequest(`Consent.scope must be ${SYSTEMS.consentScope}#patient-privacy`, 'Consent.scope');
  }
  const okCategory = (c.category ?? []).some((cc) => cc.coding?.some((x) => cat.catalogue.consentCategories.some((k) => k.system === x.system && k.code === x.code)));
  if (!okCategory) {
    const names = cat.catalogue.consentCategories.map((k) => `${k.system}#${k.code}`).join(', ');
    throw badRequest(`Consent.category must contain one of ${names}`, 'Consent.category');
  }
  const bsn = bsnOfConsent(c);
  const p = c.provision;
  if (!p) throw badRequest('Consent.provision is required (type permit or deny)', 'Consent.provision');
  if (p.type !== 'permit' && p.type !== 'deny') throw badRequest('Consent.provision.type must be permit or deny', 'Consent.provision.type');
  if (p.provision && p.provision.length > 0) throw badRequest('Nested provisions are not supported; register one Consent per choice', 'Consent.provision.provision');
  for (const f of ['data', 'dataPeriod', 'securityLabel', 'class', 'action'] as const) {
    const v = p[f];
    if (v !== undefined && (!Array.isArray(v) || v.length > 0)) throw badRequest(`Consent.provision.${f} is not supported by the registry; use provision.code for the data category`, `Consent.provision.${f}`);
  }

  const holders: ActorMatch[] = [];
  const consulters: ActorMatch[] = [];
  (p.actor ?? []).forEach((a, i) => {
    const expr = `Consent.provision.actor[${i}]`;
    const role = a.role?.coding?.find((x) => x.system === SYSTEMS.participationType)?.code;
    if (role !== ACTOR_ROLES.holder && role !== ACTOR_ROLES.consulter) {
      throw badRequest(`${expr}.role must be ${SYSTEMS.participationType}#${ACTOR_ROLES.holder} (data holder) or #${ACTOR_ROLES.consulter} (consulter)`, `${expr}.role`);
    }
    (role === ACTOR_ROLES.holder ? holders : consulters).push(actorMatch(a, expr, cat));
  });

  let categories: string[] | undefined;
  if (p.code && p.code.length > 0) {
    categories = p.code.map((cc, i) => {
      const expr = `Consent.provision.code[${i}]`;
      for (const x of cc.coding ?? []) {
        if (x.system === SYSTEMS.dataCategory && x.code && cat.dataCategories.has(x.code)) return x.code;
        if (x.system === SYSTEMS.nlGfDataCategory && x.code) {
          const g = cat.dataCategoryOfNlGf(x.code);
          if (g) return g;
        }
      }
      throw badRequest(`${expr} must be a data category from ${SYSTEMS.dataCategory} (${[...cat.dataCategories.keys()].join(', ')}) or a mapped nl-gf data category`, expr);
    });
  }

  let purposes: string[] | undefined;
  if (p.purpose && p.purpose.length > 0) {
    purposes = p.purpose.map((x, i) => {
      if (x.system === SYSTEMS.actReason && x.code && cat.purposes.has(x.code)) return x.code;
      throw badRequest(`Consent.provision.purpose[${i}] must be one of ${[...cat.purposes.keys()].map((k) => `${SYSTEMS.actReason}#${k}`).join(', ')}`, `Consent.provision.purpose[${i}]`);
    });
  } else if (p.type === 'permit') {
    purposes = [cat.catalogue.defaultPermitPurpose];
  }

  const { start, end } = periodBounds(p.period, 'Consent.provision.period');
  const any: ActorMatch = { kind: 'any' };
  const rules: ConsentRule[] = [];
  const id = c.id ?? '';
  for (const h of holders.length ? holders : [any]) {
    for (const k of consulters.length ? consulters : [any]) {
      rules.push({ consentId: id, type: p.type, holder: h, consulter: k, categories, purposes, start, end, objection: p.type === 'deny' && h.kind === 'any' && k.kind === 'any' });
    }
  }
  const active = c.status === 'active';
  return { id, versionId, bsn, active, rules };
}

function actorMatch(a: ConsentProvisionActor, expr: string, cat: CatalogueIndex): ActorMatch {
  const ref: Reference | undefined = a.reference;
  const ident = ref?.identifier;
  if (ident?.system === SYSTEMS.ura) return { kind: 'ura', ura: checkUraValue(ident.value, `${expr}.reference.identifier.value`) };
  if (ident?.system === SYSTEMS.providerCategory) return { kind: 'category', code: checkProviderCategory(ident.value, `${expr}.reference.identifier.value`, cat) };
  const ext = ref?.extension?.find((e) => e.url === SYSTEMS.providerCategoryExtension);
  if (ext) return { kind: 'category', code: checkProviderCategory(ext.valueCoding?.code, `${expr}.reference.extension`, cat) };
  throw badRequest(`${expr}.reference must name a URA (identifier system ${SYSTEMS.ura}) or a provider category (identifier system ${SYSTEMS.providerCategory})`, `${expr}.reference`);
}

function checkProviderCategory(code: unknown, expression: string, cat: CatalogueIndex): string {
  if (typeof code !== 'string' || !cat.providerCategories.has(code)) {
    throw badRequest(`Unknown provider category; use one of ${[...cat.providerCategories.keys()].join(', ')}`, expression);
  }
  return code;
}

/** Epoch-ms bounds of a FHIR Period; a partial end date (2025, 2025-03, 2025-03-31) runs to the end of that unit. */
export function periodBounds(period: Period | undefined, expression: string): { start?: number; end?: number } {
  if (!period) return {};
  const start = period.start !== undefined ? instantOf(period.start, false, `${expression}.start`) : undefined;
  const end = period.end !== undefined ? instantOf(period.end, true, `${expression}.end`) : undefined;
  if (start !== undefined && end !== undefined && end < start) throw badRequest('The period ends before it starts', expression);
  return { start, end };
}

const DATE_TIME = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(Z|[+-]\d{2}:\d{2}))?)?)?$/;

export function instantOf(v: string, upper: boolean, expression: string): number {
  const m = DATE_TIME.exec(v);
  if (!m) throw badRequest(`'${v}' is not a FHIR dateTime`, expression);
  const [, y, mo, d, hh] = m;
  if (hh !== undefined) {
    const t = Date.parse(v);
    if (Number.isNaN(t)) throw badRequest(`'${v}' is not a valid dateTime`, expression);
    // Seconds precision: the upper bound runs to the end of the last second given.
    return upper && !v.includes('.') ? t + 999 : t;
  }
  const year = Number(y);
  const month = mo ? Number(mo) - 1 : 0;
  const day = d ? Number(d) : 1;
  const lo = Date.UTC(year, month, day);
  if (Number.isNaN(lo) || (mo && (month < 0 || month > 11)) || (d && (day < 1 || day > 31))) throw badRequest(`'${v}' is not a valid date`, expression);
  if (!upper) return lo;
  const hi = d ? Date.UTC(year, month, day + 1) : mo ? Date.UTC(year, month + 1, 1) : Date.UTC(year + 1, 0, 1);
  return hi - 1;
}
