/** `schakel keys init|issue|rotate|list|jwks`: the test PKI and the per-organisation keys under <data>/keys/. */
import { UsageError, parse } from '../../cli/args.ts';
import { KeyStore } from './pki.ts';

export const KEYS_HELP = `Usage:
  schakel keys init [--data DIR]
  schakel keys issue --org URA --name NAME [--uzi N] [--agb N] [--dns HOST,…] [--ip ADDR,…] [--days N] [--data DIR]
  schakel keys rotate --org URA [--days N] [--data DIR]
  schakel keys list [--org URA] [--data DIR]
  schakel keys jwks --org URA [--data DIR]

Manages the TEST PKI that stands in for UZI server certificates: a test CA and, per care organisation (URA),
ECDSA P-256 keys with X.509 certificates (TLS server + client, signing key for client assertions).
Rotation adds a new key; older keys stay valid, and in the organisation's JWKS, until their certificates expire.
Private keys are written with mode 0600 and never printed.

Options:
  --data DIR     data directory; keys live in DIR/keys (default ./data)
  --org URA      the organisation's URA (8 digits)
  --name NAME    the organisation's name (certificate subject O)
  --uzi N        UZI system number for the certificate (default: random 9 digits)
  --agb N        AGB code for the certificate (default 00000000)
  --dns LIST     DNS names in the certificate, comma-separated (default localhost)
  --ip LIST      IP addresses in the certificate, comma-separated (default 127.0.0.1)
  --days N       certificate validity in days (default 365)
  -h, --help     show this help
`;

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

function days(v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1 || n > 3650) throw new UsageError(`--days '${v}' must be a whole number of days between 1 and 3650`);
  return n;
}

function ura(v: string | undefined, action: string): string {
  if (!v) throw new UsageError(`keys ${action} needs --org URA`);
  if (!/^\d{8}$/.test(v)) throw new UsageError(`--org '${v}' is not a URA (8 digits)`);
  return v;
}

/** `write` receives the command's output (default stdout); tests pass their own. */
export async function keysCommand(argv: string[], write: (text: string) => void = (t) => void process.stdout.write(t)): Promise<number> {
  const { values, positionals } = parse(
    argv,
    {
      data: { type: 'string' },
      org: { type: 'string' },
      name: { type: 'string' },
      uzi: { type: 'string' },
      agb: { type: 'string' },
      dns: { type: 'string' },
      ip: { type: 'string' },
      days: { type: 'string' },
    },
    true,
  );
  const v = values as Record<string, string | undefined>; // string options only (help is handled before)
  if (values.help || positionals.length === 0) {
    write(KEYS_HELP);
    return values.help ? 0 : 2;
  }
  const [action, ...extra] = positionals;
  if (extra.length > 0) throw new UsageError(`Unexpected argument '${extra[0]}'`);
  const store = new KeyStore(v.data ?? 'data');
  const out = (s: string) => write(s + '\n');
  switch (action) {
    case 'init': {
      const r = await store.initCa();
      out(r.created ? `Created test CA in ${store.dir}/ca (ca.cert.pem; private key 0600)` : `Test CA exists already in ${store.dir}/ca; left unchanged`);
      return 0;
    }
    case 'issue': {
      const org = ura(v.org, 'issue');
      if (!v.name) throw new UsageError('keys issue needs --name NAME');
      if (v.uzi !== undefined && !/^\d{1,12}$/.test(v.uzi)) throw new UsageError(`--uzi '${v.uzi}' must be digits`);
      if (v.agb !== undefined && !/^\d{1,12}$/.test(v.agb)) throw new UsageError(`--agb '${v.agb}' must be digits`);
      if (!store.hasCa()) throw new UsageError(`No test CA in ${store.dir}: run 'schakel keys init' first`);
      if (store.org(org)) throw new UsageError(`Organisation ${org} has keys already: use 'schakel keys rotate --org ${org}'`);
      const c = await store.issue(
        { ura: org, name: v.name, uziSys: v.uzi, agb: v.agb, dnsNames: list(v.dns), ipAddresses: list(v.ip) },
        { validityDays: days(v.days) },
      );
      out(`Issued key ${c.kid} for ${org} (${v.name}), certificate valid until ${c.notAfter}`);
      return 0;
    }
    case 'rotate': {
      const org = ura(v.org, 'rotate');
      if (!store.org(org)) throw new UsageError(`Organisation ${org} has no keys: use 'schakel keys issue --org ${org} --name NAME'`);
      const c = await store.rotate(org, { validityDays: days(v.days) });
      const older = store.validKeys(org).filter((k) => k.kid !== c.kid);
      out(`Rotated ${org}: new key ${c.kid}, valid until ${c.notAfter}`);
      for (const k of older) out(`  still valid until expiry: ${k.kid} (until ${k.notAfter})`);
      return 0;
    }
    case 'list': {
      const orgs = v.org ? [store.org(ura(v.org, 'list'))].filter((o) => o !== undefined) : store.list();
      if (orgs.length === 0) out('No organisation keys.');
      const now = new Date();
      for (const o of orgs) {
        out(`${o.ura}\t${o.name}\tUZI ${o.uziSys}\tAGB ${o.agb}`);
        const valid = new Set(store.validKeys(o.ura, now).map((k) => k.kid));
        const current = store.validKeys(o.ura, now)[0]?.kid;
        for (const k of o.keys) out(`  ${k.kid}\t${k.kid === current ? 'current' : valid.has(k.kid) ? 'valid' : 'expired'}\tuntil ${k.notAfter}`);
      }
      return 0;
    }
    case 'jwks': {
      const org = ura(v.org, 'jwks');
      if (!store.org(org)) throw new UsageError(`Organisation ${org} has no keys`);
      out(JSON.stringify(store.jwks(org), null, 2));
      return 0;
    }
    default:
      throw new UsageError(`Unknown keys action '${action}': use init, issue, rotate, list or jwks`);
  }
}
