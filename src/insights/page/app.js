// The insights page: plain browser JavaScript, no build step. Data from /insights/api/*, charts
// with uPlot (served from node_modules), and a table beside every chart with the same numbers.
/* global uPlot */

const API = 'api';
const DAYS = 30;
const CHANNEL_PAGE = 10;
const REFRESH_MS = 60_000;
const LABELS = ['positive', 'neutral', 'negative'];
const NAMES = { positive: 'Positive', neutral: 'Neutral', negative: 'Negative' };

// Charts by section: the sections load side by side, and each replaces only its own.
const state = { info: undefined, platform: '', channelLimit: CHANNEL_PAGE, charts: { channels: [], answers: [] } };
const $ = (id) => document.getElementById(id);

/** Builds an element with text content only: stored ids never reach innerHTML. */
function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined) node.setAttribute(name, String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

async function getJson(path, query = {}) {
  const params = new URLSearchParams(Object.entries(query).filter(([, value]) => value !== '' && value !== undefined));
  const response = await fetch(`${API}/${path}${params.size ? `?${params}` : ''}`);
  if (!response.ok) throw new Error((await response.json().catch(() => ({}))).error ?? `HTTP ${response.status}`);
  return response.json();
}

const css = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const percent = (share) => `${Math.round(share * 100)}%`;
const signed = (score) => (score === null || score === undefined ? '–' : `${score > 0 ? '+' : ''}${score.toFixed(2)}`);
const dayStart = (day) => Date.parse(`${day}T00:00:00Z`) / 1000;
const platformName = (platform) => platform.charAt(0).toUpperCase() + platform.slice(1);
/** Only ids are stored, so a channel shows as its id. */
const channelName = (channel) => channel.channelId;

/** Only links the service recorded for a platform: http(s) or a path on this server. */
function safeLink(link) {
  if (typeof link !== 'string') return undefined;
  if (/^https?:\/\//i.test(link) || /^\/(?!\/)/.test(link)) return link;
  return undefined;
}

function ago(ms) {
  const minutes = Math.round((Date.now() - ms) / 60_000);
  if (minutes < 1) return 'just now';
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} h ago`;
  return `${Math.round(hours / 24)} days ago`;
}

/** A hatch or dot pattern per label, so the bars differ by more than colour. */
function patternFor(label) {
  const canvas = document.createElement('canvas');
  canvas.width = canvas.height = 8;
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = css(`--${label}`);
  ctx.globalAlpha = 0.75;
  ctx.fillRect(0, 0, 8, 8);
  ctx.globalAlpha = 1;
  ctx.strokeStyle = ctx.fillStyle = 'rgba(255,255,255,0.85)';
  ctx.lineWidth = 1.5;
  if (label === 'negative') {
    ctx.beginPath();
    ctx.moveTo(0, 8);
    ctx.lineTo(8, 0);
    ctx.moveTo(-2, 2);
    ctx.lineTo(2, -2);
    ctx.moveTo(6, 10);
    ctx.lineTo(10, 6);
    ctx.stroke();
  } else if (label === 'positive') {
    ctx.beginPath();
    ctx.arc(4, 4, 1.3, 0, Math.PI * 2);
    ctx.fill();
  }
  return ctx.createPattern(canvas, 'repeat');
}

// ---- Now ---------------------------------------------------------------------------------------

async function loadNegative() {
  const { total, threads: shown } = await getJson('negative', { platform: state.platform });
  const count = $('now-count');
  count.textContent = String(total);
  count.classList.toggle('zero', total === 0);
  const body = $('negative').querySelector('tbody');
  body.replaceChildren(
    ...shown.map((thread) => {
      const href = safeLink(thread.link);
      const link = href
        ? el('a', { href, target: thread.link.startsWith('/') ? undefined : '_blank', rel: 'noopener noreferrer' }, 'Open thread')
        : el('span', { class: 'muted' }, 'no link recorded');
      const turned = new Date(thread.turnedAt);
      return el(
        'tr',
        { 'data-conversation': thread.conversation },
        el('td', {}, platformName(thread.platform)),
        el('td', {}, channelName(thread)),
        el('td', {}, link),
        el('td', { class: 'num score-negative' }, signed(thread.score)),
        el('td', { class: 'num' }, String(thread.messages)),
        el('td', {}, el('time', { datetime: turned.toISOString(), title: turned.toISOString() }, ago(thread.turnedAt))),
      );
    }),
  );
  $('negative').hidden = shown.length === 0;
  $('negative-empty').hidden = shown.length > 0;
}

// ---- Over time ---------------------------------------------------------------------------------

/** Half a day either side, so the first and last day's bars are drawn whole. */
const padDays = (_u, min, max) => [min - 43_200, max + 43_200];

function chartWidth(container) {
  return Math.max(280, container.clientWidth || 600);
}

/**
 * One channel's chart: bars of each label's daily share drawn over each other (positive as the
 * whole bar, neutral and negative over it, so each visible band is one label), and the mean score.
 */
function channelChart(container, channel) {
  const x = channel.daily.map((day) => dayStart(day.day));
  const has = (day) => day.positive + day.neutral + day.negative > 0;
  const negative = channel.daily.map((day) => (has(day) ? day.share.negative * 100 : null));
  const neutralTop = channel.daily.map((day) => (has(day) ? (day.share.negative + day.share.neutral) * 100 : null));
  const all = channel.daily.map((day) => (has(day) ? 100 : null));
  const mean = channel.daily.map((day) => day.meanScore);
  const bars = uPlot.paths.bars({ size: [0.7, 40] });
  const share = (label) => (_u, _v, _s, i) => (i === null || !has(channel.daily[i]) ? '–' : percent(channel.daily[i].share[label]));
  const options = {
    width: chartWidth(container),
    height: 220,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: padDays }, share: { range: [0, 100] }, score: { range: [-1, 1] } },
    axes: [
      {},
      { scale: 'share', values: (_u, ticks) => ticks.map((tick) => `${tick}%`), label: 'share of messages' },
      { scale: 'score', side: 1, grid: { show: false }, values: (_u, ticks) => ticks.map((tick) => tick.toFixed(1)), label: 'mean score' },
    ],
    series: [
      { label: 'Day', value: (_u, ts) => (ts === null ? '–' : new Date(ts * 1000).toISOString().slice(0, 10)) },
      { label: NAMES.positive, scale: 'share', paths: bars, fill: patternFor('positive'), stroke: css('--positive'), width: 1, points: { show: false }, value: share('positive') },
      { label: NAMES.neutral, scale: 'share', paths: bars, fill: patternFor('neutral'), stroke: css('--neutral'), width: 1, points: { show: false }, value: share('neutral') },
      { label: NAMES.negative, scale: 'share', paths: bars, fill: patternFor('negative'), stroke: css('--negative'), width: 1, points: { show: false }, value: share('negative') },
      {
        label: 'Mean score',
        scale: 'score',
        stroke: '#1d1d1f',
        width: 2,
        dash: [6, 3],
        points: { show: true, size: 6 },
        spanGaps: false,
        value: (_u, v) => signed(v),
      },
    ],
  };
  const chart = new uPlot(options, [x, all, neutralTop, negative, mean], container);
  state.charts.channels.push({ chart, container });
}

function channelTable(channel, id) {
  const rows = channel.daily
    .filter((day) => day.positive + day.neutral + day.negative > 0)
    .map((day) =>
      el(
        'tr',
        {},
        el('th', { scope: 'row' }, day.day),
        ...LABELS.map((label) => el('td', { class: 'num' }, `${percent(day.share[label])} (${day[label]})`)),
        el('td', { class: 'num' }, String(day.positive + day.neutral + day.negative)),
        el('td', { class: 'num' }, signed(day.meanScore)),
      ),
    );
  const table = el(
    'table',
    { class: 'data', id },
    el('caption', { class: 'visually-hidden' }, `Daily sentiment in ${channelName(channel)}`),
    el(
      'thead',
      {},
      el('tr', {}, el('th', { scope: 'col' }, 'Day'), ...LABELS.map((label) => el('th', { scope: 'col', class: 'num' }, NAMES[label])), el('th', { scope: 'col', class: 'num' }, 'Messages'), el('th', { scope: 'col', class: 'num' }, 'Mean score')),
    ),
    el('tbody', {}, ...rows),
  );
  return el('div', { class: 'table-wrap', hidden: '' }, table);
}

/** A chart with a button that swaps it for its table (and back). */
function chartWithTable(title, meta, drawChart, table, key) {
  const chart = el('div', { class: 'chart', role: 'img', 'aria-label': `${title}: chart; the table has the same numbers` });
  const toggle = el('button', { type: 'button', 'aria-expanded': 'false', 'aria-controls': `${key}-table` }, 'Show table');
  table.id = `${key}-table`;
  toggle.addEventListener('click', () => {
    const showTable = table.hidden;
    table.hidden = !showTable;
    chart.hidden = showTable;
    toggle.setAttribute('aria-expanded', String(showTable));
    toggle.textContent = showTable ? 'Show chart' : 'Show table';
  });
  const article = el('article', { class: 'channel', 'data-key': key }, el('div', { class: 'channel-head' }, el('h3', {}, title), el('span', { class: 'meta' }, meta), toggle), chart, table);
  return { article, draw: () => drawChart(chart) };
}

async function loadChannels() {
  const report = await getJson('channels', { days: DAYS, platform: state.platform, limit: state.channelLimit });
  for (const { chart } of state.charts.channels) chart.destroy();
  state.charts.channels = [];
  const list = $('channels');
  list.replaceChildren();
  const drawn = report.channels.map((channel, i) => {
    const title = `${platformName(channel.platform)} · ${channelName(channel)}`;
    const { article, draw } = chartWithTable(title, `${channel.messages} message${channel.messages === 1 ? '' : 's'} in ${DAYS} days`, (node) => channelChart(node, channel), channelTable(channel), `channel-${i}`);
    article.dataset.channel = `${channel.platform}:${channel.workspaceId}:${channel.channelId}`;
    list.append(article);
    return draw;
  });
  for (const draw of drawn) draw();
  $('channels-empty').hidden = report.channels.length > 0;
  const more = $('more-channels');
  more.hidden = report.totalChannels <= report.channels.length;
  more.textContent = `Show more channels (${report.channels.length} of ${report.totalChannels})`;
}

// ---- Answers -----------------------------------------------------------------------------------

function answersChart(container, report) {
  const x = report.perDay.map((day) => dayStart(day.day));
  const options = {
    width: chartWidth(container),
    height: 200,
    tzDate: (ts) => uPlot.tzDate(new Date(ts * 1000), 'Etc/UTC'),
    cursor: { drag: { x: false, y: false } },
    scales: { x: { time: true, range: padDays }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
    // Whole answers only on the count axis.
    axes: [{}, { incrs: [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10_000], label: 'answers' }],
    series: [
      { label: 'Day', value: (_u, ts) => (ts === null ? '–' : new Date(ts * 1000).toISOString().slice(0, 10)) },
      { label: 'Thumbs up', stroke: css('--positive'), width: 2, points: { show: true, size: 7 } },
      { label: 'Thumbs down', stroke: css('--negative'), width: 2, dash: [6, 3], points: { show: true, size: 7 } },
      { label: 'Stopped', stroke: css('--neutral'), width: 2, dash: [2, 3], points: { show: true, size: 7 } },
    ],
  };
  const chart = new uPlot(options, [x, report.perDay.map((d) => d.up), report.perDay.map((d) => d.down), report.perDay.map((d) => d.stopped)], container);
  state.charts.answers.push({ chart, container });
}

function countsRow(name, counts) {
  return el('tr', {}, el('th', { scope: 'row' }, name), el('td', { class: 'num' }, String(counts.up)), el('td', { class: 'num' }, String(counts.down)), el('td', { class: 'num' }, String(counts.stopped)));
}

function countsTable(caption, first, rows, id) {
  return el(
    'table',
    { class: 'data', id },
    el('caption', { class: 'visually-hidden' }, caption),
    el('thead', {}, el('tr', {}, el('th', { scope: 'col' }, first), el('th', { scope: 'col', class: 'num' }, 'Thumbs up'), el('th', { scope: 'col', class: 'num' }, 'Thumbs down'), el('th', { scope: 'col', class: 'num' }, 'Stopped'))),
    el('tbody', {}, ...rows),
  );
}

async function loadAnswers() {
  const report = await getJson('answers', { days: DAYS });
  for (const { chart } of state.charts.answers) chart.destroy();
  state.charts.answers = [];
  const content = $('answers-content');
  content.replaceChildren();
  $('answers-empty').hidden = !report.empty;
  if (report.empty) return;
  const perDay = el('div', { class: 'table-wrap', hidden: '' }, countsTable('Answers per day', 'Day', report.perDay.filter((d) => d.up + d.down + d.stopped > 0).map((d) => countsRow(d.day, d))));
  const { article, draw } = chartWithTable(`Per day, last ${DAYS} days`, '', (node) => answersChart(node, report), perDay, 'answers-per-day');
  content.append(article, el('h3', {}, 'Per model'), countsTable('Answers per model', 'Model', report.perModel.map((m) => countsRow(m.model, m)), 'answers-per-model'));
  draw();
}

// ---- Page --------------------------------------------------------------------------------------

async function refresh() {
  const status = $('status');
  status.textContent = 'Loading…';
  try {
    await Promise.all([loadNegative(), loadChannels(), loadAnswers()]);
    status.textContent = `Updated ${new Date().toISOString().slice(11, 16)} UTC${state.info.sentimentEnabled ? '' : ' · sentiment is off (SENTIMENT_ENABLED=false)'}`;
  } catch (error) {
    status.textContent = `Could not load the insights: ${error.message}`;
  }
}

async function start() {
  state.info = await getJson('info');
  const select = $('platform');
  for (const platform of state.info.platforms) select.append(el('option', { value: platform }, platformName(platform)));
  select.addEventListener('change', () => {
    state.platform = select.value;
    state.channelLimit = CHANNEL_PAGE;
    refresh();
  });
  $('filters').addEventListener('submit', (event) => event.preventDefault());
  $('refresh').addEventListener('click', refresh);
  $('more-channels').addEventListener('click', async () => {
    state.channelLimit += CHANNEL_PAGE;
    await loadChannels();
  });
  $('days').textContent = String(DAYS);
  let resizing;
  window.addEventListener('resize', () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const { chart, container } of [...state.charts.channels, ...state.charts.answers]) chart.setSize({ width: chartWidth(container), height: chart.height });
    }, 150);
  });
  await refresh();
  setInterval(refresh, REFRESH_MS);
  document.body.dataset.ready = 'true';
}

start().catch((error) => {
  $('status').textContent = `The insights page could not start: ${error.message}`;
});
