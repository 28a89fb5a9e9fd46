import { defineConfig } from 'vitest/config';
import NoSkipsReporter from './test/support/no-skips-reporter.js';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // CI: a skipped test fails the run (see the reporter); `.only` is refused too.
    reporters: process.env.CI ? ['default', new NoSkipsReporter()] : ['default'],
    allowOnly: !process.env.CI,
  },
});
