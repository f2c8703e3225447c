/**
 * The care landscape of a synthetic region: one tenant per care organisation, of every sector, each with its
 * Organization (URA + AGB + organisation type), Location, Endpoint, HealthcareServices, Practitioners and
 * PractitionerRoles. Also the health insurers (Payer organisations) patients are covered by.
 *
 * Sizes follow Dutch ratios roughly: ~2,300 listed patients per GP practice FTE (practices of 2–4 GPs),
 * one community pharmacy per ~8,000 inhabitants, one general hospital per ~200,000.
 */
import type {
  Endpoint,
  HealthcareService,
  Location,
  Organization,
  Practitioner,
  PractitionerRole,
  Resource,
} from 'fhir/r4';
import { address, cc, professionalName, ref, type DutchAddress } from './builders/common.ts';
import type { City, RegionGeo } from './data/places.ts';
import {
  AGB_PREFIX_BY_SECTOR,
  AGB_SPECIALISM,
  AGB_SPECIALISMS,
  ORG_TYPE,
  ORG_TYPE_BY_SECTOR,
  ROLES,
  UZI_ROLE,
  type RoleKey,
  type Sector,
} from './data/terminology.ts';
import { AGB_SYSTEM, BIG_SYSTEM, IdentifierFactory, URA_SYSTEM, UZI_SYSTEM, UZOVI_SYSTEM } from './identifiers.ts';
import { pickCity, randomAddress, randomName, randomPhone, type Sex } from './people.ts';
import type { Rng } from './prng.ts';
import { meta, PROFILE } from './profiles.ts';

export const ALL_SECTORS: readonly Sector[] = ['gp', 'hap', 'hospital', 'pharmacy', 'lab', 'vvt', 'ggz', 'ambulance'];

export interface Professional {
  key: RoleKey;
  practitioner: Practitioner;
  role: PractitionerRole;
  /** `PractitionerRole/<id>` reference with a display, ready to use in clinical resources. */
  display: string;
}

export interface Department {
  key: string;
  organization: Organization;
}

export interface Tenant {
  /** Directory-safe id, also the FHIR tenant name in the endpoint URL. */
  id: string;
  name: string;
  sector: Sector;
  ura: string;
  agb: string;
  city: City;
  address: DutchAddress;
  organization: Organization;
  departments: Department[];
  location: Location;
  endpoint: Endpoint;
  services: HealthcareService[];
  staff: Professional[];
}

export interface Insurer {
  organization: Organization;
  uzovi: string;
  /** Market share weight. */
  weight: number;
}

export interface Region {
  name: string;
  geo: RegionGeo;
  tenants: Tenant[];
  bySector: Record<Sector, Tenant[]>;
  insurers: Insurer[];
  /** Every directory resource by `Type/id`, for copying into the tenants that reference it. */
  directory: Map<string, Resource>;
}

const NAME_PARTS: Record<Sector, readonly string[]> = {
  gp: ['De Linde', 'Het Kastanjehof', 'De Brink', 'Oost', 'Centrum', 'De Akker', 'Zuiderpark', 'De Molen', 'Het Plein', 'De Vaart'],
  hap: ['Huisartsenpost'],
  hospital: ['Ziekenhuis'],
  pharmacy: ['De Gaper', 'Het Hert', 'De Vijzel', 'Centrum', 'De Kroon', 'Oost', 'De Eenhoorn', 'Marktplein'],
  lab: ['Regionaal Laboratorium'],
  vvt: ['Zorggroep De Bongerd', 'Thuiszorg Het Anker', 'Woonzorg De Hoven', 'Zorgcentrum Rosendael'],
  ggz: ['GGZ'],
  ambulance: ['Regionale Ambulancevoorziening'],
};

const STAFF: Record<Sector, readonly (readonly [RoleKey, number])[]> = {
  gp: [['gp', 3], ['nurse', 1]],
  hap: [['gp', 4], ['nurse', 2]],
  hospital: [['internist', 2], ['cardiologist', 2], ['pulmonologist', 2], ['surgeon', 2], ['orthopedist', 1], ['emergencyPhysician', 2], ['nurse', 3]],
  pharmacy: [['pharmacist', 2], ['pharmacyAssistant', 1]],
  lab: [['clinicalChemist', 2]],
  vvt: [['elderlyCarePhysician', 1], ['nurse', 3], ['careAssistant', 2]],
  ggz: [['psychiatrist', 2], ['healthPsychologist', 2], ['mentalHealthNurse', 1]],
  ambulance: [['nurse', 3], ['paramedic', 2]],
};

/** Hospital departments as sub-organisations (partOf the hospital), with their AGB specialism where known. */
const HOSPITAL_DEPARTMENTS: readonly { key: string; name: string; specialism?: { code: string; display: string } }[] = [
  { key: 'cardiology', name: 'Cardiologie', specialism: AGB_SPECIALISMS.cardiology },
  { key: 'internal', name: 'Interne geneeskunde' },
  { key: 'pulmonology', name: 'Longziekten' },
  { key: 'surgery', name: 'Chirurgie' },
  { key: 'emergency', name: 'Spoedeisende Hulp' },
];

const SERVICE_NAMES: Record<Sector, readonly string[]> = {
  gp: ['Huisartsenzorg', 'Praktijkondersteuning chronische zorg'],
  hap: ['Spoedzorg huisarts buiten kantoortijden'],
  hospital: ['Poliklinische zorg', 'Klinische opname', 'Spoedeisende hulp'],
  pharmacy: ['Terhandstelling geneesmiddelen', 'Medicatiebeoordeling'],
  lab: ['Klinisch-chemisch laboratoriumonderzoek'],
  vvt: ['Wijkverpleging', 'Verpleeghuiszorg'],
  ggz: ['Basis-GGZ', 'Specialistische GGZ'],
  ambulance: ['Ambulancezorg (A1/A2/B)'],
};

const SERVICE_SPECIALISM: Partial<Record<Sector, { code: string; display: string }>> = {
  gp: AGB_SPECIALISMS.gp,
  hap: AGB_SPECIALISMS.gp,
  pharmacy: AGB_SPECIALISMS.pharmacy,
  vvt: AGB_SPECIALISMS.nursing,
};

export interface RegionCounts {
  gp: number;
  pharmacy: number;
  hospital: number;
  vvt: number;
  hap: number;
  lab: number;
  ggz: number;
  ambulance: number;
}

export function tenantCounts(patients: number): RegionCounts {
  return {
    gp: Math.max(2, Math.ceil(patients / 7000)),
    pharmacy: Math.max(1, Math.ceil(patients / 8000)),
    hospital: Math.max(1, Math.ceil(patients / 200_000)),
    vvt: Math.max(1, Math.ceil(patients / 40_000)),
    hap: Math.max(1, Math.ceil(patients / 250_000)),
    lab: 1,
    ggz: 1,
    ambulance: 1,
  };
}

function tenantName(sector: Sector, index: number, city: City, rng: Rng): string {
  const part = NAME_PARTS[sector][index % NAME_PARTS[sector].length];
  switch (sector) {
    case 'gp':
      return `Huisartsenpraktijk ${part}${index >= NAME_PARTS.gp.length ? ` ${Math.floor(index / NAME_PARTS.gp.length) + 1}` : ''}`;
    case 'pharmacy':
      return `Apotheek ${part}${index >= NAME_PARTS.pharmacy.length ? ` ${Math.floor(index / NAME_PARTS.pharmacy.length) + 1}` : ''}`;
    case 'hospital':
      return `${rng.pick(['Sint Antonius', 'Diakonessenhuis', 'Meander', 'Gelre', 'Rivierenland'])} ${part} ${city.name}`;
    case 'hap':
      return `${part} ${city.name}`;
    case 'lab':
      return `${part} ${city.name}`;
    case 'ggz':
      return `${part} ${city.name}`;
    case 'ambulance':
      return `${part} ${city.name}`;
    case 'vvt':
      return index < NAME_PARTS.vvt.length ? part : `${part} ${index + 1}`;
  }
}

export function buildRegion(rng: Rng, geo: RegionGeo, patients: number): Region {
  const ids = new IdentifierFactory(rng.fork('identifiers'));
  const counts = tenantCounts(patients);
  const directory = new Map<string, Resource>();
  const put = (r: Resource) => directory.set(`${r.resourceType}/${r.id}`, r);
  const tenants: Tenant[] = [];
  const bySector = Object.fromEntries(ALL_SECTORS.map((s) => [s, [] as Tenant[]])) as unknown as Record<Sector, Tenant[]>;
  const biggest = geo.cities.reduce((a, b) => (b.weight > a.weight ? b : a));

  for (const sector of ALL_SECTORS) {
    for (let i = 0; i < counts[sector]; i++) {
      const trng = rng.fork(`tenant/${sector}/${i}`);
      // Regional functions (hospital, lab, HAP, GGZ, ambulance) sit in the largest city; practices are spread.
      const spread = sector === 'gp' || sector === 'pharmacy' || sector === 'vvt';
      const city = spread ? pickCity(trng, geo) : biggest;
      const id = `${sector}-${String(i + 1).padStart(2, '0')}`;
      const tenant = buildTenant(trng, ids, id, sector, tenantName(sector, i, city, trng), city);
      tenants.push(tenant);
      bySector[sector].push(tenant);
      for (const r of [tenant.organization, tenant.location, tenant.endpoint, ...tenant.services]) put(r);
      for (const d of tenant.departments) put(d.organization);
      for (const s of tenant.staff) {
        put(s.practitioner);
        put(s.role);
      }
    }
  }

  const insurers = buildInsurers(rng.fork('insurers'), ids, geo);
  for (const ins of insurers) put(ins.organization);
  return { name: geo.name, geo, tenants, bySector, insurers, directory };
}

function buildTenant(rng: Rng, ids: IdentifierFactory, id: string, sector: Sector, name: string, city: City): Tenant {
  const ura = ids.ura();
  const agb = ids.agb(AGB_PREFIX_BY_SECTOR[sector]);
  const addr = randomAddress(rng, city);
  const tel = randomPhone(rng, city, false);
  const orgType = ORG_TYPE_BY_SECTOR[sector];
  const orgId = `org-${id}`;
  const endpointId = `ep-${id}`;
  const specialism = SERVICE_SPECIALISM[sector];

  const organization: Organization = {
    resourceType: 'Organization',
    id: orgId,
    meta: meta(PROFILE.organization),
    identifier: [
      { system: URA_SYSTEM, value: ura },
      { system: AGB_SYSTEM, value: agb },
    ],
    active: true,
    type: [
      ...(specialism ? [cc({ system: AGB_SPECIALISM, ...specialism })] : []),
      cc({ system: ORG_TYPE, code: orgType.code, display: orgType.display }),
    ],
    name,
    telecom: [{ system: 'phone', value: tel, use: 'work' }],
    address: [address(addr, 'work')],
    endpoint: [ref('Endpoint', endpointId, `FHIR endpoint ${name}`)],
  };

  const orgRef = ref('Organization', orgId, name);
  const endpoint: Endpoint = {
    resourceType: 'Endpoint',
    id: endpointId,
    meta: meta(PROFILE.endpoint),
    status: 'active',
    connectionType: { system: 'http://terminology.hl7.org/CodeSystem/endpoint-connection-type', code: 'hl7-fhir-rest' },
    name: `FHIR endpoint ${name}`,
    managingOrganization: orgRef,
    payloadType: [cc({ system: 'http://terminology.hl7.org/CodeSystem/endpoint-payload-type', code: 'any', display: 'Any' })],
    payloadMimeType: ['application/fhir+json'],
    // A placeholder the platform substitutes with its public base URL when loading the region.
    address: `{base}/fhir/${id}`,
  };

  const locationId = `loc-${id}`;
  const location: Location = {
    resourceType: 'Location',
    id: locationId,
    meta: meta(PROFILE.location),
    status: 'active',
    name,
    telecom: [{ system: 'phone', value: tel, use: 'work' }],
    address: address(addr, 'work'),
    managingOrganization: orgRef,
  };

  const departments: Department[] =
    sector === 'hospital'
      ? HOSPITAL_DEPARTMENTS.map((d) => ({
          key: d.key,
          organization: {
            resourceType: 'Organization',
            id: `org-${id}-${d.key}`,
            meta: meta(PROFILE.organization),
            active: true,
            type: [
              ...(d.specialism ? [cc({ system: AGB_SPECIALISM, ...d.specialism })] : []),
              cc({ system: ORG_TYPE, code: orgType.code, display: orgType.display }),
            ],
            name: `${name}, ${d.name}`,
            partOf: orgRef,
          } satisfies Organization,
        }))
      : [];

  const services: HealthcareService[] = SERVICE_NAMES[sector].map((svc, i) => ({
    resourceType: 'HealthcareService',
    id: `hcs-${id}-${i + 1}`,
    meta: meta(PROFILE.healthcareService),
    active: true,
    providedBy: orgRef,
    type: [{ text: svc }],
    ...(specialism ? { specialty: [cc({ system: AGB_SPECIALISM, ...specialism })] } : {}),
    location: [ref('Location', locationId, name)],
    name: svc,
    telecom: [{ system: 'phone', value: tel, use: 'work' }],
    endpoint: [ref('Endpoint', endpointId)],
  }));

  const staff: Professional[] = [];
  for (const [key, n] of STAFF[sector]) {
    for (let k = 0; k < n; k++) {
      staff.push(buildProfessional(rng, ids, `${id}-${staff.length + 1}`, key, orgRef, locationId, name, services[0].id!, tel));
    }
  }

  return { id, name, sector, ura, agb, city, address: addr, organization, departments, location, endpoint, services, staff };
}

function buildProfessional(
  rng: Rng,
  ids: IdentifierFactory,
  id: string,
  key: RoleKey,
  orgRef: ReturnType<typeof ref>,
  locationId: string,
  orgName: string,
  serviceId: string,
  tel: string,
): Professional {
  const role = ROLES[key];
  const sex: Sex = rng.chance(0.55) ? 'female' : 'male';
  const name = randomName(rng, sex);
  const practitionerId = `prac-${id}`;
  const practitioner: Practitioner = {
    resourceType: 'Practitioner',
    id: practitionerId,
    meta: meta(PROFILE.practitioner),
    identifier: [
      { system: UZI_SYSTEM, value: ids.uzi() },
      { system: AGB_SYSTEM, value: ids.agb(role.agbPrefix) },
      { system: BIG_SYSTEM, value: ids.big() },
    ],
    active: true,
    name: professionalName(name),
    gender: sex,
    telecom: [{ system: 'phone', value: tel, use: 'work' }],
  };
  const display = `${professionalName(name)[0].text}, ${role.display}, ${orgName}`;
  const practitionerRole: PractitionerRole = {
    resourceType: 'PractitionerRole',
    id: `prrole-${id}`,
    meta: meta(PROFILE.practitionerRole),
    active: true,
    practitioner: ref('Practitioner', practitionerId, professionalName(name)[0].text),
    organization: orgRef,
    specialty: [cc({ system: UZI_ROLE, code: role.code, display: role.display })],
    location: [ref('Location', locationId, orgName)],
    healthcareService: [ref('HealthcareService', serviceId)],
    telecom: [{ system: 'phone', value: tel, use: 'work' }],
  };
  return { key, practitioner, role: practitionerRole, display };
}

const INSURER_NAMES: readonly [string, number][] = [
  ['Zorgverzekeraar Polderzorg', 30],
  ['Zorgverzekeraar Duinzicht', 25],
  ['Zorgverzekeraar Rivierland', 20],
  ['Zorgverzekeraar Lage Landen', 15],
  ['Onderlinge Zorgverzekeraar Oranje', 10],
];

function buildInsurers(rng: Rng, ids: IdentifierFactory, geo: RegionGeo): Insurer[] {
  return INSURER_NAMES.map(([name, weight], i) => {
    const uzovi = ids.uzovi();
    const city = geo.cities[0];
    return {
      uzovi,
      weight,
      organization: {
        resourceType: 'Organization',
        id: `payer-${i + 1}`,
        meta: meta(PROFILE.payerOrganization),
        identifier: [{ system: UZOVI_SYSTEM, value: uzovi }],
        name,
        telecom: [{ system: 'phone', value: randomPhone(rng, city, false), use: 'work' }],
        address: [address(randomAddress(rng, city), 'work')],
      },
    };
  });
}

export const staffOf = (t: Tenant, key: RoleKey): Professional[] => t.staff.filter((s) => s.key === key);
