/**
 * WHERE CONSENT IS DECIDED. The closed question (may this consulter see this holder's data of this category,
 * for this purpose, now?) and the open question (which holders may this consulter see?) are answered here,
 * and only here, from a patient's compiled rules (model.ts) and the catalogue (catalogue.ts).
 *
 * Precedence, in order:
 *  1. Only rules in force count: consent status active, `at` within provision.period, data category covered
 *     (a consent for a higher category covers the lower ones: GGC002 covers GGC012), purpose covered
 *     (TREAT covers ETREAT), holder and consulter matching (named URA, or category, or unrestricted).
 *  2. An objection — a deny that names neither holder nor consulter — beats any consent.
 *  3. Otherwise the most specific rules decide: a named URA beats a category, a category beats "anyone";
 *     specificity = holder level + consulter level (URA 2, category 1, anyone 0).
 *  4. Among rules of equal specificity, deny wins.
 *  5. Where no rule applies, a legal basis from the catalogue (e.g. emergency) permits where configured;
 *     a basis marked overridesObjection also turns a deny into a permit. The decision names the basis.
 *  6. Otherwise NotApplicable: no choice recorded. Callers treat it as "no consent" (fail closed).
 */
import { SYSTEMS, type CatalogueIndex, type LegalBasis } from './catalogue.ts';
import type { ActorMatch, ConsentRule } from './model.ts';

export type DecisionCode = 'Permit' | 'Deny' | 'NotApplicable';

export interface Party {
  ura?: string;
  /** Provider category (RPZAC code). */
  category?: string;
}

/** The closed question with the patient already resolved to their rules. */
export interface ClosedQuestion {
  holder: Party;
  consulter: Party;
  dataCategory: string;
  purpose: string;
  /** Epoch ms. */
  at: number;
}

export interface DecisionBasis {
  /** 'explicit-consent' | 'explicit-deny' | 'objection' | 'none' | a legal-basis code from the catalogue. */
  code: string;
  system: string;
  display: string;
  source?: string;
}

export interface Decision {
  decision: DecisionCode;
  reason: string;
  basis: DecisionBasis;
  /** The Consents that determined the answer (also the overridden ones when a legal basis applied). */
  consentIds: string[];
}

const basis = (code: string, display: string): DecisionBasis => ({ code, system: SYSTEMS.legalBasis, display });
const fromLegal = (b: LegalBasis): DecisionBasis => ({ code: b.code, system: SYSTEMS.legalBasis, display: b.display, source: b.source });
const ids = (rules: ConsentRule[]) => [...new Set(rules.map((r) => r.consentId))];

function partyMatches(m: ActorMatch, p: Party): boolean {
  if (m.kind === 'any') return true;
  if (m.kind === 'ura') return p.ura !== undefined && m.ura === p.ura;
  return p.category !== undefined && m.code === p.category;
}

const level = (m: ActorMatch): number => (m.kind === 'ura' ? 2 : m.kind === 'category' ? 1 : 0);

function applies(r: ConsentRule, q: ClosedQuestion, cat: CatalogueIndex): boolean {
  if (r.start !== undefined && q.at < r.start) return false;
  if (r.end !== undefined && q.at > r.end) return false;
  if (r.categories && !r.categories.some((c) => cat.categoryCovers(c, q.dataCategory))) return false;
  if (r.purposes && !r.purposes.some((p) => cat.purposeCovers(p, q.purpose))) return false;
  return partyMatches(r.holder, q.holder) && partyMatches(r.consulter, q.consulter);
}

function legalBasisFor(q: ClosedQuestion, cat: CatalogueIndex, againstObjection: boolean): LegalBasis | undefined {
  for (const b of cat.catalogue.legalBases) {
    if (againstObjection && !b.overridesObjection) continue;
    if (!b.dataCategories.some((c) => cat.categoryCovers(c, q.dataCategory))) continue;
    if (!b.purposes.some((p) => cat.purposeCovers(p, q.purpose))) continue;
    if (b.consulterCategories && (q.consulter.category === undefined || !b.consulterCategories.includes(q.consulter.category))) continue;
    return b;
  }
  return undefined;
}

/** The closed question over one patient's rules. Pure: same rules, question and catalogue → same answer. */
export function decide(rules: readonly ConsentRule[], q: ClosedQuestion, cat: CatalogueIndex): Decision {
  const hits: ConsentRule[] = [];
  for (const r of rules) if (applies(r, q, cat)) hits.push(r);

  const objections = hits.filter((r) => r.objection);
  if (objections.length > 0) return denyUnlessOverridden(q, cat, objections, basis('objection', 'The patient objects to making these data available'), 'objection recorded');

  if (hits.length === 0) {
    const b = legalBasisFor(q, cat, false);
    if (b) return { decision: 'Permit', reason: `no consent recorded; legal basis '${b.code}' applies`, basis: fromLegal(b), consentIds: [] };
    return { decision: 'NotApplicable', reason: 'no consent or objection recorded for this question', basis: basis('none', 'No choice recorded'), consentIds: [] };
  }

  let top = -1;
  for (const r of hits) top = Math.max(top, level(r.holder) + level(r.consulter));
  const winners = hits.filter((r) => level(r.holder) + level(r.consulter) === top);
  const denies = winners.filter((r) => r.type === 'deny');
  if (denies.length > 0) return denyUnlessOverridden(q, cat, denies, basis('explicit-deny', 'The patient refused for this holder/consulter'), `deny at specificity ${top}`);
  return { decision: 'Permit', reason: `consent at specificity ${top}`, basis: basis('explicit-consent', 'The patient consented'), consentIds: ids(winners) };
}

function denyUnlessOverridden(q: ClosedQuestion, cat: CatalogueIndex, denies: ConsentRule[], b: DecisionBasis, reason: string): Decision {
  const legal = legalBasisFor(q, cat, true);
  if (legal) return { decision: 'Permit', reason: `${reason}, overridden by legal basis '${legal.code}'`, basis: fromLegal(legal), consentIds: ids(denies) };
  return { decision: 'Deny', reason, basis: b, consentIds: ids(denies) };
}

export interface OpenQuestion {
  consulter: Party;
  dataCategory: string;
  purpose: string;
  at: number;
  /** Candidate holders (e.g. from the localisation index, with their categories): answered exactly, one by one. */
  holders?: Party[];
}

export interface OpenAnswer {
  /** Holders the consulter may consult: named URAs, and categories ("any holder of this category"). */
  permitted: (Party & { basis: DecisionBasis; consentIds: string[] })[];
  /** Named holders excluded within a permitted category, or candidates that were refused. */
  denied: (Party & { consentIds: string[] })[];
}

/**
 * The open question. With candidates, each is decided exactly (use this with localisation results). Without,
 * the answer summarises the patient's choices: every holder category is decided for an unnamed holder of that
 * category, and every URA the patient named is decided for itself (its category is not known here, so
 * category-level choices are not applied to it; pass candidates for exact answers).
 */
export function openQuestion(rules: readonly ConsentRule[], q: OpenQuestion, cat: CatalogueIndex): OpenAnswer {
  const ask = (holder: Party) => decide(rules, { holder, consulter: q.consulter, dataCategory: q.dataCategory, purpose: q.purpose, at: q.at }, cat);
  const out: OpenAnswer = { permitted: [], denied: [] };
  const candidates: Party[] = q.holders ?? [
    ...[...cat.providerCategories.keys()].map((category) => ({ category })),
    ...[...new Set(rules.flatMap((r) => (r.holder.kind === 'ura' ? [r.holder.ura] : [])))].map((ura) => ({ ura })),
  ];
  for (const h of candidates) {
    const d = ask(h);
    if (d.decision === 'Permit') out.permitted.push({ ...h, basis: d.basis, consentIds: d.consentIds });
    else if (d.decision === 'Deny' || h.ura !== undefined) out.denied.push({ ...h, consentIds: d.consentIds });
  }
  return out;
}
