import { defineConfig } from 'vitest/config';

/**
 * The full attack campaign (`npm run test:attack`): the property and fuzz suites with their full
 * case counts (see test/attack/campaign.ts). Bounded: every case has a hang limit, and the
 * campaign as a whole runs in a few minutes.
 */
export default defineConfig({
  test: {
    include: ['test/attack/**/*.test.ts', 'test/http/fuzz.test.ts', 'test/ims/fuzz.test.ts'],
    env: { ATTACK_CAMPAIGN: 'full' },
    testTimeout: 900_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default', './test/helpers/attack-reporter.ts'],
  },
});
