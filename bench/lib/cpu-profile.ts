/**
 * Reads V8 `.cpuprofile` files (written by `node --cpu-prof`) and ranks where the time went: by
 * function (self time) and by area (a package in node_modules, Node's internals, our own code, GC).
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { SourceMap } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SummaryOptions {
  /** Rows per ranking. */
  top?: number;
  /** Ignore the first this-many ms of the profile (start-up and warm-up). */
  skipMs?: number;
  /** A name for the process in the report (e.g. its role). */
  label?: string;
}

export interface Ranked {
  name: string;
  selfMs: number;
  share: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  /** Time not idle: what the process actually spent CPU on. */
  busyMs: number;
  functions: Ranked[];
  areas: Ranked[];
  /** Self time charged to the nearest package or project frame up the stack (Node's internals and
   * native code charged to whoever called them): which library caused the work. */
  causes: Ranked[];
}

/**
 * Rewrites the profiles in `dir` (and its folders) from the bundled build's chunks to the sources'
 * files, lines and columns, through the build's linked source maps: by chunk, every package and
 * module of ours would be one area. Run while the build is still there; the rewritten profiles
 * need it no longer (and open in any profile viewer at the sources' lines).
 */
export function mapProfilesToSources(dir: string): void {
  const maps = new Map<string, SourceMap | undefined>();
  const mapOf = (url: string) => {
    if (!maps.has(url)) {
      let map: SourceMap | undefined;
      try {
        map = new SourceMap(JSON.parse(readFileSync(`${fileURLToPath(url)}.map`, 'utf8')) as ConstructorParameters<typeof SourceMap>[0]);
      } catch {
        map = undefined; // not a file of the build (a package left outside the bundle, a fake)
      }
      maps.set(url, map);
    }
    return maps.get(url);
  };
  for (const entry of readdirSync(dir, { recursive: true, encoding: 'utf8' })) {
    if (!entry.endsWith('.cpuprofile')) continue;
    const file = join(dir, entry);
    const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
    for (const { callFrame: frame } of profile.nodes) {
      if (!frame.url.startsWith('file:')) continue;
      const origin = mapOf(frame.url)?.findEntry(frame.lineNumber, frame.columnNumber);
      if (!origin || !('originalSource' in origin)) continue;
      // esbuild names each source relative to the chunk's directory.
      frame.url = new URL(origin.originalSource, frame.url).href;
      frame.lineNumber = origin.originalLine;
      frame.columnNumber = origin.originalColumn;
    }
    writeFileSync(file, JSON.stringify(profile));
  }
}

/** The packages slackify-markdown parses and prints with, reported as one. */
const MARKDOWN_PACKAGES = /^(slackify-markdown|micromark|mdast-|unist-|remark-|unified|vfile|decode-named-character-reference|character-entities|devlop|zwitch|longest-streak|markdown-table|ccount|trim-lines|bail|trough|is-plain-obj|extend|escape-string-regexp)/;

/** `node_modules/<pkg>` (scoped too), `node:internal`, our folders, or V8's own pseudo-frames. */
function areaOf(url: string, functionName: string): string {
  if (!url) return functionName.startsWith('(') ? functionName : '(native)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url)?.[1];
  if (pkg) return MARKDOWN_PACKAGES.test(pkg) ? 'markdown (slackify-markdown and its micromark/mdast)' : pkg;
  if (url.startsWith('node:')) return 'node internals';
  const own = /\/(src|adapters|bin|bench|test)\//.exec(url)?.[1];
  return own ? `project ${own}/` : url;
}

function shortUrl(url: string): string {
  const pkg = /node_modules\/(.*)$/.exec(url)?.[1];
  if (pkg) return pkg;
  return url.replace(/^file:\/\/.*?\/(src|adapters|bin|bench|test)\//, '$1/');
}

/** Areas that did the work on someone's behalf; their time goes to the nearest caller that is not one. */
const isHelperArea = (area: string) => area === 'node internals' || area === '(native)';

function rank(totals: Map<string, number>, busyMs: number, top: number): Ranked[] {
  return [...totals.entries()]
    .sort((a, b) => b[1] - a[1])
    .slice(0, top)
    .map(([name, selfMs]) => ({ name, selfMs, share: busyMs > 0 ? selfMs / busyMs : 0 }));
}

export function summarizeProfile(file: string, options: SummaryOptions = {}): ProfileSummary {
  const top = options.top ?? 15;
  const skipUs = (options.skipMs ?? 0) * 1000;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  let elapsedUs = 0;
  profile.samples.forEach((id, index) => {
    const delta = profile.timeDeltas[index] ?? 0;
    elapsedUs += delta;
    if (elapsedUs >= skipUs) selfUs.set(id, (selfUs.get(id) ?? 0) + delta);
  });
  const parent = new Map<number, number>();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const causeOf = (id: number): string => {
    let current: number | undefined = id;
    while (current !== undefined) {
      const frame = byId.get(current)?.callFrame;
      if (!frame) break;
      const area = areaOf(frame.url, frame.functionName);
      if (!isHelperArea(area)) return area;
      current = parent.get(current);
    }
    return 'node internals (no caller)';
  };
  const functions = new Map<string, number>();
  const areas = new Map<string, number>();
  const causes = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (!node) continue;
    const ms = us / 1000;
    totalMs += ms;
    const { functionName, url, lineNumber } = node.callFrame;
    if (functionName === '(idle)') {
      idleMs += ms;
      continue;
    }
    const name = `${functionName || '(anonymous)'}${url ? ` ${shortUrl(url)}:${lineNumber + 1}` : ''}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    const area = areaOf(url, functionName);
    areas.set(area, (areas.get(area) ?? 0) + ms);
    const cause = causeOf(id);
    causes.set(cause, (causes.get(cause) ?? 0) + ms);
  }
  const busyMs = totalMs - idleMs;
  return {
    file: options.label ?? file,
    totalMs,
    busyMs,
    functions: rank(functions, busyMs, top),
    areas: rank(areas, busyMs, top),
    causes: rank(causes, busyMs, top),
  };
}

export function formatProfile(summary: ProfileSummary): string {
  const lines = [`${summary.file}: ${(summary.busyMs / 1000).toFixed(1)} s busy of ${(summary.totalMs / 1000).toFixed(1)} s`];
  lines.push('  by area (self time):');
  for (const area of summary.areas.slice(0, 10)) lines.push(`    ${(area.share * 100).toFixed(1).padStart(5)}%  ${area.name}`);
  lines.push('  by cause (self time, Node internals charged to their caller):');
  for (const cause of summary.causes.slice(0, 12)) lines.push(`    ${(cause.share * 100).toFixed(1).padStart(5)}%  ${cause.name}`);
  lines.push('  by function (self time):');
  for (const fn of summary.functions) lines.push(`    ${(fn.share * 100).toFixed(1).padStart(5)}%  ${fn.name}`);
  return lines.join('\n');
}

/** `node bench/lib/cpu-profile.ts <file.cpuprofile>...`: prints each profile's summary. */
if (import.meta.main) {
  for (const file of process.argv.slice(2)) process.stdout.write(`${formatProfile(summarizeProfile(file, { top: 25 }))}\n\n`);
}
