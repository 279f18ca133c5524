/**
 * `npm run build`: the service as plain JavaScript in `dist/`, which `npm start`, the Docker image
 * and the bench run. Node can run the TypeScript sources directly (tests and development do), but
 * its type stripping loads a WebAssembly compiler that stays in every process: an idle worker is
 * ~30 MB smaller run from `dist/` (bench/README.md).
 *
 *   node scripts/build.ts [--project tsconfig.build.json] [--out-dir dist]
 *
 * Besides the compiled modules, the files the code reads next to itself at run time are copied:
 * the playground's and the insights page's static files, and the README the usage text points to.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const REPO = fileURLToPath(new URL('../', import.meta.url));
/** Read at run time relative to the module that reads them, so they go where its JavaScript goes. */
const RUNTIME_FILES = ['README.md', 'src/insights/page', 'adapters/playground/page'];

export interface BuildOptions {
  /** The tsconfig to emit, relative to the repository (default `tsconfig.build.json`). */
  project?: string;
  /** Where the JavaScript goes; emptied first (default `dist`, relative to the repository). */
  outDir?: string;
}

/** Where the compiler is: a devDependency, so an install without them cannot build. */
function typescriptPackage(): string {
  try {
    return createRequire(import.meta.url).resolve('typescript/package.json');
  } catch {
    throw new Error('the build needs the compiler, a devDependency: run `npm ci` (not `npm ci --omit=dev`) first');
  }
}

/** Compiles the project into `outDir` with the repository's own layout; returns `outDir`. */
export function buildService(options: BuildOptions = {}): string {
  const outDir = resolve(REPO, options.outDir ?? 'dist');
  const tsc = join(dirname(typescriptPackage()), 'bin/tsc');
  rmSync(outDir, { recursive: true, force: true });
  const compiled = spawnSync(process.execPath, [tsc, '-p', join(REPO, options.project ?? 'tsconfig.build.json'), '--outDir', outDir], {
    cwd: REPO,
    encoding: 'utf8',
  });
  if (compiled.status !== 0) throw new Error(`tsc failed (${compiled.status ?? compiled.signal}):\n${compiled.stdout}${compiled.stderr}`);
  for (const path of RUNTIME_FILES) cpSync(join(REPO, path), join(outDir, path), { recursive: true });
  return outDir;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { project: { type: 'string' }, 'out-dir': { type: 'string' } } });
  try {
    const outDir = buildService({ ...(values.project ? { project: values.project } : {}), ...(values['out-dir'] ? { outDir: values['out-dir'] } : {}) });
    process.stdout.write(`built ${outDir}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
