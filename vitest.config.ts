import {configDefaults, defineConfig} from 'vitest/config'

/**
 * Two tiers (README, "Tests"):
 * - `npm run test:unit` (VITRINE_TEST_TIER=unit): the library and the commands in-process (test/helpers/cli.ts), no
 *   child processes; every `*.e2e.test.ts` file is left out.
 * - `npm test`: everything, after a build; the `*.e2e.test.ts` files spawn bin/run.js, which they first check is
 *   built from the current sources (test/helpers/e2e.ts).
 */
const unitTier = process.env.VITRINE_TEST_TIER === 'unit'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: [...configDefaults.exclude, ...(unitTier ? ['test/**/*.e2e.test.ts'] : [])],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run test files in a small fork pool so heavy engine tests do not starve each other.
    pool: 'forks',
    poolOptions: {forks: {maxForks: 2, minForks: 1}},
  },
})
