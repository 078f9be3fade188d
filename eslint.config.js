import js from '@eslint/js'
import tseslint from 'typescript-eslint'

export default tseslint.config(
  {ignores: ['dist/**', 'node_modules/**', 'coverage/**', 'bench/out/**', 'src/engine/wasm/generated/**', '**/*.as.ts', 'assembly/**']},
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-unused-vars': ['error', {argsIgnorePattern: '^_', varsIgnorePattern: '^_'}],
    },
  },
  {
    // The library never imports oclif: commands are thin, logic lives in src/ and is tested directly.
    files: ['src/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', {patterns: [{group: ['@oclif/*'], message: 'src/ is the library: it never imports oclif'}]}],
    },
  },
  {
    files: ['test/**/*.ts', 'bench/**/*.ts', 'scripts/**/*.{js,ts}'],
    rules: {'@typescript-eslint/no-non-null-assertion': 'off'},
  },
  {
    files: ['**/*.js', '**/*.mjs', '**/*.cjs'],
    languageOptions: {globals: {process: 'readonly', console: 'readonly', URL: 'readonly'}},
  },
)
