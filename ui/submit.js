// The submit page: a JSON editor with line numbers, pre-filled with the Word Job. A job
// that is not JSON is caught here; dray's 400 message is shown next to the line of the
// field it names. A created job opens its page.
import { errorMessage, request } from './api.js';
import { el, fill } from './dom.js';
import { lineOfMessage } from './json_lines.js';

const LINE_HEIGHT = 20;  // px; style.css gives the editor and its gutter the same

const EXAMPLE = {
  name: 'Word Job',
  environment: [{ variable: 'WORD_COUNT', value: '3' }],
  steps: [
    { source: 'dray-test/randword' },
    { source: 'dray-test/upper' },
    { source: 'dray-test/reverse' },
  ],
};

export function mount(container) {
  const editor = el('textarea', {
    id: 'job-editor', spellcheck: 'false', autocomplete: 'off', wrap: 'off',
    'aria-label': 'Job as JSON', 'aria-describedby': 'submit-error',
  });
  // Never kept in the browser's storage: a job may carry secrets.
  editor.value = JSON.stringify(EXAMPLE, null, 2);
  const gutter = el('div.gutter', { 'aria-hidden': 'true' });
  const fieldNote = el('div.field-error', { id: 'field-error', hidden: true });
  const errorBox = el('p.error', { id: 'submit-error', role: 'alert', hidden: true });
  const submit = el('button', { type: 'submit', id: 'submit-job', class: 'primary' }, 'Submit job');
  const reset = el('button', { type: 'button', id: 'reset-job' }, 'Reset example');
  const form = el('form', { id: 'submit-form', novalidate: true },
    el('div.editor', {}, gutter, editor, fieldNote),
    errorBox,
    el('div.actions', {}, submit, reset));
  fill(container,
    el('div.page-head', {}, el('h1', {}, 'Submit a job')),
    el('p.hint', {}, 'A job is a list of images; each step\'s output is the next one\'s input. ',
      'The fields are described in the API reference (docs/api.md).'),
    form);

  let errorLine = null;

  function drawGutter() {
    const count = editor.value.split('\n').length;
    const numbers = [];
    for (let i = 1; i <= count; i += 1) {
      numbers.push(el(i === errorLine ? 'div.bad' : 'div', {}, String(i)));
    }
    gutter.replaceChildren(...numbers);
    placeNote();
  }

  function placeNote() {
    gutter.scrollTop = editor.scrollTop;
    if (errorLine === null) return;
    fieldNote.style.top = `${(errorLine - 1) * LINE_HEIGHT - editor.scrollTop + 8}px`;
  }

  function showError(message, line) {
    errorLine = line;
    errorBox.textContent = line ? `Line ${line}: ${message}` : message;
    errorBox.hidden = !message;
    fieldNote.textContent = message;
    fieldNote.hidden = !message || !line;
    if (line) fieldNote.dataset.line = String(line);
    editor.setAttribute('aria-invalid', message ? 'true' : 'false');
    drawGutter();
  }

  // JSON.parse's message names a position; turn it into a line.
  function syntaxLine(error) {
    const position = /position (\d+)/.exec(error.message);
    const lineMatch = /line (\d+)/.exec(error.message);
    if (lineMatch) return Number(lineMatch[1]);
    if (!position) return null;
    return editor.value.slice(0, Number(position[1])).split('\n').length;
  }

  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const text = editor.value;
    try {
      JSON.parse(text);
    } catch (error) {
      showError(`Not valid JSON: ${error.message}`, syntaxLine(error));
      return;
    }
    submit.disabled = true;
    try {
      const response = await request('/jobs', { method: 'POST', body: text, headers: { 'Content-Type': 'application/json' } });
      if (response.status === 201) {
        const job = await response.json();
        location.hash = `#/jobs/${job.id}`;
        return;
      }
      const message = await errorMessage(response);
      showError(message, response.status === 400 || response.status === 403 ? lineOfMessage(text, message) : null);
    } catch (error) {
      showError(error.message, null);
    } finally {
      submit.disabled = false;
    }
  });
  reset.addEventListener('click', () => {
    editor.value = JSON.stringify(EXAMPLE, null, 2);
    showError('', null);
  });
  editor.addEventListener('input', () => {
    if (errorLine !== null) showError('', null);
    else drawGutter();
  });
  editor.addEventListener('scroll', placeNote);
  // Tab indents instead of leaving the editor; Escape then Tab leaves it (keyboard users).
  let escaped = false;
  editor.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') { escaped = true; return; }
    if (event.key === 'Tab' && !event.shiftKey && !escaped) {
      event.preventDefault();
      editor.setRangeText('  ', editor.selectionStart, editor.selectionEnd, 'end');
      drawGutter();
    }
    escaped = false;
  });
  drawGutter();
  return () => {};
}
