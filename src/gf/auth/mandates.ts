/**
 * Who may act for whom (test stand-in for DigiD Machtigen and the BRP parent-child relation), as data with rules:
 *   - everyone acts for themself;
 *   - a parent acts for a child under 16 (derived from a registered parent-child relation and the child's birth date;
 *     on the 16th birthday this ends — from then on the young person decides, WGBO art. 7:450/7:457);
 *   - anyone else (a mantelzorger for another adult, a guardian, a parent of a child of 16 or older) only with a
 *     registered mandate that is valid on the day.
 */

export interface Citizen {
  bsn: string;
  given: string;
  family: string;
  /** YYYY-MM-DD */
  birthDate: string;
}

export interface ParentChildRelation {
  parent: string;
  child: string;
}

export type MandateKind = 'mantelzorger' | 'wettelijk-vertegenwoordiger' | 'gemachtigde';

export interface RegisteredMandate {
  id: string;
  /** BSN of the person acting. */
  representative: string;
  /** BSN of the person acted for. */
  represented: string;
  kind: MandateKind;
  /** YYYY-MM-DD, inclusive. */
  validFrom: string;
  /** YYYY-MM-DD, inclusive; open-ended when absent. */
  validUntil?: string;
}

export interface MandateRegistry {
  citizens: Citizen[];
  parentChild: ParentChildRelation[];
  mandates: RegisteredMandate[];
}

export const PARENTAL_AUTHORITY_AGE = 16;

export type MandateBasis = 'parent-of-minor' | 'registered-mandate';

export interface Mandate {
  represented: Citizen;
  basis: MandateBasis;
  kind?: MandateKind;
  mandateId?: string;
  /** Last day (YYYY-MM-DD) on which the mandate holds: the day before the 16th birthday, or validUntil. */
  validUntil?: string;
}

export type Decision = { allowed: true; basis: 'self' | MandateBasis; mandate?: Mandate } | { allowed: false; reason: string };

const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/** Completed years on `on` (UTC calendar days); someone born on 29 February turns a year older on 1 March. */
export function ageOn(birthDate: string, on: Date): number {
  const [y, m, d] = birthDate.split('-').map(Number);
  const [oy, om, od] = isoDay(on).split('-').map(Number);
  let age = oy - y;
  if (om < m || (om === m && od < d)) age--;
  return age;
}

/** BSN eleven test (elfproef): 9 digits, Σ digit·weight with weights 9..2 and -1 divisible by 11. */
export function isValidBsn(bsn: string): boolean {
  if (!/^\d{9}$/.test(bsn)) return false;
  let sum = 0;
  for (let i = 0; i < 8; i++) sum += Number(bsn[i]) * (9 - i);
  sum -= Number(bsn[8]);
  return sum % 11 === 0 && bsn !== '000000000';
}

function dayBefore(iso: string): string {
  const d = new Date(iso + 'T00:00:00Z');
  d.setUTCDate(d.getUTCDate() - 1);
  return isoDay(d);
}

function sixteenthBirthday(birthDate: string): string {
  const [y, m, d] = birthDate.split('-').map(Number);
  // 29 Feb + 16 years is not a leap day: the birthday is reached on 1 March
  const t = new Date(Date.UTC(y + PARENTAL_AUTHORITY_AGE, m - 1, d));
  return isoDay(t);
}

/** Everyone `actor` may act for on `on` (not themself). */
export function mandatesOf(registry: MandateRegistry, actor: string, on: Date): Mandate[] {
  const byBsn = new Map(registry.citizens.map((c) => [c.bsn, c]));
  const out: Mandate[] = [];
  const seen = new Set<string>();
  for (const r of registry.parentChild) {
    if (r.parent !== actor) continue;
    const child = byBsn.get(r.child);
    if (!child || ageOn(child.birthDate, on) >= PARENTAL_AUTHORITY_AGE || ageOn(child.birthDate, on) < 0) continue;
    out.push({ represented: child, basis: 'parent-of-minor', validUntil: dayBefore(sixteenthBirthday(child.birthDate)) });
    seen.add(child.bsn);
  }
  const day = isoDay(on);
  for (const m of registry.mandates) {
    if (m.representative !== actor || m.represented === actor || seen.has(m.represented)) continue;
    if (day < m.validFrom || (m.validUntil !== undefined && day > m.validUntil)) continue;
    const who = byBsn.get(m.represented);
    if (!who) continue;
    out.push({ represented: who, basis: 'registered-mandate', kind: m.kind, mandateId: m.id, validUntil: m.validUntil });
    seen.add(who.bsn);
  }
  return out;
}

/** May `actor` act for `subject` on `on`? */
export function mayActFor(registry: MandateRegistry, actor: string, subject: string, on: Date): Decision {
  if (actor === subject) return { allowed: true, basis: 'self' };
  const m = mandatesOf(registry, actor, on).find((x) => x.represented.bsn === subject);
  if (m) return { allowed: true, basis: m.basis, mandate: m };
  const isParent = registry.parentChild.some((r) => r.parent === actor && r.child === subject);
  const child = registry.citizens.find((c) => c.bsn === subject);
  if (isParent && child && ageOn(child.birthDate, on) >= PARENTAL_AUTHORITY_AGE)
    return { allowed: false, reason: `the child is ${PARENTAL_AUTHORITY_AGE} or older: a parent needs a registered mandate` };
  return { allowed: false, reason: 'no parent-child relation with a minor and no registered mandate valid on this day' };
}

/** Problems in a registry (unknown people, invalid BSNs or dates); empty when it is consistent. */
export function checkRegistry(registry: MandateRegistry): string[] {
  const problems: string[] = [];
  const known = new Set<string>();
  const date = /^\d{4}-\d{2}-\d{2}$/;
  for (const c of registry.citizens) {
    if (!isValidBsn(c.bsn)) problems.push(`citizen ${c.bsn}: not a valid BSN`);
    if (!date.test(c.birthDate)) problems.push(`citizen ${c.bsn}: birthDate must be YYYY-MM-DD`);
    if (known.has(c.bsn)) problems.push(`citizen ${c.bsn}: listed twice`);
    known.add(c.bsn);
  }
  for (const r of registry.parentChild) {
    if (!known.has(r.parent) || !known.has(r.child)) problems.push(`parent-child ${r.parent}→${r.child}: unknown person`);
    if (r.parent === r.child) problems.push(`parent-child ${r.parent}: a person is not their own parent`);
  }
  for (const m of registry.mandates) {
    if (!known.has(m.representative) || !known.has(m.represented)) problems.push(`mandate ${m.id}: unknown person`);
    if (!date.test(m.validFrom) || (m.validUntil !== undefined && !date.test(m.validUntil))) problems.push(`mandate ${m.id}: dates must be YYYY-MM-DD`);
    if (m.validUntil !== undefined && m.validUntil < m.validFrom) problems.push(`mandate ${m.id}: ends before it starts`);
  }
  return problems;
}
