// Talking to dray: JSON requests with the bearer token, event streams read with fetch, and
// downloads through blobs. The token lives in sessionStorage and only ever travels in the
// Authorization header, never in a URL, so every data request carries it and none leaks
// into history, logs or Referer.

const TOKEN_KEY = 'dray.token';

/** An answer that was not 2xx: its status and dray's {"error": …} message. */
export class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

let askForToken = null;  // (message) => Promise<string>, set by the app
let asking = null;       // the prompt being shown, shared by every request that needs it

/** How the app asks the user for a token when dray answers 401. */
export function setTokenPrompt(prompt) {
  askForToken = prompt;
}

export function currentToken() {
  return sessionStorage.getItem(TOKEN_KEY) || '';
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

function withToken(extra) {
  const headers = new Headers(extra || {});
  const token = currentToken();
  if (token) headers.set('Authorization', `Bearer ${token}`);
  return headers;
}

/** dray's error message from an answer, or its status line when the body has none. */
export async function errorMessage(response) {
  try {
    const body = await response.json();
    if (body && typeof body.error === 'string') return body.error;
  } catch {
    // not JSON: fall through
  }
  return `${response.status} ${response.statusText}`;
}

async function tokenAfterRefusal(message, sentToken) {
  if (!askForToken) return false;
  // Another request may have been answered by the user meanwhile.
  if (currentToken() && currentToken() !== sentToken) return true;
  if (!asking) asking = askForToken(message).finally(() => { asking = null; });
  const token = await asking;
  if (!token) return false;
  sessionStorage.setItem(TOKEN_KEY, token);
  return true;
}

/** fetch() with the token; on 401 asks for a token and tries again. */
export async function request(path, { method = 'GET', body, headers, signal } = {}) {
  for (;;) {
    const sentToken = currentToken();
    const response = await fetch(path, { method, body, headers: withToken(headers), signal, cache: 'no-store' });
    if (response.status !== 401) return response;
    const message = await errorMessage(response);
    if (!(await tokenAfterRefusal(message, sentToken))) throw new ApiError(401, message);
  }
}

/** The JSON answer of a request; throws ApiError for anything but 2xx. */
export async function json(path, options) {
  const response = await request(path, options);
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  if (response.status === 204) return null;
  return response.json();
}

/** The text answer of a request (e.g. /metrics); throws ApiError for anything but 2xx. */
export async function text(path, options) {
  const response = await request(path, options);
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  return response.text();
}

/** Saves `blob` as a file named `name` through a temporary link. */
export function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

/** Downloads a route's body as a file (through fetch, so the token goes along). */
export async function download(path, name) {
  const response = await request(path);
  if (!response.ok) throw new ApiError(response.status, await errorMessage(response));
  saveBlob(await response.blob(), name);
}

const sleep = (ms, signal) => new Promise((resolve) => {
  const onAbort = () => { clearTimeout(timer); resolve(); };
  const timer = setTimeout(() => { signal.removeEventListener('abort', onAbort); resolve(); }, ms);
  signal.addEventListener('abort', onAbort, { once: true });
});

// Answers worth waiting out: dray or its storage busy or restarting.
const RETRYABLE = new Set([429, 502, 503, 504]);

/**
 * Follows a text/event-stream route with fetch (EventSource cannot send headers). Calls
 * `onEvent({type, data, id})` per event, `onState('open' | 'retrying', detail)` as the
 * connection comes and goes, and reconnects after dray's `retry` delay with Last-Event-ID,
 * so a resumed stream goes on where it stopped. An answer other than 200 (404, 400) ends
 * it with `onState('failed', error)`. Returns { close() }.
 */
export function followEvents(path, { onEvent, onState = () => {}, lastEventId = null }) {
  const controller = new AbortController();
  const { signal } = controller;
  let retryMs = 2000;
  let lastId = lastEventId;

  async function readStream(response) {
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { type: 'message', data: [], id: null };
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += value;
      let newline;
      while ((newline = buffer.search(/\r\n|\r|\n/)) >= 0) {
        // A CR at the end of what arrived may be half of a CRLF: wait for the next piece.
        if (buffer[newline] === '\r' && newline === buffer.length - 1) break;
        const line = buffer.slice(0, newline);
        buffer = buffer.slice(newline + (buffer.startsWith('\r\n', newline) ? 2 : 1));
        if (line === '') {
          if (event.data.length) {
            if (event.id !== null) lastId = event.id;
            try {
              onEvent({ type: event.type, data: event.data.join('\n'), id: event.id });
            } catch (error) {
              // A handler's bug must not look like a dropped connection (that would replay);
              // it still reaches the console (and fails the browser tests).
              console.error('dray ui: an event could not be shown', error);
            }
          }
          event = { type: 'message', data: [], id: null };
          continue;
        }
        if (line.startsWith(':')) continue;  // heartbeat comment
        const colon = line.indexOf(':');
        const field = colon < 0 ? line : line.slice(0, colon);
        let value = colon < 0 ? '' : line.slice(colon + 1);
        if (value.startsWith(' ')) value = value.slice(1);
        if (field === 'event') event.type = value;
        else if (field === 'data') event.data.push(value);
        else if (field === 'id') event.id = value;
        else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
      }
    }
  }

  (async () => {
    while (!signal.aborted) {
      try {
        const headers = lastId !== null ? { 'Last-Event-ID': String(lastId) } : {};
        const response = await request(path, { headers, signal });
        if (!response.ok) {
          const error = new ApiError(response.status, await errorMessage(response));
          if (!RETRYABLE.has(response.status)) {
            onState('failed', error);
            return;
          }
          onState('retrying', error);
          await sleep(retryMs, signal);
          continue;
        }
        onState('open');
        await readStream(response);
        if (signal.aborted) return;
        onState('retrying', null);
      } catch (error) {
        if (signal.aborted) return;
        if (error instanceof ApiError) {
          onState('failed', error);
          return;
        }
        onState('retrying', error);
      }
      await sleep(retryMs, signal);
    }
  })();

  return { close: () => controller.abort() };
}
