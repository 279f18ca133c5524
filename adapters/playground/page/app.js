// The playground page: plain browser JavaScript, no build step. Messages come from the service's
// API; every change (a new message, each streamed edit, a sentiment tag) arrives over server-sent
// events and re-renders that one message.

const API = 'api';
const TAG_EMOJI = { positive: '🟢', neutral: '⚪', negative: '🔴' };

const state = { info: undefined, channel: 'general', thread: undefined, messages: new Map(), replies: new Map() };
const $ = (id) => document.getElementById(id);

/** Escaped HTML of a little Markdown: code blocks, inline code, bold, italics, links, quotes. */
function renderMarkdown(text) {
  const escape = (value) => value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  const inline = (line) =>
    escape(line)
      .replace(/`([^`]+)`/g, '<code>$1</code>')
      .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
      .replace(/(^|[\s(])[_*]([^_*]+)[_*](?=[\s).,!?:;]|$)/g, '$1<em>$2</em>')
      .replace(/\[([^\]]+)\]\((https?:\/\/[^\s)]+)\)/g, '<a href="$2" rel="noopener noreferrer" target="_blank">$1</a>');
  const html = [];
  let code;
  for (const line of text.split('\n')) {
    if (/^\s*(```|~~~)/.test(line)) {
      if (code) {
        html.push(`<pre><code>${escape(code.join('\n'))}</code></pre>`);
        code = undefined;
      } else code = [];
    } else if (code) code.push(line);
    else if (line.startsWith('>')) html.push(`<blockquote>${inline(line.replace(/^>\s?/, ''))}</blockquote>`);
    else if (line.trim()) html.push(`<p>${inline(line)}</p>`);
  }
  if (code) html.push(`<pre><code>${escape(code.join('\n'))}</code></pre>`);
  return html.join('');
}

function messageElement(message) {
  const item = document.createElement('li');
  item.id = `message-${message.id}`;
  item.dataset.id = message.id;
  item.className = `message ${message.author}${message.ephemeral ? ' ephemeral' : ''}`;
  const botName = state.info?.demoModel ? 'HF bot (offline demo model)' : 'HF bot';
  const meta = document.createElement('div');
  meta.className = 'meta';
  meta.innerHTML = `<span class="author">${message.author === 'bot' ? botName : 'you'}</span>`;
  if (message.demo) meta.insertAdjacentHTML('beforeend', '<span class="badge demo">demo model</span>');
  if (message.ephemeral) meta.insertAdjacentHTML('beforeend', '<span class="badge">only visible to you</span>');
  if (message.tag) {
    meta.insertAdjacentHTML('beforeend', `<span class="tag" data-tag="${message.tag}">${TAG_EMOJI[message.tag] ?? ''} ${message.tag}</span>`);
  }
  const body = document.createElement('div');
  body.className = 'body';
  body.innerHTML = renderMarkdown(message.text);
  item.append(meta, body);
  if (message.answering) {
    const stop = document.createElement('button');
    stop.type = 'button';
    stop.className = 'stop';
    stop.textContent = '⏹ Stop';
    stop.setAttribute('aria-label', 'Stop this answer');
    stop.addEventListener('click', () => {
      stop.disabled = true;
      fetch(`${API}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ messageId: message.id }) }).catch(() => {
        stop.disabled = false;
      });
    });
    item.append(stop);
  }
  if (message.channel === 'general' && !message.threadId && !message.ephemeral) {
    const count = state.replies.get(message.id)?.size ?? 0;
    const link = document.createElement('button');
    link.type = 'button';
    link.className = 'thread-link';
    link.textContent = count > 0 ? `${count} ${count === 1 ? 'reply' : 'replies'}: open thread` : 'Reply in thread';
    link.addEventListener('click', () => openThread(message.id));
    item.append(link);
  }
  return item;
}

function listFor(message) {
  if (message.channel !== state.channel) return undefined;
  if (message.threadId) return message.threadId === state.thread ? $('thread-messages') : undefined;
  return $('messages');
}

/**
 * Keeps a thread's replies, as the platforms count them (notices only you can see are not part of
 * the thread), by id: the same reply seen again, streamed edits included, counts once.
 */
function countReply(message) {
  if (!message.threadId || message.ephemeral) return;
  const replies = state.replies.get(message.threadId) ?? new Set();
  const before = replies.size;
  if (message.deleted) replies.delete(message.id);
  else replies.add(message.id);
  state.replies.set(message.threadId, replies);
  const root = state.messages.get(message.threadId);
  if (root && replies.size !== before) upsert(root);
}

function upsert(message) {
  state.messages.set(message.id, message);
  countReply(message);
  for (const list of new Set([listFor(message), message.id === state.thread ? $('thread-messages') : undefined])) {
    if (!list) continue;
    const existing = list.querySelector(`[data-id="${message.id}"]`);
    if (message.deleted) existing?.remove();
    else if (existing) replaceKeepingFocus(existing, messageElement(message));
    else {
      list.append(messageElement(message));
      list.scrollTop = list.scrollHeight;
    }
  }
}

/** A message re-rendered (a reply counted, an edit) keeps the keyboard on the control it was on. */
function replaceKeepingFocus(existing, replacement) {
  const focused = existing.contains(document.activeElement) ? document.activeElement.classList[0] : undefined;
  existing.replaceWith(replacement);
  if (focused) replacement.querySelector(`.${focused}`)?.focus();
}

async function load(list, channel, thread) {
  const query = new URLSearchParams({ channel, ...(thread ? { thread } : {}) });
  const { messages, replies } = await (await fetch(`${API}/messages?${query}`)).json();
  for (const [id, ids] of Object.entries(replies ?? {})) state.replies.set(id, new Set(ids));
  list.replaceChildren();
  for (const message of messages) {
    state.messages.set(message.id, message);
    if (message.threadId && !thread) continue;
    list.append(messageElement(message));
  }
  list.scrollTop = list.scrollHeight;
}

async function showChannel(channel) {
  state.channel = channel;
  closeThread();
  for (const button of document.querySelectorAll('nav button')) button.setAttribute('aria-current', String(button.dataset.channel === channel));
  $('channel-title').textContent = channel === 'dm' ? 'DM with the bot' : '# general';
  $('composer-text').placeholder = channel === 'dm' ? 'Message the bot' : 'Message #general (mention @bot)';
  await load($('messages'), channel);
}

async function openThread(id) {
  state.thread = id;
  $('thread').hidden = false;
  document.querySelector('.layout').classList.add('with-thread');
  await load($('thread-messages'), state.channel, id);
  $('thread-text').focus();
}

function closeThread() {
  state.thread = undefined;
  $('thread').hidden = true;
  $('thread-messages').replaceChildren();
  $('thread-error').textContent = '';
  document.querySelector('.layout').classList.remove('with-thread');
}

/** Sends a composer's text; `inThread` composers send nothing once their thread is closed. */
async function send(composer) {
  const text = composer.textarea.value.trim();
  const threadId = composer.inThread ? state.thread : undefined;
  if (!text || (composer.inThread && !threadId)) return;
  composer.error.textContent = '';
  // Cleared at once, so what is typed next is never wiped by this send finishing; put back if not sent.
  composer.textarea.value = '';
  const fail = (message) => {
    composer.error.textContent = message;
    if (!composer.textarea.value) composer.textarea.value = text;
  };
  let response;
  try {
    response = await fetch(`${API}/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ channel: state.channel, ...(threadId ? { threadId } : {}), text }),
    });
  } catch {
    fail('Not sent: the service did not answer. Is it still running?');
    return;
  }
  if (!response.ok) fail((await response.json().catch(() => ({}))).error ?? `Not sent (HTTP ${response.status})`);
}

function wireComposer(composer) {
  composer.form.addEventListener('submit', (event) => {
    event.preventDefault();
    send(composer);
  });
  composer.textarea.addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey) {
      event.preventDefault();
      send(composer);
    }
  });
  // An error is about what was sent: editing or clearing the box clears it.
  composer.textarea.addEventListener('input', () => {
    composer.error.textContent = '';
  });
}

async function start() {
  state.info = await (await fetch(`${API}/info`)).json();
  const status = $('model-status');
  if (state.info.demoModel) {
    status.textContent = 'No HF_TOKEN is set: answers come from the offline demo model, not a real model. Set HF_TOKEN and restart to use Hugging Face.';
    status.classList.add('demo');
  } else {
    status.textContent = `Model: ${state.info.model} on Hugging Face · long answers split like ${state.info.style === 'discord' ? 'Discord' : 'Slack'}`;
  }
  for (const button of document.querySelectorAll('nav button')) button.addEventListener('click', () => showChannel(button.dataset.channel));
  $('close-thread').addEventListener('click', closeThread);
  wireComposer({ form: $('composer'), textarea: $('composer-text'), error: $('composer-error'), inThread: false });
  wireComposer({ form: $('thread-composer'), textarea: $('thread-text'), error: $('thread-error'), inThread: true });
  const events = new EventSource(`${API}/events`);
  events.onmessage = (event) => upsert(JSON.parse(event.data));
  await showChannel('general');
  // A link to a thread (from the insights page): /playground/?thread=m12 opens it.
  const linked = new URLSearchParams(location.search).get('thread');
  if (linked && /^m\d+$/.test(linked)) await openThread(linked);
  document.body.dataset.ready = 'true';
}

start().catch((error) => {
  $('model-status').textContent = `The playground could not start: ${error.message}`;
});
