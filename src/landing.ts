/** What the landing page at `/` tells a visitor about this process. */
export interface LandingInfo {
  roles: string[];
  platforms: string[];
  /** The chat model answers come from (the demo model's name when it stands in). */
  model: string;
  demoModel: boolean;
  /** What scores sentiment: a model's name, the built-in lexicon, or nothing when switched off. */
  sentiment: string | undefined;
  /** Pages this process serves, with the path each is at. */
  playgroundPath: string | undefined;
  dashboardPath: string | undefined;
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
    info.playgroundPath ? link(info.playgroundPath, 'Playground', 'a local chat page, through the same queue and workers as Slack and Discord') : '',
    link('/healthz', '/healthz', 'the process is alive'),
    link('/readyz', '/readyz', 'ready to take work (Redis, platforms, credentials)'),
    link('/metrics', '/metrics', 'Prometheus metrics'),
    info.dashboardPath ? link(info.dashboardPath, 'Queue dashboard', 'Bull Board, behind the admin password') : '',
  ].filter(Boolean);
  const setup = [
    '<li>The project’s <code>README.md</code>: “Setting up the Slack app”, “Setting up the Discord app” and “Configuration” (every variable is also listed in <code>.env.example</code>).</li>',
    '<li><a href="https://api.slack.com/apps" rel="noopener noreferrer">Slack apps</a> and <a href="https://discord.com/developers/applications" rel="noopener noreferrer">Discord applications</a>, where the apps are created.</li>',
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
<p>A Slack and Discord chatbot on Hugging Face models.${info.demoModel ? ' <span class="demo">Answers come from the offline demo model until HF_TOKEN is set.</span>' : ''}</p>
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
