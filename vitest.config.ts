import {defineConfig} from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: run test files in a small fork pool so heavy engine tests do not starve each other.
    pool: 'forks',
    poolOptions: {forks: {maxForks: 2, minForks: 1}},
  },
})
