// The web UI in a real browser against the real dray and engine. One scenario per run:
//   node ui_test.mjs <scenario>     (CTest runs each as "ui: <scenario>", label ui)
import { execFileSync, spawn } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { check, checkEqual, containersOfJob, readDownload, texts, uiTest, waitFor } from './harness.mjs';

const WORDS = ['alpha', 'bravo', 'charlie', 'delta', 'echo'];
const WORD_JOB = {
  name: 'Word Job',
  environment: [{ variable: 'WORD_COUNT', value: '5' }],
  steps: [{ source: 'dray-test/randword' }, { source: 'dray-test/upper' }, { source: 'dray-test/reverse' }],
};
const REVERSED = WORDS.map((w) => [...w.toUpperCase()].reverse().join(''));
const script = (text, extra = {}) => ({ source: 'dray-test/script', environment: [{ variable: 'SCRIPT', value: text }], ...extra });

async function stateOnPage(page) {
  return page.$eval('#job-state', (node) => node.textContent).catch(() => '');
}
async function waitForPageState(page, state, ms = 60000) {
  await waitFor(`the job page to show ${state}`, async () => (await stateOnPage(page)) === state, ms);
}
async function setEditor(page, text) {
  await page.$eval('#job-editor', (editor, value) => {
    editor.value = value;
    editor.dispatchEvent(new Event('input'));
  }, text);
}
async function waitForFile(dir, name) {
  await waitFor(`download ${name}`, () => readdirSync(dir).includes(name), 10000);
  return readDownload(dir, name);
}
async function confirmDialog(page) {
  await page.waitForFunction(() => document.getElementById('confirm-dialog').open);
  await page.click('#confirm-yes');
}

const scenarios = {
  // Submitted through the form, the Word Job reaches complete on its page with its log.
  'word-job': () => uiTest('word-job', async ({ dray, page, shot, downloads }) => {
    await page.setExtraHTTPHeaders({});
    await page.goto(`${dray.base}/`);  // a browser asking for / is sent to the UI
    check(new URL(page.url()).pathname === '/ui/', `/ redirects a browser to /ui/, got ${page.url()}`);
    await page.waitForSelector('#jobs-body');
    await page.click('a[data-nav="submit"]');
    await page.waitForSelector('#job-editor');
    await setEditor(page, JSON.stringify(WORD_JOB, null, 2));
    await page.click('#submit-job');
    await page.waitForFunction(() => /^#\/jobs\/[0-9A-F-]{36}$/.test(location.hash));
    const id = await page.evaluate(() => location.hash.slice('#/jobs/'.length));
    await waitForPageState(page, 'complete');
    await waitFor('15 log lines', async () => (await page.$eval('#log-count', (n) => n.textContent)) === '15 lines');
    const lines = await texts(page, '.log-line');
    checkEqual(lines, [...WORDS, ...WORDS.map((w) => w.toUpperCase()), ...REVERSED], 'the log on the page');
    checkEqual(lines.slice(-5), REVERSED, 'the last step\'s five output lines');
    const rows = await page.$$eval('.step-row', (nodes) => nodes.map((n) => [n.dataset.state, n.querySelector('.exit-code')?.textContent]));
    checkEqual(rows, [['complete', 'exit 0'], ['complete', 'exit 0'], ['complete', 'exit 0']], 'the timeline');
    const bars = await page.$$eval('.step-row .bar', (nodes) => nodes.map((n) => n.getBoundingClientRect().width));
    check(bars.every((w) => w > 0), `every step has a bar on the time axis: ${bars}`);
    await page.click('#definition summary');
    const environment = await page.$$eval('#job-environment tr', (nodes) => nodes.map((n) => [...n.children].map((c) => c.textContent)));
    checkEqual(environment, [['WORD_COUNT', '5', 'environment']], 'the job\'s environment');
    await page.click('#download-log');
    checkEqual(await waitForFile(downloads, `${id}.log`), `${lines.join('\n')}\n`, 'the downloaded log');
    await page.click('#download-output');
    checkEqual(await waitForFile(downloads, `${id}.output`), `${REVERSED.join('\n')}\n`, 'the downloaded output');
    await shot('job-page.png');
    checkEqual(containersOfJob(id), [], 'containers left');
  }),

  // A failing step's exit code is shown in red, and dray's own lines are styled apart.
  'failing-job': () => uiTest('failing-job', async ({ dray, page }) => {
    const id = await dray.submit({ name: 'fails', steps: [script('echo before; exit 3')] });
    await page.goto(`${dray.base}/ui/#/jobs/${id}`);
    await waitForPageState(page, 'error');
    const exit = await page.$eval('.step-row[data-index="0"] .exit-code', (n) => ({ text: n.textContent, bad: n.classList.contains('bad'), color: getComputedStyle(n).color }));
    checkEqual(exit, { text: 'exit 3', bad: true, color: 'rgb(198, 40, 40)' }, 'the failed step\'s exit code, in red');
    await waitFor('the dray: line', async () => (await page.$$('.log-line.dray-line')).length === 1);
    const drayLine = await page.$eval('.log-line.dray-line', (n) => ({ text: n.textContent, color: getComputedStyle(n).color }));
    check(drayLine.text.startsWith('dray: step 1 (dray-test/script) failed: exited with code 3'), `dray line: ${drayLine.text}`);
    const plain = await page.$eval('.log-line:not(.dray-line)', (n) => ({ text: n.textContent, color: getComputedStyle(n).color }));
    checkEqual(plain.text, 'before', 'the step\'s own line');
    check(plain.color !== drayLine.color, 'dray: lines have a colour of their own');
  }),

  // Cancel from the job page stops the job and removes its container; Delete removes it.
  cancel: () => uiTest('cancel', async ({ dray, page }) => {
    const id = await dray.submit({ name: 'sleeper', steps: [script('echo started; sleep 300')] });
    await page.goto(`${dray.base}/ui/#/jobs/${id}`);
    await waitFor('the step to print', async () => (await texts(page, '.log-line')).includes('started'));
    await waitForPageState(page, 'running');
    await page.click('#cancel-job');
    await confirmDialog(page);
    await waitForPageState(page, 'canceled', 30000);
    checkEqual((await dray.api(`/jobs/${id}`)).json.status, 'canceled', 'the job\'s status');
    await waitFor('the container to be removed', () => containersOfJob(id).length === 0, 30000);
    await page.click('#delete-job');
    await confirmDialog(page);
    await page.waitForFunction(() => location.hash === '#/jobs');
    checkEqual((await dray.api(`/jobs/${id}`)).status, 404, 'the deleted job');
  }),

  // The jobs page shows a job posted through the API within 1 s, without a reload; filters,
  // keyboard navigation and a 360 px wide screen.
  'jobs-live': () => uiTest('jobs-live', async ({ dray, page, shot }) => {
    const done = [];
    for (const name of ['nightly build', 'report', 'Word Job']) {
      const id = await dray.submit({ ...WORD_JOB, name });
      done.push(await dray.waitForState(id, 'complete'));
    }
    const failed = await dray.submit({ name: 'broken step', steps: [script('exit 1')] });
    await dray.waitForState(failed, 'error');
    await page.goto(`${dray.base}/ui/`);
    await waitFor('the live stream', async () => (await page.$eval('#live-state', (n) => n.textContent)) === 'live');
    await waitFor('4 rows', async () => (await page.$$('#jobs-body tr')).length === 4);
    const posted = Date.now();
    const id = await dray.submit({ name: 'live one', steps: [script('sleep 2; echo done')] });
    await page.waitForSelector(`#jobs-body tr[data-id="${id}"]`, { timeout: Math.max(1000 - (Date.now() - posted), 1) });
    checkEqual(await page.$eval('#jobs-body tr', (n) => n.dataset.id), id, 'the new job comes first');
    await waitFor('the new job to complete on the page', async () =>
      (await page.$eval(`#jobs-body tr[data-id="${id}"] .badge`, (n) => n.textContent)) === 'complete', 30000);
    await shot('jobs-page.png');

    await page.type('#name-filter', 'word');
    await waitFor('jobs named like "word"', async () => JSON.stringify(await texts(page, '#jobs-body td.name a')) === '["Word Job"]');
    await page.$eval('#name-filter', (n) => { n.value = ''; n.dispatchEvent(new Event('input')); });
    await page.select('#status-filter', 'error');
    await waitFor('jobs in error', async () => JSON.stringify(await texts(page, '#jobs-body td.name a')) === '["broken step"]');
    await page.select('#status-filter', '');
    await waitFor('all jobs again', async () => (await page.$$('#jobs-body tr')).length === 5);

    // Keyboard only: Tab to the first job's link, Enter opens it.
    let focused = '';
    for (let i = 0; i < 30 && !focused.startsWith('#/jobs/'); i += 1) {
      await page.keyboard.press('Tab');
      focused = await page.evaluate(() => document.activeElement.getAttribute('href') || '');
    }
    checkEqual(focused, `#/jobs/${id}`, 'Tab reaches the first job');
    await page.keyboard.press('Enter');
    await page.waitForFunction((want) => location.hash === want, {}, `#/jobs/${id}`);
    await waitForPageState(page, 'complete');

    // 360 px: nothing wider than the screen, on the job page and the jobs page.
    await page.setViewport({ width: 360, height: 740 });
    for (const hash of [`#/jobs/${id}`, '#/jobs', '#/submit', '#/system']) {
      await page.evaluate((h) => { location.hash = h; }, hash);
      await new Promise((resolve) => setTimeout(resolve, 500));
      const width = await page.evaluate(() => document.documentElement.scrollWidth);
      check(width <= 360, `${hash} is ${width} px wide at 360 px`);
    }
    await shot('jobs-page-360.png');
  }),

  // A job dray refuses shows its message next to the line of the field it names.
  'bad-job': () => uiTest('bad-job', async ({ dray, page, expectStatus }) => {
    expectStatus(400);
    const bad = { name: 'bad', steps: [{ source: 'dray-test/upper' }, { source: 'dray-test/upper', output: 'fax' }] };
    const text = JSON.stringify(bad, null, 2);
    const expected = (await dray.api('/jobs', { method: 'POST', body: text })).json.error;
    check(expected.startsWith('steps[1].output'), `dray's message names the field: ${expected}`);
    await page.goto(`${dray.base}/ui/#/submit`);
    await page.waitForSelector('#job-editor');
    await setEditor(page, text);
    await page.click('#submit-job');
    await page.waitForSelector('#field-error:not([hidden])');
    const outputLine = text.split('\n').findIndex((l) => l.includes('"output"')) + 1;
    const note = await page.$eval('#field-error', (n) => ({ text: n.textContent, line: n.dataset.line }));
    checkEqual(note, { text: expected, line: String(outputLine) }, 'the message beside the output field');
    checkEqual(await page.$eval('.gutter .bad', (n) => n.textContent), String(outputLine), 'the marked line');
    checkEqual(await page.$eval('#submit-error', (n) => n.textContent), `Line ${outputLine}: ${expected}`, 'the message');
    check(await page.evaluate(() => location.hash === '#/submit'), 'still on the submit page');
    // Not JSON: caught before anything is sent.
    await setEditor(page, '{"steps": [}');
    await page.click('#submit-job');
    await waitFor('the syntax message', async () => (await page.$eval('#submit-error', (n) => n.textContent)).includes('Not valid JSON'));
    checkEqual((await dray.api('/jobs')).json, [], 'no job was created');
  }),

  // With a token set, the page asks for it, refuses a wrong one and never puts it in a URL.
  auth: () => uiTest('auth', async ({ dray, page, expectStatus }) => {
    expectStatus(401);
    const token = 'ui-test-token-4f9c2b7e01';
    const urls = [];
    page.on('request', (request) => urls.push(request.url()));
    await page.goto(`${dray.base}/ui/`);
    await page.waitForFunction(() => document.getElementById('token-dialog').open);
    await page.type('#token-input', 'not-the-token');
    await page.keyboard.press('Enter');
    await waitFor('the refusal', async () =>
      (await page.$eval('#token-error', (n) => (n.hidden ? '' : n.textContent))) === 'the bearer token is not valid');
    check(await page.evaluate(() => document.getElementById('token-dialog').open), 'the prompt stays');
    await page.$eval('#token-input', (n) => { n.value = ''; });
    await page.type('#token-input', token);
    await page.keyboard.press('Enter');
    await waitFor('the live jobs page', async () => (await page.$eval('#live-state', (n) => n.textContent)) === 'live');
    check(!(await page.evaluate(() => document.getElementById('token-dialog').open)), 'the prompt is closed');
    const id = await dray.submit({ name: 'with token', steps: [script('echo hi')] }, token);
    await page.waitForSelector(`#jobs-body tr[data-id="${id}"]`);
    await page.evaluate((h) => { location.hash = h; }, `#/jobs/${id}`);
    await waitForPageState(page, 'complete');
    checkEqual(await texts(page, '.log-line'), ['hi'], 'the log, read with the token');
    checkEqual(await page.evaluate(() => sessionStorage.getItem('dray.token')), token, 'kept in sessionStorage');
    check(urls.every((url) => !url.includes(token)), 'the token is in no URL');
  }, { env: { DRAY_TOKEN: 'ui-test-token-4f9c2b7e01' } }),

  // A long log arrives live, is drawn virtualised (few nodes) and follows the tail.
  'long-log': () => uiTest('long-log', async ({ dray, page }) => {
    const id = await dray.submit({
      name: 'long log',
      steps: [script('sleep 1; seq 1 20000', { beginDelimiter: 'NEVER-BEGIN', endDelimiter: 'NEVER-END' }), script('cat')],
    });
    await page.goto(`${dray.base}/ui/#/jobs/${id}`);
    await waitForPageState(page, 'complete');
    await waitFor('every line', async () => (await page.$eval('#log-count', (n) => n.textContent)) === '20,001 lines');
    const nodes = await page.$$eval('.log-line', (n) => n.length);
    check(nodes > 10 && nodes < 200, `only the lines in view are in the page (${nodes})`);
    await waitFor('the tail in view', async () => (await texts(page, '.log-line')).at(-1).startsWith('dray: beginDelimiter'));
    await page.$eval('#log', (n) => { n.scrollTop = 0; });
    await waitFor('the head in view', async () => (await texts(page, '.log-line'))[0] === '1');
    await page.$eval('#log', (n) => { n.scrollTop = n.scrollHeight / 2; });
    await waitFor('the middle in view', async () => (await texts(page, '.log-line')).includes('10000'));
  }),

  // Without the event stream the jobs page polls, and says so.
  polling: () => uiTest('polling', async ({ dray, page, expectFailure }) => {
    expectFailure(/\/events$/);
    await page.setRequestInterception(true);
    page.on('request', (request) => {
      if (new URL(request.url()).pathname === '/events') request.abort('connectionrefused');
      else request.continue();
    });
    await page.goto(`${dray.base}/ui/#/jobs`);
    await waitFor('the polling note', async () => (await page.$eval('#live-state', (n) => n.textContent)) === 'polling');
    const id = await dray.submit({ name: 'seen by polling', steps: [script('echo hi')] });
    await page.waitForSelector(`#jobs-body tr[data-id="${id}"]`, { timeout: 10000 });
    await waitFor('the job to show complete', async () =>
      (await page.$eval(`#jobs-body tr[data-id="${id}"] .badge`, (n) => n.textContent)) === 'complete', 15000);
  }),

  // Connections cut while a log streams in: the page reconnects with Last-Event-ID and the
  // log ends with every line once, in order.
  resume: () => uiTest('resume', async ({ dray, page, cutter, expectFailure }) => {
    expectFailure(/\/events$/);
    const id = await dray.submit({ name: 'slow log', steps: [script('for i in $(seq 1 40); do echo "line $i"; sleep 0.1; done')] });
    await page.goto(`${dray.pageBase}/ui/#/jobs/${id}`);
    await waitFor('some lines', async () => (await texts(page, '.log-line')).length >= 5);
    cutter.cut();
    await waitFor('the reconnect note', async () => (await page.$eval('#job-notice', (n) => (n.hidden ? '' : n.textContent))).includes('reconnecting'), 5000);
    await waitForPageState(page, 'complete', 30000);
    await waitFor('all 40 lines', async () => (await page.$eval('#log-count', (n) => n.textContent)) === '40 lines');
    checkEqual(await texts(page, '.log-line'), Array.from({ length: 40 }, (_, i) => `line ${i + 1}`), 'the log after the cut');
    check(await page.$eval('#job-notice', (n) => n.hidden), 'the reconnect note is gone');
  }, { proxy: true }),

  // A stream-mode job's bars overlap on the time axis; secrets are shown as ***.
  'stream-job': () => uiTest('stream-job', async ({ dray, page }) => {
    const secret = 'very-secret-value-93af';
    const id = await dray.submit({
      name: 'streamed', mode: 'stream', secrets: [{ variable: 'API_KEY', value: secret }],
      environment: [{ variable: 'GREETING', value: 'hello' }],
      steps: [script('for i in 1 2 3 4 5; do echo "$GREETING $i"; sleep 0.3; done'), script('while read l; do echo "got $l"; done')],
    });
    await page.goto(`${dray.base}/ui/#/jobs/${id}`);
    await waitForPageState(page, 'complete', 30000);
    const bars = await page.$$eval('.step-row .bar', (nodes) => nodes.map((n) => { const r = n.getBoundingClientRect(); return [r.left, r.right]; }));
    check(bars.length === 2 && bars[1][0] < bars[0][1], `the two steps' bars overlap: ${JSON.stringify(bars)}`);
    checkEqual(await page.$eval('#job-facts', (n) => n.textContent.includes('stream')), true, 'the mode is shown');
    await page.click('#definition summary');
    await page.waitForSelector('#job-environment tr');
    const environment = await page.$$eval('#job-environment tr', (nodes) => nodes.map((n) => [...n.children].map((c) => c.textContent)));
    checkEqual(environment, [['GREETING', 'hello', 'environment'], ['API_KEY', '***', 'secret']], 'environment and secrets');
    check(!(await page.content()).includes(secret), 'the secret value is nowhere in the page');
  }),

  // 10,000 jobs (written into Redis as a finished history, the original's schema): the page
  // holds one page of them, pages on, and the name filter finds one among them all.
  'many-jobs': async () => {
    const port = 20000 + Math.floor(Math.random() * 20000);
    const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
      { stdio: 'ignore' });
    try {
      await waitFor('redis-server', () => {
        try {
          return execFileSync('redis-cli', ['-p', String(port), 'PING'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim() === 'PONG';
        } catch { return false; }
      }, 10000);
      const commands = [];
      const total = 10000;
      for (let i = 1; i <= total; i += 1) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        const at = new Date(Date.UTC(2026, 0, 1) + i * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
        const name = i === 7777 ? 'needle in the stack' : `history ${i}`;
        const status = i % 10 === 0 ? 'error' : 'complete';
        commands.push(`RPUSH jobs ${id}`,
          `HSET jobs:${id} status ${status} totalSteps 1 completedSteps ${status === 'complete' ? 1 : 0} name "${name}" owner elsewhere createdAt ${at} startedAt ${at} finishedAt ${at} finishedIn 1.000`);
      }
      execFileSync('redis-cli', ['-p', String(port), '--pipe'], { input: `${commands.join('\n')}\n` });
      await uiTest('many-jobs', async ({ dray, page }) => {
        checkEqual((await dray.api('/jobs')).json.length, total, 'jobs in storage');
        let began = Date.now();
        await page.goto(`${dray.base}/ui/#/jobs`);
        await waitFor('the first page', async () => (await page.$$('#jobs-body tr')).length === 100);
        const firstPage = Date.now() - began;
        checkEqual(await page.$eval('#jobs-body tr', (n) => n.dataset.id), '00000000-0000-4000-8000-000000010000', 'newest first');
        began = Date.now();
        await page.click('#load-more');
        await waitFor('the second page', async () => (await page.$$('#jobs-body tr')).length === 200);
        const secondPage = Date.now() - began;
        checkEqual(await page.$eval('#jobs-body tr:last-child', (n) => n.dataset.id), '00000000-0000-4000-8000-000000009801', 'pages in order');
        began = Date.now();
        await page.type('#name-filter', 'needle');
        await waitFor('the one match', async () => JSON.stringify(await texts(page, '#jobs-body td.name a')) === '["needle in the stack"]');
        const filtered = Date.now() - began - 250;  // the filter waits 250 ms for typing to pause
        await page.$eval('#name-filter', (n) => { n.value = ''; n.dispatchEvent(new Event('input')); });
        await page.select('#status-filter', 'error');
        await waitFor('a page of failed jobs', async () => (await page.$$('#jobs-body .badge.state-error')).length === 100);
        console.log(`many-jobs: first page ${firstPage} ms, next page ${secondPage} ms, name filter over ${total} jobs ${filtered} ms`);
      }, { env: { DRAY_STORAGE: 'redis', REDIS_URL: `redis://127.0.0.1:${port}` } });
    } finally {
      redis.kill('SIGTERM');
    }
  },

  // Plugins, health and a few numbers.
  system: () => uiTest('system', async ({ dray, page }) => {
    await page.goto(`${dray.base}/ui/#/system`);
    await page.waitForSelector('#plugin-table');
    const plugins = await page.$$eval('#plugin-table tbody tr', (rows) => rows.map((r) => `${r.children[0].textContent}/${r.children[1].textContent}`));
    for (const wanted of ['runtime/docker', 'storage/memory', 'storage/redis', 'output/stdout', 'output/file']) {
      check(plugins.includes(wanted), `${wanted} is listed: ${plugins}`);
    }
    await page.waitForSelector('#health .check');
    checkEqual(await page.$$eval('#health .check', (n) => n.map((c) => c.dataset.ok)), ['true', 'true'], 'engine and storage healthy');
    await page.waitForSelector('[data-metric="dray_workers"]');
    checkEqual(await page.$eval('[data-metric="dray_workers"]', (n) => n.textContent), '4', 'workers');
    await page.waitForSelector('#nodes tbody tr');
    checkEqual(await page.$eval('#nodes tbody td', (n) => n.textContent), `ui-test-${process.pid}`, 'this node');
  }),
};

const name = process.argv[2];
if (!scenarios[name]) {
  console.error(`usage: node ui_test.mjs <${Object.keys(scenarios).join('|')}>`);
  process.exit(2);
}
scenarios[name]().then(() => {
  console.log(`ui test ${name}: passed`);
}, (error) => {
  console.error(`ui test ${name}: FAILED\n${error.stack || error.message}`);
  process.exit(1);
});
