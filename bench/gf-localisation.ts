/**
 * Localisation index benchmark (ADR 0004).
 *  1. Loads N entries into the gf_localisation table (PostgreSQL: one INSERT … SELECT generate_series;
 *     SQLite: batched inserts), ~3 categories per patient pseudonym, 5,000 custodians.
 *  2. Times the NVI look-up the way a search runs it (LocalisationStore.search: pseudonym + category, and
 *     pseudonym only) for random patients: p50 / p99 / max in ms.
 *  3. Times the per-request crypto around it, in process: PRS evaluate (OPRF + JWE encrypt) and the NVI's
 *     open (JWE decrypt + unblind).
 * Pseudonyms are synthetic (hashes of a counter); no BSN is involved in the store part.
 *
 * Usage: scripts/with-postgres.sh node --import tsx bench/gf-localisation.ts [--entries 10000000] [--queries 5000]
 *        node --import tsx bench/gf-localisation.ts --sqlite [--entries 1000000]
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { sql } from 'kysely';
import pg from 'pg';
import { openEngine } from '../src/storage/engine.ts';
import { ZORGCONTEXT_CODES } from '../src/gf/localisation/categories.ts';
import { LocalisationStore, migrateLocalisation } from '../src/gf/localisation/store.ts';
import { createBlindedInput } from '../src/gf/pseudonym/client.ts';
import { bsnIdentifier } from '../src/gf/pseudonym/identifier.ts';
import { PrsKeyStore } from '../src/gf/pseudonym/keys.ts';
import { PRS_ISSUER, PseudonymService } from '../src/gf/pseudonym/service.ts';
import { RecipientRegistry } from '../src/gf/pseudonym/recipients.ts';
import { PseudonymRecipient } from '../src/gf/pseudonym/recipient.ts';
import { exportJWK, generateKeyPair } from 'jose';

const flag = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = flag('entries', 1_000_000);
const Q = flag('queries', 5000);
const useSqlite = process.argv.includes('--sqlite') || !process.env.SCHAKEL_TEST_PG_URL;
const CATS = [...ZORGCONTEXT_CODES];
const PER_PATIENT = 3;
const pseudonymOf = (p: number) => createHash('sha256').update(`p${p}`).digest('base64url');

function stats(ms: number[]) {
  const s = [...ms].sort((a, b) => a - b);
  const q = (f: number) => s[Math.min(s.length - 1, Math.floor(f * s.length))];
  return { p50: q(0.5).toFixed(3), p99: q(0.99).toFixed(3), max: s[s.length - 1].toFixed(3) };
}

async function main() {
  let cleanup: () => Promise<void>;
  let engine;
  if (useSqlite) {
    const dir = mkdtempSync(join(tmpdir(), 'schakel-bench-nvi-'));
    engine = openEngine({ db: 'sqlite', sqliteFile: join(dir, 'nvi.db') });
    cleanup = async () => rmSync(dir, { recursive: true, force: true });
  } else {
    const base = process.env.SCHAKEL_TEST_PG_URL!;
    const name = `bench_nvi_${process.pid}`;
    const admin = new pg.Client({ connectionString: base });
    await admin.connect();
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const url = new URL(base);
    url.pathname = `/${name}`;
    engine = openEngine({ db: 'postgres', dbUrl: url.toString() });
    cleanup = async () => {
      const c = new pg.Client({ connectionString: base });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    };
  }
  const db = engine.db;
  await migrateLocalisation(db);
  const store = new LocalisationStore(db);
  const t0 = performance.now();
  if (engine.dialect === 'postgres') {
    // Same value shapes as the application writes: base64url SHA-256 pseudonyms, UUID-like ids.
    const cats = sql.raw(`ARRAY[${CATS.map((c) => `'${c}'`).join(',')}]`);
    await sql`INSERT INTO gf_localisation (tenant, id, pseudonym, category, custodian, source, last_updated)
      SELECT 'national-nvi', md5(i::text)::uuid::text,
             rtrim(translate(encode(sha256(convert_to('p' || (i / ${PER_PATIENT})::text, 'UTF8')), 'base64'), '+/', '-_'), '='),
             (${cats})[1 + ((i / ${PER_PATIENT}) + (i % ${PER_PATIENT}) * 7) % ${CATS.length}],
             lpad(((i * 7919) % 5000)::text, 8, '0'), 'client-' || ((i * 7919) % 5000)::text, '2026-01-01T00:00:00Z'
      FROM generate_series(0::bigint, ${N - 1}::bigint) AS i
      ON CONFLICT DO NOTHING`.execute(db);
    await sql`ANALYZE gf_localisation`.execute(db);
  } else {
    const B = 1000;
    for (let start = 0; start < N; start += B) {
      const rows = [];
      for (let i = start; i < Math.min(N, start + B); i++) {
        const p = Math.floor(i / PER_PATIENT);
        rows.push({ tenant: 'national-nvi', id: createHash('md5').update(String(i)).digest('hex'), pseudonym: pseudonymOf(p), category: CATS[(p + (i % PER_PATIENT) * 7) % CATS.length], custodian: String((i * 7919) % 5000).padStart(8, '0'), source: `client-${(i * 7919) % 5000}`, last_updated: '2026-01-01T00:00:00Z' });
      }
      await store.db.insertInto('gf_localisation').values(rows).onConflict((oc) => oc.doNothing()).execute();
    }
  }
  const loadS = (performance.now() - t0) / 1000;
  const count = await store.count();
  console.log(`engine ${engine.dialect}; entries ${count} (${(N / PER_PATIENT) | 0} patients); load ${loadS.toFixed(1)} s`);

  // Sanity: a known patient's entries are found (the SQL and the JS pseudonym derivation agree).
  const probe = await store.search({ pseudonym: pseudonymOf(1), limit: 100 });
  if (probe.entries.length === 0) throw new Error('probe patient not found: generator mismatch');

  const patients = Math.floor(N / PER_PATIENT);
  const withCat: number[] = [];
  const onlySubject: number[] = [];
  let hits = 0;
  for (let q = 0; q < Q; q++) {
    const p = Math.floor(Math.random() * patients);
    const cat = CATS[(p + (q % PER_PATIENT) * 7) % CATS.length];
    let t = performance.now();
    const r = await store.search({ pseudonym: pseudonymOf(p), categories: [cat], limit: 100 });
    withCat.push(performance.now() - t);
    hits += r.entries.length;
    t = performance.now();
    await store.search({ pseudonym: pseudonymOf(p), limit: 100 });
    onlySubject.push(performance.now() - t);
  }
  console.log(`lookup pseudonym+code  (${Q} queries, ${hits} hits): ms ${JSON.stringify(stats(withCat))}`);
  console.log(`lookup pseudonym only  (${Q} queries): ms ${JSON.stringify(stats(onlySubject))}`);

  // Crypto around each request.
  const { publicKey, privateKey } = await generateKeyPair('RSA-OAEP-256', { modulusLength: 2048, extractable: true });
  const org = 'ura:90000901';
  const scope = 'nationale-verwijsindex';
  const prs = new PseudonymService({ keys: PrsKeyStore.open(), recipients: new RecipientRegistry({ entries: [{ organization: org, scopes: [scope], publicJwk: await exportJWK(publicKey) }] }) });
  const nvi = new PseudonymRecipient({ organization: org, scopes: [scope], privateKey, issuer: PRS_ISSUER });
  const evalMs: number[] = [];
  const openMs: number[] = [];
  for (let i = 0; i < 300; i++) {
    const input = createBlindedInput(bsnIdentifier(String(100000000 + i)), { organization: org, scope });
    let t = performance.now();
    const r = await prs.evaluate({ blinded_input: input.blinded_input, recipient_organization: org, recipient_scope: scope });
    evalMs.push(performance.now() - t);
    t = performance.now();
    await nvi.open(r.evaluated_output, input.blind_factor);
    openMs.push(performance.now() - t);
  }
  console.log(`PRS evaluate (OPRF + JWE encrypt): ms ${JSON.stringify(stats(evalMs))}`);
  console.log(`NVI open (JWE decrypt + unblind):  ms ${JSON.stringify(stats(openMs))}`);
  await engine.close();
  await cleanup();
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
