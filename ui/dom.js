// Small DOM and formatting helpers shared by the pages. Text always goes in as text
// (textContent), never as HTML: job names, log lines and errors come from users.

/** el('a.badge', {href: '#'}, 'text', child…): an element with classes, attributes, children. */
export function el(tag, attributes = {}, ...children) {
  const [name, ...classes] = tag.split('.');
  const node = document.createElement(name);
  if (classes.length) node.className = classes.join(' ');
  for (const [key, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') node.addEventListener(key.slice(2), value);
    else if (key === 'dataset') Object.assign(node.dataset, value);
    else node.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

/** Replaces every child of `node`. */
export function fill(node, ...children) {
  node.replaceChildren();
  for (const child of children.flat()) if (child) node.append(child);
  return node;
}

const STATES = ['queued', 'running', 'complete', 'error', 'canceled', 'pending'];

/** A coloured status badge; `state` is one of dray's job or step states (its colour). */
export function badge(state, label = state) {
  const known = STATES.includes(state) ? state : 'unknown';
  return el(`span.badge.state-${known}`, {}, label || 'unknown');
}

/** Milliseconds since the epoch of an RFC 3339 time, or NaN when empty. */
export function timeOf(text) {
  return text ? Date.parse(text) : NaN;
}

/** "14:02:07" today, "2026-12-05 14:02" otherwise; "" for no time. */
export function shortTime(text) {
  const ms = timeOf(text);
  if (Number.isNaN(ms)) return '';
  const date = new Date(ms);
  const pad = (n) => String(n).padStart(2, '0');
  const clock = `${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
  const today = new Date();
  if (date.toDateString() === today.toDateString()) return clock;
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${clock.slice(0, 5)}`;
}

/** A duration in milliseconds as "850 ms", "4.2 s", "3 m 05 s" or "2 h 04 m". */
export function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} m ${String(Math.floor(seconds % 60)).padStart(2, '0')} s`;
  return `${Math.floor(minutes / 60)} h ${String(minutes % 60).padStart(2, '0')} m`;
}

/** How long something ran: from `started` to `finished`, or to now while it runs. */
export function elapsed(started, finished) {
  const begin = timeOf(started);
  if (Number.isNaN(begin)) return '';
  const end = finished ? timeOf(finished) : Date.now();
  return duration(end - begin);
}

/** Asks for confirmation in the page's dialog; resolves true or false. */
export function confirmAction(title, text, yesLabel) {
  const dialog = document.getElementById('confirm-dialog');
  document.getElementById('confirm-title').textContent = title;
  document.getElementById('confirm-text').textContent = text;
  const yes = document.getElementById('confirm-yes');
  yes.textContent = yesLabel;
  return new Promise((resolve) => {
    const form = document.getElementById('confirm-form');
    const no = document.getElementById('confirm-no');
    const finish = (answer) => {
      form.removeEventListener('submit', onYes);
      no.removeEventListener('click', onNo);
      dialog.removeEventListener('cancel', onNo);
      dialog.close();
      resolve(answer);
    };
    const onYes = (event) => { event.preventDefault(); finish(true); };
    const onNo = (event) => { event.preventDefault(); finish(false); };
    form.addEventListener('submit', onYes);
    no.addEventListener('click', onNo);
    dialog.addEventListener('cancel', onNo);
    dialog.showModal();
    no.focus();
  });
}

/** Calls `render` at most once per animation frame, however often `schedule` is called. */
export function frameScheduler(render) {
  let pending = false;
  return function schedule() {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  };
}
