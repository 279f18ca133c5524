import type { PageLink } from './platform.ts';

/** What the landing page at `/` tells a visitor about this process. */
export interface LandingInfo {
  roles: string[];
  platforms: string[];
  /** The chat model answers come from (the demo model's name when it stands in). */
  model: string;
  demoModel: boolean;
  /** What scores sentiment: a model's name, the built-in lexicon, or nothing when switched off. */
  sentiment: string | undefined;
  /** Pages the platforms serve in this process (a local chat page). */
  pages: PageLink[];
  /** Where each platform is set up. */
  setup: PageLink[];
  /** Where /metrics is on this port; undefined when it is on a listener of its own. */
  metricsPath: string | undefined;
  /** The operator pages, when ADMIN_PASSWORD is set. */
  dashboardPath: string | undefined;
  insightsPath: string | undefined;
}

const escapeHtml = (value: string) =>
  value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

const link = (href: string, label: string, what: string) => `<li><a href="${escapeHtml(href)}">${escapeHtml(label)}</a>: ${escapeHtml(what)}</li>`;

/**
 * A small status page for whoever opens the service's address: what runs here, and where to go
 * next. Plain HTML, every value escaped.
 */
export function landingPage(info: LandingInfo): string {
  const facts: Array<[string, string]> = [
    ['Roles', info.roles.join(', ')],
    ['Platforms', info.platforms.join(', ') || 'none'],
    ['Chat model', info.demoModel ? `${info.model}: the offline demo model (no HF_TOKEN is set), not a real model` : `${info.model} on Hugging Face`],
    ['Sentiment', info.sentiment ?? 'off'],
  ];
  const links = [
    ...info.pages.map((page) => link(page.href, page.label, page.what)),
    link('/healthz', '/healthz', 'the process is alive'),
    link('/readyz', '/readyz', 'ready to take work (Redis, platforms, credentials)'),
    info.metricsPath ? link(info.metricsPath, '/metrics', 'Prometheus metrics') : '',
    info.dashboardPath ? link(info.dashboardPath, 'Queue dashboard', 'Bull Board, behind the admin password') : '',
    info.insightsPath ? link(info.insightsPath, 'Insights', 'which conversations are going badly, behind the admin password') : '',
  ].filter(Boolean);
  const setup = [
    '<li>The project’s <code>README.md</code>: the set-up section of each platform, and “Configuration” (every variable is also listed in <code>.env.example</code>).</li>',
    ...info.setup.map((page) => `<li><a href="${escapeHtml(page.href)}" rel="noopener noreferrer">${escapeHtml(page.label)}</a>: ${escapeHtml(page.what)}</li>`),
  ];
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>hfbot</title>
<style>
  :root { color-scheme: light dark; }
  body { font: 16px/1.5 system-ui, sans-serif; max-width: 44rem; margin: 0 auto; padding: 1.5rem 1rem; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: 0.25rem 1rem; }
  dt { font-weight: 600; }
  dd { margin: 0; overflow-wrap: anywhere; }
  .demo { color: #b35900; font-weight: 600; }
  @media (prefers-color-scheme: dark) { .demo { color: #ffab57; } }
</style>
</head>
<body>
<main>
<h1>hfbot is running</h1>
<p>A team chatbot on Hugging Face models.${info.demoModel ? ' <span class="demo">Answers come from the offline demo model until HF_TOKEN is set.</span>' : ''}</p>
<h2>This process</h2>
<dl>
${facts.map(([term, value]) => `<dt>${escapeHtml(term)}</dt><dd>${escapeHtml(value)}</dd>`).join('\n')}
</dl>
<h2>Pages</h2>
<ul>
${links.join('\n')}
</ul>
<h2>Setting it up</h2>
<ul>
${setup.join('\n')}
</ul>
</main>
</body>
</html>
`;
}
