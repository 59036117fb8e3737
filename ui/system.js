// The system page: health of the engine and storage, a few numbers from /metrics, the
// nodes sharing this storage and the loaded plugins. Refreshed every 5 s.
import { json, request, text } from './api.js';
import { badge, el, fill, shortTime } from './dom.js';

const REFRESH_MS = 5000;

// name -> label of the Prometheus series shown (summed over their labels).
const NUMBERS = [
  ['dray_workers', 'Workers'],
  ['dray_jobs_running', 'Running jobs'],
  ['dray_jobs_queued', 'Queued jobs'],
  ['dray_jobs_finished_total', 'Jobs finished'],
  ['dray_steps_total', 'Steps run'],
  ['dray_log_lines_total', 'Log lines'],
  ['dray_event_followers', 'Event followers'],
  ['dray_engine_errors_total', 'Engine errors'],
];

/** Sums each series of a Prometheus text answer by metric name. */
export function sumMetrics(body) {
  const sums = new Map();
  for (const line of body.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+(\S+)/.exec(line);
    if (!match) continue;
    const value = Number(match[3]);
    if (Number.isFinite(value)) sums.set(match[1], (sums.get(match[1]) || 0) + value);
  }
  return sums;
}

export function mount(container) {
  const health = el('section', { id: 'health' });
  const numbers = el('section', { id: 'numbers' });
  const nodes = el('section', { id: 'nodes' });
  const plugins = el('section', { id: 'plugins' });
  fill(container, el('div.page-head', {}, el('h1', {}, 'System')), health, numbers, nodes, plugins);

  async function loadHealth() {
    // 503 still has the body that says what is wrong.
    const response = await request('/healthz');
    const body = await response.json();
    const part = (name, check) => el('div.check', { dataset: { ok: String(check.ok) } },
      el('strong', {}, name), badge(check.ok ? 'complete' : 'error', check.ok ? 'ok' : 'failing'), el('span', {}, check.detail));
    fill(health, el('h2', {}, 'Health ', badge(body.status === 'ok' ? 'complete' : 'error', body.status)),
      part('Engine', body.engine), part('Storage', body.storage));
  }

  async function loadNumbers() {
    const sums = sumMetrics(await text('/metrics'));
    fill(numbers, el('h2', {}, 'Numbers'), el('dl.numbers', {}, NUMBERS.filter(([name]) => sums.has(name))
      .map(([name, label]) => el('div', {}, el('dt', {}, label), el('dd', { dataset: { metric: name } }, sums.get(name).toLocaleString('en'))))));
  }

  async function loadNodes() {
    const list = await json('/nodes');
    fill(nodes, el('h2', {}, 'Nodes'), el('div.table-wrap', {}, el('table', {},
      el('thead', {}, el('tr', {}, ['Name', 'Engine', 'Workers', 'Running', 'Queued', 'Heartbeat', 'Version'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, list.map((node) => el('tr', {},
        el('td', {}, node.name), el('td', {}, node.engine), el('td.num', {}, node.workers), el('td.num', {}, node.running),
        el('td.num', {}, node.queued), el('td', {}, shortTime(node.heartbeat)), el('td', {}, node.version)))))));
  }

  async function loadPlugins() {
    const list = await json('/plugins');
    fill(plugins, el('h2', {}, 'Plugins'), el('div.table-wrap', {}, el('table', { id: 'plugin-table' },
      el('thead', {}, el('tr', {}, ['Kind', 'Name', 'Version', 'Summary'].map((h) => el('th', { scope: 'col' }, h)))),
      el('tbody', {}, list.map((plugin) => el('tr', {},
        el('td', {}, plugin.kind), el('td', {}, plugin.name), el('td', {}, plugin.version), el('td', {}, plugin.summary || '')))))));
  }

  function load() {
    for (const [loader, section] of [[loadHealth, health], [loadNumbers, numbers], [loadNodes, nodes], [loadPlugins, plugins]]) {
      loader().catch((error) => fill(section, el('p.error', { role: 'alert' }, `${section.id}: ${error.message}`)));
    }
  }
  load();
  const timer = setInterval(load, REFRESH_MS);
  return () => clearInterval(timer);
}
