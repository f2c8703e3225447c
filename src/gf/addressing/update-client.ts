/**
 * Update Client (node side of GF addressing): keeps a local replica of the national directory.
 *
 * Replica: the reserved tenant `local-directory` of the node's own FHIR store, written through `dispatch`
 * (decision: the replica then has search, `_include` and history for free, and the query side — endpoint
 * choice, service lookup — uses ordinary FHIR searches). Directory ids are kept, so references between
 * entries stay valid locally. Each stored entry carries its directory version in `meta.source`
 * (`{directoryBase}/{Type}/{id}/_history/{vid}`), because the local store numbers its own versions.
 *
 * Sync per type (ITI-90 for the initial load, ITI-91 afterwards):
 *   initial load   GET {base}/{Type}?_count=N, then every Bundle.link[next]
 *   incremental    GET {base}/{Type}/_history?_since={watermark}&_count=N, then every next page
 * The watermark is the directory's clock at the start of the round (Bundle.meta.lastUpdated of the first
 * answer, else its Date header) minus `overlapMs`, so writes committed while a round ran are fetched again in
 * the next one; applying twice is harmless because applying is idempotent and version-guarded:
 *   - per page, entries are collapsed to the newest version per resource;
 *   - an entry is written only when its directory version is newer than the replica's (from meta.source, or
 *     from a tombstone for deleted entries) — an older version never overwrites a newer one;
 *   - deletes (should the directory ever report one) delete locally and leave a tombstone; status changes
 *     (`active=false`, Endpoint `status=off`) are ordinary updates.
 * Durable state: watermarks and tombstones live in `Basic/directory-sync-state` in the same tenant, written in
 * the SAME transaction as the entries of each page, with If-Match on its version: a crash never leaves data
 * and watermark out of step, and a second client instance syncing at the same time fails with 412 instead of
 * interleaving. Within one instance `sync()` never runs twice at once (a second call joins the running one).
 * References are not checked on write: an Endpoint whose Organization has not arrived yet is stored and
 * resolves once it has (the report lists such dangling references of the round).
 * HTTP: 429/503 are retried honouring Retry-After (see http.ts).
 */
import type { Basic, Bundle, BundleEntry, Extension, Resource } from 'fhir/r4';
import { FhirError } from '../../fhir/outcome.ts';
import type { FhirResponse, RequestScope } from '../../server/types.ts';
import { isRaw } from '../../server/types.ts';
import { DIRECTORY_TYPES, LOCAL_DIRECTORY_TENANT, type DirectoryType } from './constants.ts';
import type { Dispatch } from './directory.ts';
import { fhirOk, type HttpOptions, type HttpResult } from './http.ts';

const STATE_ID = 'directory-sync-state';
const STATE_EXT = 'urn:schakel:fhir:directory-sync-state';
const STATE_CODE = { system: 'urn:schakel:fhir:directory-sync', code: 'state' };

export interface UpdateClientOptions {
  /** FHIR base of the national directory, e.g. https://…/national/directory/fhir */
  directoryBase: string;
  /** The node's FHIR dispatcher (ProviderNode.dispatch). */
  dispatch: Dispatch;
  /** Replica tenant; default `local-directory`. */
  tenant?: string;
  http?: HttpOptions;
  /** Types to replicate; default the directory types. */
  types?: readonly DirectoryType[];
  /** _count per page; default 100. */
  pageSize?: number;
  /** Re-read window before the previous round's start; default 30 s. */
  overlapMs?: number;
  log?: (msg: string, data?: Record<string, unknown>) => void;
}

export interface TypeReport {
  mode: 'initial' | 'incremental';
  pages: number;
  received: number;
  applied: number;
  /** Entries the replica already had (same or newer version). */
  unchanged: number;
  watermark: string;
}

export interface SyncReport {
  types: Partial<Record<DirectoryType, TypeReport>>;
  /** References of entries applied in this round that do not resolve in the replica (yet). */
  dangling: string[];
  /** Entries the replica refused (invalid), with the reason; the round goes on without them. */
  failed: { entry: string; reason: string }[];
}

interface SyncState {
  directory?: string;
  watermarks: Map<string, string>;
  tombstones: Map<string, string>;
  /** Local version of the state resource, for If-Match. */
  version?: string;
}

interface Incoming {
  type: string;
  id: string;
  versionId: string;
  resource?: Resource;
  deleted: boolean;
}

export class ConcurrentSyncError extends Error {
  constructor() {
    super('Another update client changed the replica state during this sync round; the round was abandoned');
    this.name = 'ConcurrentSyncError';
  }
}

const bodyOf = (res: FhirResponse): Resource | undefined => (res.body === undefined ? undefined : isRaw(res.body) ? (JSON.parse(res.body.raw) as Resource) : res.body);

export function compareVersions(a: string, b: string): number {
  if (/^\d+$/.test(a) && /^\d+$/.test(b)) return Number(a) - Number(b);
  return a.localeCompare(b);
}

export class DirectoryUpdateClient {
  private readonly base: string;
  private readonly scope: RequestScope;
  private readonly types: readonly DirectoryType[];
  private readonly pageSize: number;
  private readonly overlapMs: number;
  private running?: Promise<SyncReport>;
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private readonly opts: UpdateClientOptions) {
    this.base = opts.directoryBase.replace(/\/+$/, '');
    const tenant = opts.tenant ?? LOCAL_DIRECTORY_TENANT;
    this.scope = { tenant, base: `urn:schakel:${tenant}`, strict: false };
    this.types = opts.types ?? DIRECTORY_TYPES;
    this.pageSize = opts.pageSize ?? 100;
    this.overlapMs = opts.overlapMs ?? 30_000;
  }

  /** One sync round (initial load for types never loaded, incremental for the others). Never runs twice at once. */
  sync(): Promise<SyncReport> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  /** Syncs now and then every `intervalMs` until stop(); failures are logged and retried at the next tick. */
  start(intervalMs: number): void {
    this.stopped = false;
    const tick = async () => {
      try {
        await this.sync();
      } catch (e) {
        this.opts.log?.('directory sync failed', { error: (e as Error).message });
      }
      if (!this.stopped) {
        this.timer = setTimeout(tick, intervalMs);
        this.timer.unref();
      }
    };
    void tick();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running?.catch(() => undefined);
  }

  /** The persisted watermark per type (undefined: never loaded). */
  async watermarks(): Promise<Partial<Record<DirectoryType, string>>> {
    const s = await this.loadState();
    return Object.fromEntries(s.watermarks) as Partial<Record<DirectoryType, string>>;
  }

  private async round(): Promise<SyncReport> {
    const state = await this.loadState();
    if (state.directory && state.directory !== this.base) {
      // Another directory: start over (entries stay; versions from another source are not comparable).
      state.watermarks.clear();
      state.tombstones.clear();
    }
    state.directory = this.base;
    const report: SyncReport = { types: {}, dangling: [], failed: [] };
    const applied: Resource[] = [];
    for (const type of this.types) {
      const watermark = state.watermarks.get(type);
      const first = watermark
        ? `${this.base}/${type}/_history?${new URLSearchParams({ _since: watermark, _count: String(this.pageSize) })}`
        : `${this.base}/${type}?${new URLSearchParams({ _count: String(this.pageSize) })}`;
      const tr: TypeReport = { mode: watermark ? 'incremental' : 'initial', pages: 0, received: 0, applied: 0, unchanged: 0, watermark: watermark ?? '' };
      let url: string | undefined = first;
      let roundStart: number | undefined;
      while (url) {
        const res: HttpResult = await fhirOk(url, {}, this.opts.http);
        const bundle = res.json as Bundle;
        if (bundle?.resourceType !== 'Bundle') throw new Error(`${url} did not answer with a Bundle`);
        roundStart ??= serverTime(bundle, res.headers);
        tr.pages++;
        const incoming = watermark ? fromHistory(bundle, type) : fromSearch(bundle, type);
        tr.received += incoming.length;
        const r = await this.apply(incoming, state, report);
        tr.applied += r.applied.length;
        tr.unchanged += r.unchanged;
        for (const e of r.applied) if (e.resource) applied.push(e.resource);
        url = bundle.link?.find((l) => l.relation === 'next')?.url;
      }
      const next = new Date((roundStart ?? Date.now()) - this.overlapMs).toISOString();
      // Never move backwards (a directory clock that jumped back must not cause a reload).
      const wm = watermark && compareIso(watermark, next) > 0 ? watermark : next;
      state.watermarks.set(type, wm);
      await this.writeState(state, []);
      tr.watermark = wm;
      report.types[type] = tr;
      this.opts.log?.('directory sync', { type, ...tr });
    }
    report.dangling = await this.dangling(applied);
    return report;
  }

  /** Applies one page: collapse to the newest version per entry, skip what the replica has, write the rest + state atomically. */
  private async apply(incoming: Incoming[], state: SyncState, report: SyncReport): Promise<{ applied: Incoming[]; unchanged: number }> {
    const newest = new Map<string, Incoming>();
    for (const e of incoming) {
      const key = `${e.type}/${e.id}`;
      const have = newest.get(key);
      if (!have || compareVersions(e.versionId, have.versionId) > 0) newest.set(key, e);
    }
    const local = await this.localVersions([...newest.values()]);
    const todo: Incoming[] = [];
    let unchanged = 0;
    for (const [key, e] of newest) {
      const mine = [local.get(key), state.tombstones.get(key)].filter((v): v is string => v !== undefined).sort(compareVersions).pop();
      if (mine !== undefined && compareVersions(e.versionId, mine) <= 0) unchanged++;
      else todo.push(e);
    }
    if (todo.length === 0) return { applied: [], unchanged };
    const entries = todo.map((e) => this.entryFor(e, state));
    try {
      await this.writeState(state, entries);
      return { applied: todo, unchanged };
    } catch (err) {
      if (err instanceof ConcurrentSyncError || !(err instanceof FhirError) || err.status >= 500) throw err;
      // One bad entry must not stall the replica: apply one by one and report the refused ones.
      const applied: Incoming[] = [];
      for (const e of todo) {
        try {
          await this.writeState(state, [this.entryFor(e, state)]);
          applied.push(e);
        } catch (one) {
          if (one instanceof ConcurrentSyncError || !(one instanceof FhirError) || one.status >= 500) throw one;
          report.failed.push({ entry: `${e.type}/${e.id}/_history/${e.versionId}`, reason: one.message });
        }
      }
      return { applied, unchanged };
    }
  }

  private entryFor(e: Incoming, state: SyncState): BundleEntry {
    const key = `${e.type}/${e.id}`;
    if (e.deleted || !e.resource) {
      state.tombstones.set(key, e.versionId);
      return { request: { method: 'DELETE', url: key } };
    }
    state.tombstones.delete(key);
    const meta = { ...(e.resource.meta ?? {}), source: `${this.base}/${key}/_history/${e.versionId}` };
    delete meta.versionId;
    delete meta.lastUpdated;
    return { fullUrl: `${this.scope.base}/${key}`, resource: { ...e.resource, meta }, request: { method: 'PUT', url: key } };
  }

  /** Directory versions the replica holds for these entries (from meta.source). */
  private async localVersions(entries: Incoming[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    const byType = new Map<string, string[]>();
    for (const e of entries) byType.set(e.type, [...(byType.get(e.type) ?? []), e.id]);
    for (const [type, ids] of byType) {
      for (let i = 0; i < ids.length; i += 50) {
        const chunk = ids.slice(i, i + 50);
        const res = await this.opts.dispatch(this.scope, { method: 'GET', path: type, query: [['_id', chunk.join(',')], ['_count', String(chunk.length)]], headers: {} });
        for (const e of (bodyOf(res) as Bundle | undefined)?.entry ?? []) {
          const r = e.resource;
          const m = r?.meta?.source ? /\/_history\/([^/]+)$/.exec(r.meta.source) : null;
          if (r?.id && m) out.set(`${type}/${r.id}`, m[1]);
        }
      }
    }
    return out;
  }

  private async dangling(applied: Resource[]): Promise<string[]> {
    const refs = new Set<string>();
    for (const r of applied) collectRefs(r, refs);
    const present = await this.localPresence([...refs].map((ref) => ({ type: ref.split('/')[0], id: ref.split('/')[1] })));
    return [...refs].filter((r) => !present.has(r)).sort();
  }

  private async localPresence(entries: { type: string; id: string }[]): Promise<Set<string>> {
    const out = new Set<string>();
    const byType = new Map<string, string[]>();
    for (const e of entries) byType.set(e.type, [...(byType.get(e.type) ?? []), e.id]);
    for (const [type, ids] of byType) {
      for (let i = 0; i < ids.length; i += 50) {
        const chunk = ids.slice(i, i + 50);
        const res = await this.opts.dispatch(this.scope, { method: 'GET', path: type, query: [['_id', chunk.join(',')], ['_count', String(chunk.length)]], headers: {} });
        for (const e of (bodyOf(res) as Bundle | undefined)?.entry ?? []) if (e.resource?.id) out.add(`${type}/${e.resource.id}`);
      }
    }
    return out;
  }

  private async loadState(): Promise<SyncState> {
    const state: SyncState = { watermarks: new Map(), tombstones: new Map() };
    let basic: Basic | undefined;
    try {
      const res = await this.opts.dispatch(this.scope, { method: 'GET', path: `Basic/${STATE_ID}`, query: [], headers: {} });
      basic = bodyOf(res) as Basic | undefined;
    } catch (e) {
      if (!(e instanceof FhirError) || (e.status !== 404 && e.status !== 410)) throw e;
    }
    if (!basic) return state;
    state.version = basic.meta?.versionId;
    for (const x of basic.extension?.find((e) => e.url === STATE_EXT)?.extension ?? []) {
      if (x.url === 'directory') state.directory = x.valueUri;
      else if (x.url === 'watermark') {
        const type = x.extension?.find((y) => y.url === 'type')?.valueCode;
        const at = x.extension?.find((y) => y.url === 'since')?.valueInstant;
        if (type && at) state.watermarks.set(type, at);
      } else if (x.url === 'tombstone' && x.valueString) {
        const [key, vid] = x.valueString.split('|');
        state.tombstones.set(key, vid);
      }
    }
    return state;
  }

  /** Writes `entries` and the state in one transaction, guarded by If-Match on the state's version. */
  private async writeState(state: SyncState, entries: BundleEntry[]): Promise<void> {
    const ext: Extension[] = [];
    if (state.directory) ext.push({ url: 'directory', valueUri: state.directory });
    for (const [type, at] of state.watermarks) ext.push({ url: 'watermark', extension: [{ url: 'type', valueCode: type }, { url: 'since', valueInstant: at }] });
    for (const [key, vid] of state.tombstones) ext.push({ url: 'tombstone', valueString: `${key}|${vid}` });
    const basic: Basic = { resourceType: 'Basic', id: STATE_ID, code: { coding: [STATE_CODE] }, extension: [{ url: STATE_EXT, extension: ext }] };
    const bundle: Bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [...entries, { resource: basic, request: { method: 'PUT', url: `Basic/${STATE_ID}`, ...(state.version ? { ifMatch: `W/"${state.version}"` } : {}) } }],
    };
    let res: FhirResponse;
    try {
      res = await this.opts.dispatch(this.scope, { method: 'POST', path: '', query: [], headers: { prefer: 'return=minimal' }, body: bundle, bodyKind: 'resource' });
    } catch (e) {
      // Only the state entry carries If-Match: a 412 means another client moved the state on.
      if (e instanceof FhirError && e.status === 412) throw new ConcurrentSyncError();
      throw e;
    }
    const out = bodyOf(res) as Bundle | undefined;
    const etag = out?.entry?.[out.entry.length - 1]?.response?.etag;
    const m = etag ? /W\/"([^"]+)"/.exec(etag) : null;
    if (m) state.version = m[1];
    else state.version = state.version ? String(Number(state.version) + 1) : '1';
  }
}

function serverTime(bundle: Bundle, headers: Headers): number {
  const fromBundle = bundle.meta?.lastUpdated ? Date.parse(bundle.meta.lastUpdated) : NaN;
  if (!Number.isNaN(fromBundle)) return fromBundle;
  const date = headers.get('date');
  const fromHeader = date ? Date.parse(date) : NaN;
  return Number.isNaN(fromHeader) ? Date.now() : fromHeader;
}

const compareIso = (a: string, b: string) => Date.parse(a) - Date.parse(b);

function versionOf(r: Resource | undefined, etag: string | undefined): string | undefined {
  if (r?.meta?.versionId) return r.meta.versionId;
  const m = etag ? /^(?:W\/)?"([^"]+)"$/.exec(etag) : null;
  return m?.[1];
}

function keyOf(url: string | undefined, type: string): string | undefined {
  const m = url ? new RegExp(`(?:^|/)${type}/([A-Za-z0-9\\-.]{1,64})(?:/_history/[^/]+)?$`).exec(url.split('?')[0]) : null;
  return m?.[1];
}

function fromSearch(bundle: Bundle, type: string): Incoming[] {
  const out: Incoming[] = [];
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    if (!r || r.resourceType !== type || !r.id || e.search?.mode === 'include' || e.search?.mode === 'outcome') continue;
    out.push({ type, id: r.id, versionId: r.meta?.versionId ?? '0', resource: r, deleted: false });
  }
  return out;
}

function fromHistory(bundle: Bundle, type: string): Incoming[] {
  const out: Incoming[] = [];
  for (const e of bundle.entry ?? []) {
    const r = e.resource;
    const deleted = !r || e.request?.method === 'DELETE';
    const id = r?.id ?? keyOf(e.request?.url, type) ?? keyOf(e.fullUrl, type);
    const vid = versionOf(deleted ? undefined : r, e.response?.etag);
    if (!id || !vid || (r && r.resourceType !== type)) continue;
    out.push({ type, id, versionId: vid, resource: deleted ? undefined : r, deleted });
  }
  return out;
}

const REF_ELEMENTS = ['managingOrganization', 'partOf', 'providedBy', 'organization', 'participatingOrganization', 'endpoint', 'location', 'healthcareService'];

function collectRefs(r: Resource, out: Set<string>): void {
  const rec = r as unknown as Record<string, unknown>;
  for (const el of REF_ELEMENTS) {
    const v = rec[el];
    for (const ref of Array.isArray(v) ? v : v ? [v] : []) {
      const s = (ref as { reference?: string }).reference;
      const m = s ? /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(s) : null;
      if (m && (DIRECTORY_TYPES as readonly string[]).includes(m[1])) out.add(`${m[1]}/${m[2]}`);
    }
  }
}
