// Test harness of the web UI: starts the real dray (memory storage, the real engine) on a
// free port, drives Debian's chromium headless through puppeteer-core, fails on any
// JavaScript error that reaches the console, and saves a screenshot per test.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer from 'puppeteer-core';

const env = (name, fallback) => process.env[name] || fallback;
export const settings = {
  dray: env('DRAY_BIN', ''),
  pluginPath: env('DRAY_PLUGIN_PATH', ''),
  uiDir: env('DRAY_UI_DIR', ''),
  screenshots: env('DRAY_UI_SCREENSHOTS', join(tmpdir(), 'dray-ui-screenshots')),
  browser: env('DRAY_UI_BROWSER', 'chromium'),  // or firefox (Debian's firefox-esr, over WebDriver BiDi)
  chromium: env('CHROMIUM', '/usr/bin/chromium'),
  firefox: env('FIREFOX', '/usr/bin/firefox-esr'),
};

export function check(condition, message) {
  if (!condition) throw new Error(`check failed: ${message}`);
}

export function checkEqual(actual, expected, what) {
  const a = JSON.stringify(actual);
  const e = JSON.stringify(expected);
  if (a !== e) throw new Error(`check failed: ${what}\n  expected ${e}\n  got      ${a}`);
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** Polls `probe` until it returns something truthy, or fails after `ms` saying `what`. */
export async function waitFor(what, probe, ms = 30000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

/** The real dray binary on a free port; stopped (SIGTERM) by stop(). */
export class Dray {
  constructor(extraEnv = {}) {
    this.dir = mkdtempSync(join(tmpdir(), 'dray-ui-'));
    this.output = '';
    const childEnv = {
      ...process.env,
      DRAY_STORAGE: 'memory',
      DRAY_PLUGIN_PATH: settings.pluginPath,
      DRAY_INSTANCE: `ui-test-${process.pid}`,
      DRAY_SHUTDOWN_GRACE: '1',
      LOG_LEVEL: 'info',
      ...(settings.uiDir ? { DRAY_UI_DIR: settings.uiDir } : {}),
      ...extraEnv,
    };
    this.child = spawn(settings.dray, ['-p', '0'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    const collect = (chunk) => { this.output += chunk.toString(); };
    this.child.stdout.on('data', collect);
    this.child.stderr.on('data', collect);
  }

  async start() {
    const match = await waitFor('dray to listen', () => /dray listening on port (\d+)/.exec(this.output), 20000);
    this.port = Number(match[1]);
    this.base = `http://127.0.0.1:${this.port}`;
    return this;
  }

  /** A request to dray's API from the test (not the browser). */
  async api(path, { method = 'GET', body, token } = {}) {
    const headers = { 'Content-Type': 'application/json' };
    if (token) headers.Authorization = `Bearer ${token}`;
    const response = await fetch(this.base + path, { method, body, headers });
    const text = await response.text();
    let json = null;
    try { json = JSON.parse(text); } catch { /* not JSON */ }
    return { status: response.status, text, json };
  }

  async submit(job, token) {
    const answer = await this.api('/jobs', { method: 'POST', body: JSON.stringify(job), token });
    check(answer.status === 201, `POST /jobs answered ${answer.status}: ${answer.text}`);
    return answer.json.id;
  }

  async waitForState(id, state, token, ms = 60000) {
    return waitFor(`job ${id} to be ${state}`, async () => {
      const answer = await this.api(`/jobs/${id}`, { token });
      return answer.json && answer.json.state === state ? answer.json : null;
    }, ms);
  }

  async stop() {
    if (this.child.exitCode === null) {
      this.child.kill('SIGTERM');
      await waitFor('dray to stop', () => this.child.exitCode !== null || this.child.signalCode !== null, 20000);
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/**
 * A TCP proxy in front of dray whose open connections a test can cut (cut()), as a flaky
 * network or a restarted load balancer would: the page must reconnect and resume.
 */
export class CuttingProxy {
  constructor(targetPort) {
    this.targetPort = targetPort;
    this.pairs = new Set();
    this.server = createServer((client) => {
      const upstream = connect(this.targetPort, '127.0.0.1');
      const pair = [client, upstream];
      this.pairs.add(pair);
      const drop = () => { client.destroy(); upstream.destroy(); this.pairs.delete(pair); };
      client.on('error', drop).on('close', drop);
      upstream.on('error', drop).on('close', drop);
      client.pipe(upstream);
      upstream.pipe(client);
    });
  }

  start() {
    return new Promise((resolve) => this.server.listen(0, '127.0.0.1', () => {
      this.port = this.server.address().port;
      resolve(this);
    }));
  }

  /** Resets every open connection. */
  cut() {
    for (const [client, upstream] of this.pairs) {
      client.resetAndDestroy();
      upstream.destroy();
    }
    this.pairs.clear();
  }

  close() {
    this.cut();
    this.server.close();
  }
}

/** Container ids the engine still has for a job (dray labels every container it creates). */
export function containersOfJob(id) {
  return execFileSync('docker', ['ps', '-aq', '--filter', `label=dray.job=${id}`]).toString().split('\n').filter(Boolean);
}

function launchBrowser(profile, downloads) {
  if (settings.browser === 'firefox') {
    return puppeteer.launch({
      browser: 'firefox',
      executablePath: settings.firefox,
      headless: true,
      userDataDir: profile,
      extraPrefsFirefox: {
        'browser.download.dir': downloads,
        'browser.download.folderList': 2,
        'browser.download.useDownloadDir': true,
        'browser.download.always_ask_before_handling_new_types': false,
        'browser.download.start_downloads_in_tmp_dir': false,
        // No network here: nothing to update, report or fetch.
        'app.update.enabled': false,
        'datareporting.policy.dataSubmissionEnabled': false,
        'network.captive-portal-service.enabled': false,
      },
    });
  }
  return puppeteer.launch({
    executablePath: settings.chromium,
    headless: true,
    userDataDir: profile,
    // The machine has no network: without these Chromium keeps trying to reach Google.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  });
}

/**
 * Runs one UI test: `body({dray, page, browser, shot})` with a fresh dray (extraEnv) and a
 * fresh browser profile. Fails when the page logs a JavaScript error or an uncaught
 * exception. The browser's own "Failed to load resource" notices for answers the test
 * provokes on purpose (a 400, a 401) are network notices, not script errors: they are
 * collected apart and each must be one the test expected (`expectStatus`).
 */
export async function uiTest(name, body, { env: extraEnv = {}, viewport = { width: 1280, height: 900 }, proxy = false } = {}) {
  const dray = await new Dray(extraEnv).start();
  const cutter = proxy ? await new CuttingProxy(dray.port).start() : null;
  if (cutter) dray.pageBase = `http://127.0.0.1:${cutter.port}`;
  const profile = mkdtempSync(join(tmpdir(), 'dray-chromium-'));
  const downloads = mkdtempSync(join(tmpdir(), 'dray-downloads-'));
  mkdirSync(settings.screenshots, { recursive: true });
  const browser = await launchBrowser(profile, downloads);
  const scriptErrors = [];
  const networkNotices = [];
  const expectedStatuses = new Set();
  const expectedFailures = [];  // URL patterns whose failed loads the test provokes
  let page;
  try {
    page = await browser.newPage();
    await page.setViewport(viewport);
    page.on('pageerror', (error) => scriptErrors.push(`uncaught: ${error.message}`));
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      const text = message.text();
      if (/^Failed to load resource: /.test(text)) networkNotices.push(text);
      else scriptErrors.push(`console: ${text}`);
    });
    page.on('requestfailed', (request) => {
      // Streams the page closes itself end as aborted requests: not failures.
      if (expectedFailures.some((pattern) => pattern.test(request.url()))) return;
      if (!/ERR_ABORTED|NS_BINDING_ABORTED/.test(request.failure()?.errorText || '')) scriptErrors.push(`request failed: ${request.url()} ${request.failure()?.errorText}`);
    });
    if (settings.browser === 'chromium') {
      const cdp = await page.createCDPSession();
      await cdp.send('Browser.setDownloadBehavior', { behavior: 'allow', downloadPath: downloads, eventsEnabled: true });
    }
    const prefix = settings.browser === 'chromium' ? '' : `${settings.browser}-`;
    const shot = async (file) => page.screenshot({ path: join(settings.screenshots, prefix + file), fullPage: true });
    const expectStatus = (status) => expectedStatuses.add(String(status));
    const expectFailure = (pattern) => expectedFailures.push(pattern);
    await body({ dray, page, browser, shot, downloads, expectStatus, expectFailure, cutter });
    await shot(`${name}.png`);
    for (const notice of networkNotices) {
      const status = /status of (\d+)/.exec(notice);
      const expected = status ? expectedStatuses.has(status[1]) : expectedFailures.length > 0;
      if (!expected) scriptErrors.push(`unexpected failed load: ${notice}`);
    }
    if (scriptErrors.length) throw new Error(`the page reported errors:\n  ${scriptErrors.join('\n  ')}`);
  } catch (error) {
    if (page) await page.screenshot({ path: join(settings.screenshots, `${settings.browser}-${name}-failed.png`), fullPage: true }).catch(() => {});
    error.message += `\n--- dray's log (tail) ---\n${dray.output.split('\n').slice(-40).join('\n')}`;
    throw error;
  } finally {
    await browser.close();
    if (cutter) cutter.close();
    await dray.stop();
    rmSync(profile, { recursive: true, force: true });
    rmSync(downloads, { recursive: true, force: true });
  }
}

/** Text of every element matching `selector`. */
export function texts(page, selector) {
  return page.$$eval(selector, (nodes) => nodes.map((n) => n.textContent));
}

export function readDownload(dir, file) {
  return readFileSync(join(dir, file), 'utf8');
}
