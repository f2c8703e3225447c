/** Small FHIR datatype builders shared by all resource builders (names, addresses, references, quantities). */
import type { Address, CodeableConcept, Coding, ContactPoint, HumanName, Quantity, Reference } from 'fhir/r4';
import { UCUM } from '../data/terminology.ts';

export const cc = (coding: Coding, text?: string): CodeableConcept => (text ? { coding: [coding], text } : { coding: [coding] });

export function ref(type: string, id: string, display?: string): Reference {
  return display ? { reference: `${type}/${id}`, type, display } : { reference: `${type}/${id}`, type };
}

export function qty(value: number, unit: string, code = unit): Quantity {
  return { value, unit, system: UCUM, code };
}

export interface DutchName {
  given: string[];
  /** Roepnaam (what people call them), usually the first given name. */
  callName: string;
  prefix: string;
  family: string;
}

export const fullFamily = (n: DutchName): string => (n.prefix ? `${n.prefix} ${n.family}` : n.family);
export const initials = (n: DutchName): string => n.given.map((g) => `${g[0]}.`).join('');
export const displayName = (n: DutchName): string => `${n.callName} ${fullFamily(n)}`;

/**
 * nl-core NameInformation: official name with own-prefix/own-name parts and given names qualified as
 * birth names (BR); plus the usual (call) name.
 */
export function humanNames(n: DutchName): HumanName[] {
  const familyExt = [
    ...(n.prefix ? [{ url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix', valueString: n.prefix }] : []),
    { url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-name', valueString: n.family },
  ];
  return [
    {
      use: 'official',
      text: `${n.given.join(' ')} ${fullFamily(n)}`,
      family: fullFamily(n),
      _family: { extension: familyExt },
      given: n.given,
      _given: n.given.map(() => ({
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier', valueCode: 'BR' }],
      })),
    } as HumanName,
    { use: 'usual', given: [n.callName] },
  ];
}

/** Professionals are usually recorded with initials only, as in the zib examples. */
export function professionalName(n: DutchName): HumanName[] {
  const familyExt = [
    ...(n.prefix ? [{ url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-prefix', valueString: n.prefix }] : []),
    { url: 'http://hl7.org/fhir/StructureDefinition/humanname-own-name', valueString: n.family },
  ];
  const init = n.given.map((g) => `${g[0]}.`);
  return [
    {
      use: 'official',
      text: `${init.join('')} ${fullFamily(n)}`,
      family: fullFamily(n),
      _family: { extension: familyExt },
      given: init,
      _given: init.map(() => ({
        extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/iso21090-EN-qualifier', valueCode: 'IN' }],
      })),
    } as HumanName,
  ];
}

export interface DutchAddress {
  street: string;
  houseNumber: string;
  postcode: string;
  city: string;
  municipality: string;
}

/** nl-core AddressInformation: street and house number as ADXP parts, address type (HP/WP) as extension. */
export function address(a: DutchAddress, kind: 'home' | 'work'): Address {
  const code = kind === 'home' ? { code: 'HP', display: 'Primary Home' } : { code: 'WP', display: 'Work Place' };
  return {
    extension: [
      {
        url: 'http://nictiz.nl/fhir/StructureDefinition/ext-AddressInformation.AddressType',
        valueCodeableConcept: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-AddressUse', ...code }] },
      },
    ],
    use: kind,
    ...(kind === 'home' ? { type: 'both' as const } : {}),
    line: [`${a.street} ${a.houseNumber}`],
    _line: [
      {
        extension: [
          { url: 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-streetName', valueString: a.street },
          { url: 'http://hl7.org/fhir/StructureDefinition/iso21090-ADXP-houseNumber', valueString: a.houseNumber },
        ],
      },
    ],
    city: a.city,
    district: a.municipality,
    postalCode: a.postcode,
    country: 'Nederland',
    _country: {
      extension: [
        {
          url: 'http://nictiz.nl/fhir/StructureDefinition/ext-CodeSpecification',
          valueCodeableConcept: { coding: [{ system: 'urn:iso:std:iso:3166', code: 'NL', display: 'Nederland' }] },
        },
      ],
    },
  } as Address;
}

export const phone = (value: string, use: ContactPoint['use']): ContactPoint => ({ system: 'phone', value, use });
