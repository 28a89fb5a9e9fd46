import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { freePort } from './processes.js';

/** A PgBouncer in front of one database, as an operator puts one between the nodes and PostgreSQL. */
export interface Pooler {
  /** DATABASE_URL for the nodes: the same database, through the pooler. */
  url: string;
  stop(): Promise<void>;
}

const BINARY = ['/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'].find((candidate) => existsSync(candidate));

/** Starts PgBouncer (Debian's `pgbouncer` package, see scripts/system-deps.sh) in `mode` before `databaseUrl`. */
export async function startPgBouncer(databaseUrl: string, mode: 'session' | 'transaction'): Promise<Pooler> {
  if (!BINARY) throw new Error('PgBouncer is not installed: apt-get install pgbouncer (scripts/system-deps.sh installs it)');
  const target = new URL(databaseUrl);
  const dbname = target.pathname.slice(1);
  const user = decodeURIComponent(target.username || 'postgres');
  const port = await freePort();
  // PgBouncer will not run as root: as root it is started as `nobody`, which must reach these files.
  const dir = mkdtempSync(path.join(tmpdir(), 'bdoc-pgbouncer-'));
  chmodSync(dir, 0o777);
  const ini = path.join(dir, 'pgbouncer.ini');
  writeFileSync(path.join(dir, 'users.txt'), `"${user}" ""\n`, { mode: 0o644 });
  writeFileSync(
    ini,
    [
      '[databases]',
      `${dbname} = host=${target.hostname} port=${target.port || 5432} dbname=${dbname} user=${user}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      `pool_mode = ${mode}`,
      'max_client_conn = 200',
      'default_pool_size = 20',
      `logfile = ${path.join(dir, 'pgbouncer.log')}`,
      '',
    ].join('\n'),
    { mode: 0o644 },
  );
  const asRoot = process.getuid?.() === 0;
  const child: ChildProcess = spawn(BINARY, [...(asRoot ? ['-u', 'nobody'] : []), ini], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout?.on('data', (chunk) => (output += chunk));
  child.stderr?.on('data', (chunk) => (output += chunk));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = new URL(databaseUrl);
  url.host = `127.0.0.1:${port}`;
  const stop = async () => {
    child.kill('SIGTERM');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new pg.Client({ connectionString: url.toString(), connectionTimeoutMillis: 1000 });
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return { url: url.toString(), stop };
    } catch (error) {
      await client.end().catch(() => {});
      if (child.exitCode !== null || Date.now() > deadline) {
        await stop();
        throw new Error(`PgBouncer did not start: ${(error as Error).message}\n${output}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
