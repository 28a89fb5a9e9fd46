import { configDefaults, defineConfig } from 'vitest/config';
import NoSkipsReporter from './test/support/no-skips-reporter.js';

/** Tests that need PostgreSQL itself (several server processes on one database, a pooler before it), and Redis. */
const POSTGRES_ONLY = ['test/cluster.test.ts', 'test/cluster-limits.test.ts', 'test/pooler.test.ts'];

export default defineConfig({
  test: {
    // Servers the tests spawn on PostgreSQL need the shared webhook secret key (test value only).
    env: { WEBHOOK_SECRET_KEY: Buffer.alloc(32, 7).toString('base64') },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // CI: a skipped test fails the run (see the reporter); `.only` is refused too.
    reporters: process.env.CI ? ['default', new NoSkipsReporter()] : ['default'],
    allowOnly: !process.env.CI,
    projects: [
      {
        extends: true,
        test: {
          name: 'server',
          include: ['test/**/*.test.ts'],
          // These need PostgreSQL: collected only by `npm run test:postgres`, never skipped.
          exclude: process.env.TEST_DATABASE === 'postgres' ? configDefaults.exclude : [...configDefaults.exclude, ...POSTGRES_ONLY],
          globalSetup: ['test/support/global-setup.ts'],
          pool: 'forks',
        },
      },
      {
        // The portal's pure rules (what a role may do, how a name reads): no server, no browser.
        extends: true,
        test: { name: 'web', include: ['web/src/**/*.test.ts'], environment: 'node' },
      },
    ],
  },
});
