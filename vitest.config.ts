import { configDefaults, defineConfig } from 'vitest/config';
import NoSkipsReporter from './test/support/no-skips-reporter.js';

/** Tests of several server processes on one database: they need PostgreSQL (and Redis). */
const SEVERAL_NODES = ['test/cluster.test.ts', 'test/cluster-limits.test.ts'];

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
          // Several-node tests need PostgreSQL: collected only by `npm run test:postgres`, never skipped.
          exclude: process.env.TEST_DATABASE === 'postgres' ? configDefaults.exclude : [...configDefaults.exclude, ...SEVERAL_NODES],
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
