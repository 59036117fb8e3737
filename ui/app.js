// The UI's shell: hash routes (#/jobs, #/jobs/<id>, #/submit, #/system), the navigation and
// the token prompt. Each page module exports mount(container, params) returning an unmount
// function that closes its streams and timers.
import { currentToken, forgetToken, setTokenPrompt } from './api.js';
import * as jobsPage from './jobs.js';
import * as jobPage from './job.js';
import * as submitPage from './submit.js';
import * as systemPage from './system.js';

const routes = [
  { pattern: /^#\/jobs\/([0-9A-Fa-f-]{1,64})$/, page: jobPage, nav: 'jobs' },
  { pattern: /^#\/jobs$/, page: jobsPage, nav: 'jobs' },
  { pattern: /^#\/submit$/, page: submitPage, nav: 'submit' },
  { pattern: /^#\/system$/, page: systemPage, nav: 'system' },
];

const main = document.getElementById('main');
let unmount = () => {};

function route() {
  const hash = location.hash || '#/jobs';
  const found = routes.find((r) => r.pattern.test(hash));
  if (!found) {
    location.replace('#/jobs');
    return;
  }
  unmount();
  main.replaceChildren();
  for (const link of document.querySelectorAll('[data-nav]')) {
    if (link.dataset.nav === found.nav) link.setAttribute('aria-current', 'page');
    else link.removeAttribute('aria-current');
  }
  const params = hash.match(found.pattern).slice(1);
  unmount = found.page.mount(main, params) || (() => {});
  updateSignOut();
}

function updateSignOut() {
  document.getElementById('sign-out').hidden = !currentToken();
}

// Shows the token dialog with dray's refusal; resolves with the token typed in.
function promptForToken(message) {
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const error = document.getElementById('token-error');
  const refusedBefore = Boolean(currentToken());
  error.textContent = refusedBefore ? message : '';
  error.hidden = !refusedBefore;
  input.value = '';
  return new Promise((resolve) => {
    const onSubmit = (event) => {
      event.preventDefault();  // never a form submission: the token stays out of every URL
      const token = input.value.trim();
      // An HTTP header carries visible ASCII only; anything else cannot be a dray token.
      if (!/^[\x21-\x7e]+$/.test(token)) {
        error.textContent = token ? 'A token has only visible ASCII characters (no spaces).' : 'Enter a token.';
        error.hidden = false;
        return;
      }
      form.removeEventListener('submit', onSubmit);
      dialog.removeEventListener('cancel', onCancel);
      dialog.close();
      resolve(token);
      setTimeout(updateSignOut);
    };
    // Escape keeps the dialog: without a token nothing can be shown.
    const onCancel = (event) => event.preventDefault();
    form.addEventListener('submit', onSubmit);
    dialog.addEventListener('cancel', onCancel);
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

setTokenPrompt(promptForToken);
// The skip link moves focus to the page; as a hash it would be taken for a route.
document.querySelector('.skip').addEventListener('click', (event) => {
  event.preventDefault();
  main.focus();
});
document.getElementById('sign-out').addEventListener('click', () => {
  forgetToken();
  route();
});
window.addEventListener('hashchange', route);
route();
