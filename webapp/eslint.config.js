import path from 'node:path';
import js from '@eslint/js';
import reactHooks from 'eslint-plugin-react-hooks';
import reactRefresh from 'eslint-plugin-react-refresh';
import globals from 'globals';
import tseslint from 'typescript-eslint';

const featuresDir = path.join(import.meta.dirname, 'src', 'features');

/** The folder under src/features that `file` is in, or null outside it. */
function featureOf(file) {
  const rel = path.relative(featuresDir, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return null;
  return rel.split(path.sep)[0];
}

// Features do not import each other (bulletproof-react's rule): what two of them need goes
// to src/lib, src/components or src/types, and src/app composes features. The import is
// resolved against the importing file, so every feature folder, present or future, at any
// depth, is covered without listing it here.
const noCrossFeatureImports = {
  meta: {
    type: 'problem',
    docs: { description: 'Forbid a file in one src/features folder importing from another.' },
    schema: [],
    messages: {
      crossFeature:
        "src/features/{{from}} may not import from src/features/{{to}}: move what both need to src/lib, src/components or src/types, or compose the two in src/app.",
    },
  },
  create(context) {
    const from = featureOf(context.filename);
    if (from === null) return {};
    const check = (source) => {
      if (source?.type !== 'Literal' || typeof source.value !== 'string') return;
      if (!source.value.startsWith('.')) return;
      const to = featureOf(path.resolve(path.dirname(context.filename), source.value));
      if (to !== null && to !== from) context.report({ node: source, messageId: 'crossFeature', data: { from, to } });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};

export default tseslint.config(
  { ignores: ['dist', 'node_modules'] },
  {
    extends: [js.configs.recommended, ...tseslint.configs.strict],
    files: ['**/*.{ts,tsx}'],
    languageOptions: { ecmaVersion: 2022, globals: { ...globals.browser, ...globals.node } },
    plugins: { 'react-hooks': reactHooks, 'react-refresh': reactRefresh },
    rules: {
      ...reactHooks.configs.recommended.rules,
      'react-refresh/only-export-components': ['warn', { allowConstantExport: true }],
    },
  },
  {
    files: ['src/features/**/*.{ts,tsx}'],
    plugins: { local: { rules: { 'no-cross-feature-imports': noCrossFeatureImports } } },
    rules: { 'local/no-cross-feature-imports': 'error' },
  },
  {
    // Tests state what they expect to exist; a wrong guess fails the test, which is the point.
    files: ['e2e/**/*.ts', 'src/**/*.test.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
