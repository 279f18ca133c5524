/**
 * `npm run build`: the service as bundled JavaScript in `dist/`, which `npm start`, the Docker
 * image and the bench run. Node can run the TypeScript sources directly (tests and development do),
 * but production processes run this build:
 * - no type stripping: Node's loads a WebAssembly compiler that stays in every process (~30 MB);
 * - a bundle, whitespace and comments removed: V8 keeps every loaded module's source text in the
 *   heap, twice the size for a file with one character beyond Latin-1, and the packages' sources
 *   with their comments were ~11 MB of an idle worker's heap (bench/README.md). Identifiers are not
 *   minified, so stack traces name functions as the sources do (esbuild's keepNames would also fix
 *   the few it renames apart, at a call per closure created: 1.2% of a worker's CPU); with
 *   `--enable-source-maps` they point at the sources' lines.
 *
 *   node scripts/build.ts [--out-dir dist]
 *
 * Each platform's code is its own chunk, loaded only where that platform is configured, as from
 * the sources. Packages that find files of their own at run time stay in node_modules.
 *
 * Besides the bundle, the files the code reads at run time are copied: the README the usage text
 * points to, and the playground's and the insights page's static files, where the modules that
 * serve them look (every chunk is in `dist/bin/`, see RUNTIME_FILES).
 */
import { cpSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { packagePatches } from './package-patches.ts';

const REPO = fileURLToPath(new URL('../', import.meta.url));

/** The service's entry point; the bench adds its baseline server. */
export const SERVICE_ENTRY = 'bin/hfbot.ts';

/**
 * Source → place in the build. The code resolves each from its module's own URL by a path that
 * holds both in the sources and from `dist/bin/`, where the bundle puts every chunk.
 */
const RUNTIME_FILES: Record<string, string> = {
  'README.md': 'README.md',
  'src/insights/page': 'insights/page',
  'adapters/playground/page': 'playground/page',
};

/**
 * Loaded from node_modules rather than bundled: pino's transports resolve worker files of their
 * own, and msgpackr-extract is a native addon (BullMQ's msgpackr looks for it and does without).
 */
const EXTERNAL = ['pino', 'msgpackr-extract'];

/**
 * What the CommonJS packages in the bundle expect of a module: `require` (for Node's built-ins, and
 * for what stays in node_modules: msgpackr finds its native extractor through `__filename`, and
 * does without it, slower, when that throws).
 */
const COMMONJS_GLOBALS = [
  "import { createRequire as __createRequire } from 'node:module';",
  "import { dirname as __pathDirname } from 'node:path';",
  "import { fileURLToPath as __fileURLToPath } from 'node:url';",
  'const require = __createRequire(import.meta.url);',
  'const __filename = __fileURLToPath(import.meta.url);',
  'const __dirname = __pathDirname(__filename);',
].join(' ');

export interface BuildOptions {
  /** Entry points relative to the repository (default: the service's). */
  entries?: string[];
  /** Where the JavaScript goes; emptied first (default `dist`, relative to the repository). */
  outDir?: string;
}

/** The bundler: a devDependency, so an install without them cannot build. */
function loadEsbuild(): typeof import('esbuild') {
  try {
    return createRequire(import.meta.url)('esbuild') as typeof import('esbuild');
  } catch {
    throw new Error('the build needs esbuild, a devDependency: run `npm ci` (not `npm ci --omit=dev`) first');
  }
}

/**
 * Bundles the entries into `outDir`, each at its path in the repository, `.js`, with the packages'
 * patches (scripts/package-patches.ts) applied; returns `outDir`.
 */
export async function buildService(options: BuildOptions = {}): Promise<string> {
  const esbuild = loadEsbuild();
  const outDir = resolve(REPO, options.outDir ?? 'dist');
  rmSync(outDir, { recursive: true, force: true });
  await esbuild.build({
    absWorkingDir: REPO,
    entryPoints: options.entries ?? [SERVICE_ENTRY],
    outdir: outDir,
    outbase: '.',
    chunkNames: 'bin/[name]-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node24',
    external: EXTERNAL,
    minifyWhitespace: true,
    minifySyntax: true,
    legalComments: 'none',
    sourcemap: 'linked',
    sourcesContent: false,
    banner: { js: COMMONJS_GLOBALS },
    plugins: [packagePatches()],
    logLevel: 'error',
  });
  for (const [source, target] of Object.entries(RUNTIME_FILES)) cpSync(join(REPO, source), join(outDir, target), { recursive: true });
  return outDir;
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { 'out-dir': { type: 'string' } } });
  try {
    const outDir = await buildService(values['out-dir'] ? { outDir: values['out-dir'] } : {});
    process.stdout.write(`built ${outDir}\n`);
  } catch (err) {
    process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  }
}
