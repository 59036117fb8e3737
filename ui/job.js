// One job: its state, a step timeline, its definition (secrets as ***), the live log and
// the actions (cancel, delete, downloads). Everything after the first load comes from the
// job's event stream, which resumes after a reconnect where it stopped.
import { ApiError, download, followEvents, json, request, errorMessage, saveBlob } from './api.js';
import { badge, confirmAction, duration, el, elapsed, fill, frameScheduler, shortTime, timeOf } from './dom.js';
import { LogView } from './log_view.js';

const ACTIVE = new Set(['queued', 'running']);

export function mount(container, [id]) {
  let record = null;
  let definition = null;
  let stream = null;
  let ended = false;
  let closed = false;  // the page was left: nothing may start after that
  const log = new LogView();

  const title = el('h1', { id: 'job-title' }, id);
  const stateBadge = el('span', { id: 'job-state' });
  const message = el('p.error', { id: 'job-error', role: 'alert', hidden: true });
  const notice = el('p.notice', { id: 'job-notice', hidden: true });
  const cancelButton = el('button', { type: 'button', id: 'cancel-job', class: 'danger', onclick: cancel }, 'Cancel');
  const deleteButton = el('button', { type: 'button', id: 'delete-job', onclick: remove }, 'Delete');
  const logButton = el('button', { type: 'button', id: 'download-log', onclick: downloadLog }, 'Download log');
  const outputButton = el('button', { type: 'button', id: 'download-output', onclick: downloadOutput }, 'Download output');
  const facts = el('dl.facts', { id: 'job-facts' });
  const timeline = el('div.timeline', { id: 'timeline', role: 'list', 'aria-label': 'Step timeline' });
  const environment = el('div', { id: 'job-environment' });
  const stepsTable = el('div', { id: 'job-steps' });

  fill(container,
    el('p.crumbs', {}, el('a', { href: '#/jobs' }, '← Jobs')),
    el('div.page-head', {}, title, stateBadge),
    el('p.id', {}, id),
    el('div.actions', {}, cancelButton, deleteButton, logButton, outputButton),
    message, notice, facts,
    el('h2', {}, 'Steps'), timeline,
    el('h2', {}, 'Log ', log.count), log.element,
    el('details', { id: 'definition' }, el('summary', {}, 'Definition'), environment, stepsTable));

  function showError(text) {
    message.textContent = text;
    message.hidden = !text;
  }

  const render = frameScheduler(() => {
    if (!record) return;
    title.textContent = record.name || 'Job';
    fill(stateBadge, badge(record.state));
    const active = ACTIVE.has(record.state);
    cancelButton.hidden = !active;
    outputButton.disabled = record.state !== 'complete';
    fill(facts,
      fact('Created', shortTime(record.createdAt)),
      fact('Started', shortTime(record.startedAt) || '—'),
      fact('Finished', shortTime(record.finishedAt) || '—'),
      fact('Duration', elapsed(record.startedAt, record.finishedAt) || '—'),
      fact('Steps done', `${record.stepsCompleted}/${record.totalSteps}`),
      fact('Mode', (definition && definition.mode) || 'sequential'),
      record.creator ? fact('Creator', record.creator) : null,
      fact('Node', record.node || 'waiting for a node'));
    drawTimeline();
  });

  function fact(name, value) {
    return el('div', {}, el('dt', {}, name), el('dd', {}, value));
  }

  // One bar per step on a shared time axis: overlapping bars are a stream-mode job.
  function drawTimeline() {
    const steps = record.steps || [];
    const starts = steps.map((s) => timeOf(s.startedAt)).filter((t) => !Number.isNaN(t));
    const begin = Math.min(timeOf(record.startedAt) || Infinity, ...starts);
    const ends = steps.map((s) => timeOf(s.finishedAt)).filter((t) => !Number.isNaN(t));
    const finish = ACTIVE.has(record.state) ? Date.now() : Math.max(timeOf(record.finishedAt) || 0, ...ends);
    const span = Math.max(finish - begin, 1);
    const axis = Number.isFinite(begin)
      ? el('div.axis', { 'aria-hidden': 'true' }, el('span.spacer'),
        el('div.ticks', {}, el('span', {}, '0 s'), el('span', {}, duration(span / 2)), el('span', {}, duration(span))), el('span.spacer'))
      : null;
    fill(timeline, axis, steps.map((step, index) => {
      const bar = el(`div.bar.state-${step.state}`);
      const started = timeOf(step.startedAt);
      if (Number.isFinite(begin) && !Number.isNaN(started)) {
        const stopped = Number.isNaN(timeOf(step.finishedAt)) ? finish : timeOf(step.finishedAt);
        bar.style.left = `${((started - begin) / span) * 100}%`;
        bar.style.width = `${Math.max(((stopped - started) / span) * 100, 0.5)}%`;
      } else {
        bar.hidden = true;
      }
      const attempts = step.attempt || step.attempts || 0;
      const exit = step.exitCode === undefined ? null
        : el(`span.exit-code.${step.exitCode === 0 ? 'ok' : 'bad'}`, {}, `exit ${step.exitCode}`);
      return el('div.step-row', { role: 'listitem', dataset: { index: String(index), state: step.state } },
        el('div.step-label', {}, el('span.step-index', {}, `${index + 1}`), ' ', step.name || step.image),
        el('div.track', {}, bar),
        el('div.step-facts', {}, badge(step.state), exit,
          attempts > 1 ? el('span.attempt', {}, `attempt ${attempts}`) : null,
          el('span.step-time', {}, step.startedAt ? elapsed(step.startedAt, step.finishedAt) : '')));
    }));
  }

  function drawDefinition() {
    if (!definition) return;
    const variables = [
      ...(definition.environment || []).map((v) => ({ name: v.variable, value: v.value, kind: 'environment' })),
      // Shown as *** whatever the answer holds: a secret has no place on a screen.
      ...(definition.secrets || []).map((v) => ({ name: v.variable, value: '***', kind: 'secret' })),
    ];
    fill(environment, el('h3', {}, 'Environment'), variables.length === 0 ? el('p.empty', {}, 'None.')
      : el('table.env', {}, el('tbody', {}, variables.map((v) => el('tr', { dataset: { kind: v.kind } },
        el('th', { scope: 'row' }, v.name), el('td', {}, v.value), el('td.kind', {}, v.kind))))));
    const steps = definition.steps || [];
    fill(stepsTable, el('h3', {}, 'Steps as submitted'), el('div.table-wrap', {}, el('table.steps', {},
      el('thead', {}, el('tr', {}, el('th', {}, '#'), el('th', {}, 'Image'), el('th', {}, 'Output'), el('th', {}, 'Environment'))),
      el('tbody', {}, steps.map((step, index) => el('tr', {},
        el('td', {}, String(index + 1)),
        el('td', {}, step.name ? `${step.name} (${step.source})` : step.source),
        el('td', {}, step.output || 'stdout'),
        el('td', {}, (step.environment || []).map((v) => el('div', {}, `${v.variable}=${v.value}`)))))))));
  }

  function onEvent(event) {
    const data = JSON.parse(event.data);
    switch (event.type) {
      case 'state':
        record = { ...(record || { steps: [] }), ...data };
        break;
      case 'step': {
        const steps = (record.steps || []).slice();
        steps[data.index] = { ...steps[data.index], ...data };
        record = { ...record, steps };
        break;
      }
      case 'log':
        if (data.index >= log.total) log.append([data.line]);
        return;
      case 'end':
        record = data;
        ended = true;
        stream.close();
        break;
      case 'removed':
        ended = true;
        stream.close();
        notice.textContent = 'This job was deleted.';
        notice.hidden = false;
        break;
      default:
        return;
    }
    render();
  }

  async function cancel() {
    if (!(await confirmAction('Cancel this job?', 'Its running step is stopped and its container removed.', 'Cancel job'))) return;
    const response = await request(`/jobs/${id}/cancel`, { method: 'POST' });
    showError(response.ok ? '' : await errorMessage(response));
  }

  async function remove() {
    const text = ACTIVE.has(record && record.state)
      ? 'The job is canceled first, then its records and log are deleted.'
      : 'Its records and log are deleted.';
    if (!(await confirmAction('Delete this job?', text, 'Delete job'))) return;
    const response = await request(`/jobs/${id}`, { method: 'DELETE' });
    if (response.status === 204) location.hash = '#/jobs';
    else showError(await errorMessage(response));
  }

  async function downloadLog() {
    try {
      const body = await json(`/jobs/${id}/log`);
      const text = body.lines.length ? `${body.lines.join('\n')}\n` : '';
      saveBlob(new Blob([text], { type: 'text/plain' }), `${id}.log`);
    } catch (error) {
      showError(`Could not download the log: ${error.message}`);
    }
  }

  async function downloadOutput() {
    try {
      await download(`/jobs/${id}/output`, `${id}.output`);
    } catch (error) {
      showError(`Could not download the output: ${error.message}`);
    }
  }

  (async () => {
    try {
      record = await json(`/jobs/${id}`);
    } catch (error) {
      showError(error instanceof ApiError && error.status === 404 ? `No such job: ${id}` : error.message);
      return;
    }
    if (closed) return;
    render();
    json(`/jobs/${id}/definition`).then((doc) => { definition = doc; drawDefinition(); render(); }, () => {});
    stream = followEvents(`/jobs/${id}/events`, {
      onEvent,
      onState(state, error) {
        if (state === 'failed') showError(error.status === 404 ? 'This job no longer exists.' : error.message);
        else if (state === 'retrying' && !ended) notice.textContent = 'Connection lost: reconnecting…';
        notice.hidden = state !== 'retrying' || ended;
      },
    });
  })();

  const ticker = setInterval(() => { if (record && ACTIVE.has(record.state)) render(); }, 1000);
  return () => {
    closed = true;
    if (stream) stream.close();
    log.destroy();
    clearInterval(ticker);
  };
}
