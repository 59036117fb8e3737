// The jobs page: newest first, filtered by status (by dray) and by name, kept live by
// GET /events, with polling while the stream is down. It holds only the pages it loaded
// (100 jobs each, "Load more" for the next), so 10,000 jobs cost one page, and re-renders
// only the rows whose job changed, once per animation frame.
import { followEvents, json } from './api.js';
import { badge, el, elapsed, fill, frameScheduler, shortTime, timeOf } from './dom.js';

const PAGE = 100;
const POLL_MS = 3000;
const STATUSES = ['queued', 'running', 'complete', 'error', 'canceled'];

export function mount(container) {
  const params = new URLSearchParams(sessionStorage.getItem('dray.jobs.filter') || '');
  const filter = { status: params.get('status') || '', name: params.get('name') || '' };
  const jobs = new Map();   // id -> summary, for the loaded window
  let order = [];           // ids, newest first
  let next = null;          // cursor of the page after the loaded ones
  let loading = false;
  let pollTimer = null;
  let loadGeneration = 0;
  const dirty = new Set();  // ids whose rows need drawing again
  let orderChanged = true;

  const statusSelect = el('select', { id: 'status-filter', 'aria-label': 'Status' },
    el('option', { value: '' }, 'All states'),
    STATUSES.map((s) => el('option', { value: s }, s)));
  statusSelect.value = filter.status;
  const nameInput = el('input', { id: 'name-filter', type: 'search', placeholder: 'Filter by name', 'aria-label': 'Name', maxlength: 256, value: filter.name });
  const liveNote = el('span.live', { id: 'live-state', role: 'status' }, 'connecting…');
  const tbody = el('tbody', { id: 'jobs-body' });
  const empty = el('p.empty', { id: 'jobs-empty', hidden: true }, 'No jobs yet.');
  const more = el('button', { type: 'button', id: 'load-more', hidden: true, onclick: () => loadPage(false) }, 'Load more');
  const errorBox = el('p.error', { id: 'jobs-error', role: 'alert', hidden: true });

  fill(container,
    el('div.page-head', {}, el('h1', {}, 'Jobs'), liveNote, el('a.button.primary', { href: '#/submit' }, 'New job')),
    el('div.filters', {}, statusSelect, nameInput),
    errorBox,
    el('div.table-wrap', {}, el('table.jobs', {},
      el('thead', {}, el('tr', {},
        el('th', { scope: 'col' }, 'Status'), el('th', { scope: 'col' }, 'Name'),
        el('th', { scope: 'col', class: 'num' }, 'Steps'), el('th', { scope: 'col', class: 'wide' }, 'Started'),
        el('th', { scope: 'col', class: 'num' }, 'Duration'))),
      tbody)),
    empty, more);

  const rows = new Map();  // id -> <tr>

  // As dray compares names: ASCII letters without case, every other character as it is.
  const asciiLower = (text) => text.replace(/[A-Z]/g, (c) => c.toLowerCase());
  function matches(job) {
    if (filter.status && job.state !== filter.status) return false;
    return !filter.name || asciiLower(job.name || '').includes(asciiLower(filter.name));
  }

  function drawRow(job) {
    let row = rows.get(job.id);
    if (!row) {
      row = el('tr', { dataset: { id: job.id } });
      rows.set(job.id, row);
    }
    const steps = `${job.stepsCompleted}/${job.totalSteps}`;
    fill(row,
      el('td', {}, badge(job.state)),
      el('td.name', {}, el('a', { href: `#/jobs/${job.id}` }, job.name || job.id.slice(0, 8)),
        job.name ? el('span.id', {}, job.id.slice(0, 8)) : null),
      el('td.num', {}, steps),
      el('td.wide', {}, shortTime(job.startedAt || job.createdAt)),
      el('td.num.duration', {}, elapsed(job.startedAt, job.finishedAt)));
    return row;
  }

  const render = frameScheduler(() => {
    if (orderChanged) {
      const wanted = order.map((id) => (dirty.has(id) || !rows.has(id) ? drawRow(jobs.get(id)) : rows.get(id)));
      for (const [id, row] of rows) if (!jobs.has(id)) { row.remove(); rows.delete(id); }
      tbody.replaceChildren(...wanted);
      orderChanged = false;
    } else {
      for (const id of dirty) if (jobs.has(id)) drawRow(jobs.get(id));
    }
    dirty.clear();
    empty.hidden = order.length > 0;
    more.hidden = next === null;
  });

  function put(job) {
    if (!matches(job)) {
      if (jobs.delete(job.id)) {
        order = order.filter((id) => id !== job.id);
        orderChanged = true;
      }
      render();
      return;
    }
    const known = jobs.has(job.id);
    if (!known) {
      // Place it by creation time; a job older than the loaded window stays for "Load more".
      const created = timeOf(job.createdAt);
      const oldest = order.length ? timeOf(jobs.get(order[order.length - 1]).createdAt) : -Infinity;
      if (next !== null && created < oldest) return;
      let at = order.findIndex((id) => timeOf(jobs.get(id).createdAt) < created);
      if (at < 0) at = order.length;
      order.splice(at, 0, job.id);
      orderChanged = true;
    }
    jobs.set(job.id, job);
    dirty.add(job.id);
    render();
  }

  function remove(id) {
    if (!jobs.delete(id)) return;
    order = order.filter((other) => other !== id);
    orderChanged = true;
    render();
  }

  function query(before) {
    const q = new URLSearchParams({ limit: String(PAGE) });
    if (before) q.set('before', before);
    if (filter.status) q.set('status', filter.status);
    if (filter.name) q.set('name', filter.name);
    return `/jobs?${q}`;
  }

  // fresh: the first page again (on a filter change, resync or poll); else the next page.
  async function loadPage(fresh) {
    if (loading && !fresh) return;
    loading = true;
    const generation = fresh ? ++loadGeneration : loadGeneration;
    try {
      const page = await json(query(fresh ? null : next));
      if (generation !== loadGeneration) return;
      errorBox.hidden = true;
      if (fresh) {
        // With one page loaded it is replaced (jobs gone since are dropped); with more, the
        // first page is merged in and the rest stays (events keep it current).
        if (order.length <= PAGE) {
          jobs.clear();
          order = [];
          next = page.next;
        }
        orderChanged = true;
        for (const job of page.jobs) {
          if (!jobs.has(job.id)) order.push(job.id);
          jobs.set(job.id, job);
          dirty.add(job.id);
        }
        order.sort((a, b) => timeOf(jobs.get(b).createdAt) - timeOf(jobs.get(a).createdAt));
      } else {
        for (const job of page.jobs) {
          if (jobs.has(job.id)) continue;
          jobs.set(job.id, job);
          order.push(job.id);
          dirty.add(job.id);
        }
        next = page.next;
        orderChanged = true;
      }
      render();
    } catch (error) {
      errorBox.textContent = `Could not load jobs: ${error.message}`;
      errorBox.hidden = false;
    } finally {
      loading = false;
    }
  }

  function startPolling() {
    if (pollTimer) return;
    pollTimer = setInterval(() => loadPage(true), POLL_MS);
  }
  function stopPolling() {
    clearInterval(pollTimer);
    pollTimer = null;
  }

  const stream = followEvents('/events', {
    onEvent(event) {
      if (event.type === 'state') put(JSON.parse(event.data));
      else if (event.type === 'removed') remove(JSON.parse(event.data).id);
      else if (event.type === 'resync') loadPage(true);
    },
    onState(state) {
      if (state === 'open') {
        liveNote.textContent = 'live';
        liveNote.className = 'live on';
        if (pollTimer) loadPage(true);  // what happened while the stream was down
        stopPolling();
      } else {
        liveNote.textContent = 'polling';
        liveNote.className = 'live off';
        startPolling();
      }
    },
  });

  // The duration of running jobs goes on while nothing is sent.
  const ticker = setInterval(() => {
    for (const id of order) if (jobs.get(id).state === 'running') dirty.add(id);
    if (dirty.size) render();
  }, 1000);

  function applyFilters() {
    filter.status = statusSelect.value;
    filter.name = nameInput.value.trim();
    const saved = new URLSearchParams();
    if (filter.status) saved.set('status', filter.status);
    if (filter.name) saved.set('name', filter.name);
    sessionStorage.setItem('dray.jobs.filter', saved.toString());
    jobs.clear();
    order = [];
    next = null;
    orderChanged = true;
    loadPage(true);
  }
  let nameTimer = null;
  statusSelect.addEventListener('change', applyFilters);
  nameInput.addEventListener('input', () => {
    clearTimeout(nameTimer);
    nameTimer = setTimeout(applyFilters, 250);
  });

  loadPage(true);
  return () => {
    stream.close();
    stopPolling();
    clearInterval(ticker);
    clearTimeout(nameTimer);
  };
}
