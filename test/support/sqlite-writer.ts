/**
 * A second process writing to a test app's SQLite file, as the CLI or another tool would:
 * `tsx test/support/sqlite-writer.ts <dataDir> <orgId> <count>` changes the organisation's
 * subscription <count> times, each in its own transaction, and prints `{"ok":n,"failed":[…]}`.
 */
import { composeServices } from '../../src/compose.js';
import { loadConfig } from '../../src/config.js';
import { openDatabase } from '../../src/db/database.js';

const [dataDir, orgId, count] = process.argv.slice(2) as [string, string, string];
const config = loadConfig({ DATA_DIR: dataDir, LOG_LEVEL: 'silent' });
const handle = openDatabase(config);
const services = composeServices({ config, handle });
const operator = { orgId, userId: null, email: null, role: 'operator' as const, ip: null };
let ok = 0;
const failed: string[] = [];
for (let i = 0; i < Number(count); i++) {
  try {
    await services.orgs.setSubscription(operator, { plan: i % 2 === 0 ? 'standard' : 'large' });
    ok++;
  } catch (error) {
    failed.push(error instanceof Error ? `${(error as { code?: string }).code ?? ''} ${error.message}` : String(error));
  }
}
await handle.db.destroy();
process.stdout.write(`${JSON.stringify({ ok, failed })}\n`);
