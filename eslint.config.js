// ESLint for nebula-faas: typescript-eslint's type-aware recommended rules on src/ and test/,
// the JavaScript ones on bench/ and examples/. `npm run lint` runs it with tsc, Prettier and knip.
import js from '@eslint/js';
import { defineConfig } from 'eslint/config';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default defineConfig(
  // Build output and what runs leave behind (as in .gitignore); the consumer project, which
  // test/package type-checks against the packed package with its own tsconfig.
  {
    ignores: [
      'dist/',
      'coverage/',
      'test-artifacts/',
      'bench-results/',
      'nebula-results/',
      '.nebula-cache/',
      '.scratch/',
      'test/package/consumer/',
    ],
  },
  js.configs.recommended,
  tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      globals: globals.node,
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    linterOptions: { reportUnusedDisableDirectives: 'error' },
    rules: {
      // No comma operator for side effects: `(a(), b = 1)` reads as one expression and hides a statement.
      'no-sequences': ['error', { allowInParentheses: false }],
      // Off: an `async` method with no `await` is how an implementation of a promise-returning
      // interface (Meter.start/stop, Prepared.run/release, a CLI command's run) turns a throw into
      // a rejection; dropping `async` would let the throw escape synchronously.
      '@typescript-eslint/require-await': 'off',
      // Passing on a caught error (typed `unknown`) is not rejecting with a non-Error.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true }],
      // Properties destructured beside a rest element are how an object is copied without them.
      '@typescript-eslint/no-unused-vars': ['error', { ignoreRestSiblings: true }],
    },
  },
  {
    files: ['test/**/*.ts'],
    rules: {
      // Off in tests: vitest types its asymmetric matchers (expect.stringMatching, expect.any,
      // expect.objectContaining, ...) as `any` so they fit in any expected value, and every one of
      // them inside an expected object or a toThrow() is reported. Member access, calls and
      // returns of `any` stay checked.
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
    },
  },
  { files: ['**/*.{js,mjs,cjs}'], extends: [tseslint.configs.disableTypeChecked] },
);
