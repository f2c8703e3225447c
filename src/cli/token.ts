/**
 * `schakel token`: asks a token server for an access token as one of the organisations whose keys are in the data
 * directory, and prints it — so a person can try the secured API with curl. Uses the same client as the nodes
 * (private_key_jwt with the organisation's certificate in x5c).
 */
import { KeyStore } from '../gf/auth/pki.ts';
import { OrganisationTokens, TokenRequestError } from '../gf/auth/token-client.ts';
import { PURPOSES, type PurposeOfUse } from '../gf/auth/claims.ts';
import { NATIONAL_SERVICES, SERVICE_SCOPES, nationalPaths, type NationalService } from '../roles/national.ts';
import { UsageError, parse } from './args.ts';

export const TOKEN_HELP = `Usage: schakel token --org URA (--tenant T | --national SERVICE) [options]

Prints an access token for organisation URA (its keys must be in DIR/keys, as 'schakel demo' and 'schakel keys'
make them), e.g.:
  curl -H "Authorization: Bearer $(schakel token --org 90000002 --tenant huisarts --data data/demo)" \\
       http://127.0.0.1:8080/fhir/huisarts/Patient
Options:
  --org URA           the organisation asking (8 digits)
  --tenant T          a token for the provider tenant T (issuer URL/auth/T)
  --national SERVICE  a token for a national service: ${NATIONAL_SERVICES.join(', ')}
  --url ORIGIN        the node (default http://127.0.0.1:8080)
  --data DIR          data directory with the keys (default ./data/demo)
  --scope S           scope (default system/*.read, or the service's first scope)
  --uzi N --role R    on behalf of a professional: UZI number and role code (e.g. 01.015)
  --purpose P         purpose of use: ${PURPOSES.join(', ')} (default treatment with --uzi)
  --treatment-relation  the professional attests a treatment relation with the patient (needed for treatment)
`;

export async function tokenCommand(argv: string[], write: (s: string) => void = (s) => void process.stdout.write(s)): Promise<number> {
  const { values, flags } = parse(argv, {
    org: { type: 'string' },
    tenant: { type: 'string' },
    national: { type: 'string' },
    url: { type: 'string' },
    data: { type: 'string' },
    scope: { type: 'string' },
    uzi: { type: 'string' },
    role: { type: 'string' },
    purpose: { type: 'string' },
    'treatment-relation': { type: 'boolean' },
  });
  if (values.help) {
    write(TOKEN_HELP);
    return 0;
  }
  const ura = values.org;
  if (!ura || !/^\d{8}$/.test(ura)) throw new UsageError(ura ? `--org '${ura}' is not a URA (8 digits)` : '--org URA is required');
  if (!values.tenant === !values.national) throw new UsageError('give exactly one of --tenant T or --national SERVICE');
  if (values.national && !(NATIONAL_SERVICES as readonly string[]).includes(values.national)) throw new UsageError(`--national '${values.national}' is not one of ${NATIONAL_SERVICES.join(', ')}`);
  if ((values.uzi === undefined) !== (values.role === undefined)) throw new UsageError('--uzi and --role go together');
  if (flags['treatment-relation'] && !values.uzi) throw new UsageError('--treatment-relation is attested by a professional: give --uzi and --role');
  if (values.purpose !== undefined && !(PURPOSES as readonly string[]).includes(values.purpose)) throw new UsageError(`--purpose '${values.purpose}' is not one of ${PURPOSES.join(', ')}`);
  const url = (values.url ?? 'http://127.0.0.1:8080').replace(/\/+$/, '');
  const keys = new KeyStore(values.data ?? 'data/demo');
  if (!keys.org(ura)) throw new UsageError(`no keys for organisation ${ura} in ${keys.dir}`);
  const service = values.national as NationalService | undefined;
  const tokenEndpoint = service ? nationalPaths(url).token(service) : `${url}/auth/${encodeURIComponent(values.tenant!)}/token`;
  try {
    const token = await new OrganisationTokens(keys).token({
      ura,
      tokenEndpoint,
      scope: values.scope ?? (service ? SERVICE_SCOPES[service][0] : 'system/*.read'),
      person: values.uzi ? { uziNr: values.uzi, uziRolcode: values.role! } : undefined,
      purposeOfUse: (values.purpose ?? (values.uzi ? 'treatment' : undefined)) as PurposeOfUse | undefined,
      treatmentRelation: flags['treatment-relation'],
    });
    write(`${token}\n`);
    return 0;
  } catch (e) {
    if (e instanceof TokenRequestError) throw new Error(`${e.error}: ${e.message}`, { cause: e });
    throw e;
  }
}
