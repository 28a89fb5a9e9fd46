/**
 * The shape of the source (docs/architecture.md, "Layers"): imports point down, no two folders
 * import each other, and each table is queried by the one repository that owns it.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = path.resolve(import.meta.dirname, '../src');

/**
 * The folders of src/ (and its top-level files) from the bottom up. A module may import from
 * its own folder or from a lower layer, never from its own layer or above.
 */
const LAYERS: readonly (readonly string[])[] = [
  ['lib', 'errors', 'config.ts'],
  ['domain', 'plans'],
  ['db', 'api'],
  ['events', 'operations'],
  ['http'],
  ['audit', 'compute', 'documents'],
  ['mail'],
  ['orgs'],
  ['auth', 'keys'],
  ['flows'],
  ['members', 'usage', 'hygiene'],
  ['limits', 'notifications'],
  ['webhooks'],
  ['gateway', 'jobs', 'connector', 'leaks'],
  ['compose.ts', 'operation-registry.ts'],
  ['app.ts'],
  ['server.ts'],
  ['cli.ts'],
];

/** Each table and the one module that may select from, insert into, update or delete from it. */
const OWNERS: Record<string, string> = {
  organisations: 'orgs/orgs.repository.ts',
  subscriptions: 'orgs/orgs.repository.ts',
  users: 'auth/users.repository.ts',
  sessions: 'auth/sessions.repository.ts',
  knownDevices: 'auth/sessions.repository.ts',
  invitations: 'members/invitations.repository.ts',
  apiKeys: 'keys/keys.repository.ts',
  keyUsageDaily: 'usage/usage.repository.ts',
  auditLog: 'audit/audit.repository.ts',
  domainEvents: 'events/event-log.ts',
  nodeHeartbeats: 'db/heartbeat.ts',
  mailOutbox: 'mail/outbox.repository.ts',
  mailPreferences: 'mail/preferences.repository.ts',
  eventMarks: 'events/event-marks.ts',
  webhookEndpoints: 'webhooks/webhooks.repository.ts',
  webhookDeliveries: 'webhooks/webhooks.repository.ts',
  flows: 'flows/flows.repository.ts',
  flowKeys: 'flows/flows.repository.ts',
};

function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** The folder of a module under src/, or the file name of a top-level module. */
function unitOf(file: string): string {
  const [first, ...rest] = path.relative(SRC, file).split(path.sep);
  return rest.length === 0 ? first!.replace(/\.js$/, '.ts') : first!;
}

const files = sourceFiles().map((file) => ({ file, rel: path.relative(SRC, file).split(path.sep).join('/'), text: readFileSync(file, 'utf8') }));

/** Every import of one unit by another: `from '…'`, `import '…'` and `import('…')`, types included. */
const edges = files.flatMap(({ file, rel, text }) =>
  [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(?\s*)'(\.{1,2}\/[^']+)'/g)].flatMap((match) => {
    const target = path.resolve(path.dirname(file), match[1]!);
    if (!target.startsWith(SRC)) return [];
    const from = unitOf(file);
    const to = unitOf(target);
    return from === to ? [] : [{ from, to, where: `${rel} imports ${match[1]}` }];
  }),
);

function layerOf(unit: string): number {
  const index = LAYERS.findIndex((layer) => layer.includes(unit));
  if (index < 0) throw new Error(`src/${unit} is in no layer: add it to LAYERS here and to "Layers" in docs/architecture.md`);
  return index;
}

describe('the shape of the source', () => {
  it('no folders import each other, directly or round a longer loop', () => {
    const graph = new Map<string, Set<string>>();
    for (const { from, to } of edges) graph.set(from, (graph.get(from) ?? new Set()).add(to));
    const cycles: string[] = [];
    const state = new Map<string, 'visiting' | 'done'>();
    const visit = (unit: string, trail: string[]) => {
      if (state.get(unit) === 'done') return;
      if (state.get(unit) === 'visiting') {
        cycles.push([...trail.slice(trail.indexOf(unit)), unit].join(' → '));
        return;
      }
      state.set(unit, 'visiting');
      for (const next of graph.get(unit) ?? []) visit(next, [...trail, unit]);
      state.set(unit, 'done');
    };
    for (const unit of graph.keys()) visit(unit, []);
    expect(cycles).toEqual([]);
  });

  it('imports point down the layers: nothing imports its own layer or a higher one', () => {
    const upward = edges.filter(({ from, to }) => layerOf(to) >= layerOf(from)).map(({ where }) => where);
    expect(upward).toEqual([]);
  });

  it('services and repositories import nothing of HTTP: only routes and the edge know it', () => {
    const http = files
      .filter(({ rel }) => /\.(service|repository)\.ts$/.test(rel))
      .filter(({ text }) => /from '(fastify|@fastify\/[^']+)'|from '\.\.\/http\//.test(text))
      .map(({ rel }) => rel);
    expect(http).toEqual([]);
  });

  it('each table is queried only by the repository that owns it (migrations aside)', () => {
    const schema = readFileSync(path.join(SRC, 'db/schema.ts'), 'utf8');
    const tables = [
      ...schema
        .slice(schema.indexOf('export interface Database {'))
        .split('}')[0]!
        .matchAll(/^\s+(\w+): \w+;$/gm),
    ].map((m) => m[1]!);
    expect(tables.length).toBeGreaterThan(5);
    expect(tables.filter((table) => !OWNERS[table])).toEqual([]);

    const strays = files
      .filter(({ rel }) => !rel.startsWith('db/migrations/'))
      .flatMap(({ rel, text }) =>
        [...text.matchAll(/\b(selectFrom|insertInto|updateTable|deleteFrom)\(\s*'(\w+)/g)]
          .filter(([, , table]) => OWNERS[table!] !== rel)
          .map(([, verb, table]) => `${rel}: ${verb}('${table}') (owner: ${OWNERS[table!] ?? 'none'})`),
      );
    expect(strays).toEqual([]);
  });
});
