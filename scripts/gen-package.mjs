// One-off helper to stamp out a package skeleton: node scripts/gen-package.mjs <name> "<description>" dep1,dep2 npmdep@ver,...
import { mkdirSync, writeFileSync, existsSync } from 'node:fs';
const [name, description, internal = '', external = '', dev = ''] = process.argv.slice(2);
const dir = `packages/${name}`;
mkdirSync(`${dir}/src`, { recursive: true });
const internalDeps = internal ? internal.split(',') : [];
const split = (s) =>
  Object.fromEntries(
    (s ? s.split(',') : []).map((d) => {
      const i = d.lastIndexOf('@');
      return i > 0 ? [d.slice(0, i), d.slice(i + 1)] : [d, '*'];
    }),
  );
const pkg = {
  name: `@ocrops/${name}`,
  version: '0.1.0',
  private: true,
  type: 'module',
  description,
  exports: { '.': { types: './src/index.ts', '@ocrops/source': './src/index.ts', default: './dist/index.js' } },
  dependencies: { ...Object.fromEntries(internalDeps.map((d) => [`@ocrops/${d}`, '*'])), ...split(external) },
  devDependencies: split(dev),
};
if (!Object.keys(pkg.devDependencies).length) delete pkg.devDependencies;
writeFileSync(`${dir}/package.json`, JSON.stringify(pkg, null, 2) + '\n');
writeFileSync(
  `${dir}/tsconfig.json`,
  JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { composite: false, noEmit: true, declaration: false, declarationMap: false },
      include: ['src/**/*.ts', 'src/**/*.tsx'],
    },
    null,
    2,
  ) + '\n',
);
writeFileSync(
  `${dir}/tsconfig.lib.json`,
  JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { rootDir: 'src', outDir: 'dist', tsBuildInfoFile: 'dist/tsconfig.lib.tsbuildinfo' },
      include: ['src/**/*.ts'],
      exclude: ['src/**/*.test.ts'],
      references: internalDeps.map((d) => ({ path: `../${d}/tsconfig.lib.json` })),
    },
    null,
    2,
  ) + '\n',
);
const project = {
  name,
  $schema: '../../node_modules/nx/schemas/project-schema.json',
  sourceRoot: `${dir}/src`,
  projectType: 'library',
  targets: {
    build: {
      executor: 'nx:run-commands',
      outputs: ['{projectRoot}/dist'],
      options: { command: `tsc -b ${dir}/tsconfig.lib.json` },
    },
    typecheck: { executor: 'nx:run-commands', options: { command: `tsc -p ${dir}/tsconfig.json --noEmit` } },
    lint: { executor: 'nx:run-commands', options: { command: `eslint ${dir}/src` } },
    test: { executor: 'nx:run-commands', options: { command: `node scripts/run-tests.mjs ${dir}/src` } },
  },
};
if (!existsSync(`${dir}/project.json`)) writeFileSync(`${dir}/project.json`, JSON.stringify(project, null, 2) + '\n');
if (!existsSync(`${dir}/src/index.ts`))
  writeFileSync(`${dir}/src/index.ts`, `// Public surface of @ocrops/${name}.\nexport {};\n`);
