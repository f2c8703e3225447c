/** Test citizens and relations for the mandate rules and the citizen IdP (BSNs pass the eleven test; all fictional). */
import type { MandateRegistry } from '../../../src/gf/auth/mandates.ts';

/** The n-th valid BSN in the 999xxxxxx test range. */
export function testBsn(n: number): string {
  for (let i = n * 10; ; i++) {
    const head = `999${String(i).padStart(5, '0')}`;
    let sum = 0;
    for (let k = 0; k < 8; k++) sum += Number(head[k]) * (9 - k);
    const check = sum % 11;
    if (check <= 9) return head + String(check);
  }
}

export const TODAY = new Date('2026-06-15T12:00:00Z');

export const BSN = {
  parent: testBsn(1),
  child15: testBsn(2), // turns 16 tomorrow
  child16: testBsn(3), // turned 16 today
  carer: testBsn(4),
  elder: testBsn(5),
  neighbour: testBsn(6),
  expiredCarer: testBsn(7),
};

export const REGISTRY: MandateRegistry = {
  citizens: [
    { bsn: BSN.parent, given: 'Petra', family: 'de Vries', birthDate: '1985-03-02' },
    { bsn: BSN.child15, given: 'Sem', family: 'de Vries', birthDate: '2010-06-16' },
    { bsn: BSN.child16, given: 'Lotte', family: 'de Vries', birthDate: '2010-06-15' },
    { bsn: BSN.carer, given: 'Ahmed', family: 'El Amrani', birthDate: '1970-11-20' },
    { bsn: BSN.elder, given: 'Johanna', family: 'Bakker', birthDate: '1938-01-09' },
    { bsn: BSN.neighbour, given: 'Kees', family: 'Visser', birthDate: '1960-07-07' },
    { bsn: BSN.expiredCarer, given: 'Ria', family: 'Smit', birthDate: '1965-05-05' },
  ],
  parentChild: [
    { parent: BSN.parent, child: BSN.child15 },
    { parent: BSN.parent, child: BSN.child16 },
  ],
  mandates: [
    { id: 'm-1', representative: BSN.carer, represented: BSN.elder, kind: 'mantelzorger', validFrom: '2025-01-01' },
    { id: 'm-2', representative: BSN.expiredCarer, represented: BSN.elder, kind: 'mantelzorger', validFrom: '2024-01-01', validUntil: '2025-12-31' },
  ],
};
