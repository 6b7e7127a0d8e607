// Writes the ESM entry point: a thin module re-exporting the CommonJS build,
// so both module systems share one instance of the queue.
import { mkdirSync, writeFileSync } from 'fs';
import { join } from 'path';

const cjsDir = __dirname;
const esmDir = join(__dirname, '..', 'esm');
// eslint-disable-next-line @typescript-eslint/no-require-imports
const names = Object.keys(require(join(cjsDir, 'index.js')) as object).filter(
  (n) => n !== 'default' && n !== '__esModule',
);
mkdirSync(esmDir, { recursive: true });
// The preload has no exports: importing the CommonJS build runs it once per process.
writeFileSync(join(esmDir, 'register.mjs'), "import '../cjs/register.js';\n");
writeFileSync(join(esmDir, 'register.d.mts'), 'export {};\n');
// index.mjs goes last: test/setup/build.ts dates the whole build by it.
writeFileSync(
  join(esmDir, 'index.mjs'),
  `import cjs from '../cjs/index.js';\nexport default cjs;\nexport const {\n${names
    .map((n) => `  ${n},`)
    .join('\n')}\n} = cjs;\n`,
);
writeFileSync(
  join(esmDir, 'index.d.mts'),
  "export * from '../cjs/index.js';\nimport * as uaccel from '../cjs/index.js';\nexport default uaccel;\n",
);
