// Deploy console: entry module (hash router, session, header).
//
// Guarantees of the whole console (every module keeps them):
// - No inline script, no inline style, no eval: the page runs under
//   "default-src 'none'; script-src 'self'; style-src 'self'; ..." and only loads files from
//   /console/. Styling is done with classes from console.css.
// - Text from the server is never parsed as HTML: the DOM is built with createElement and text
//   nodes (dom.js h()); no innerHTML, outerHTML, insertAdjacentHTML or document.write.
// - Every request carries "X-Requested-With: deploy-console" (api.js): the server refuses changes
//   made with the session cookie without it; the cookie is HttpOnly and never read here.
// - A 401 from any call ends the session in the UI: the sign-in page comes back with a note.
// - Controls a role may not use (deploy, roll back, download, settings edits, leave/down) are not
//   rendered at all for that role; the server checks the role anyway.

import { api, session as sessionApi, onSessionEnded, errorText, ApiError, SessionEnded } from './api.js';
import { h, setText, closeDialog } from './dom.js';
import * as deploymentsView from './views/deployments.js';
import * as deploymentView from './views/deployment.js';
import * as deployView from './views/deploy.js';
import * as projectsView from './views/projects.js';
import * as clusterView from './views/cluster.js';

document.addEventListener('securitypolicyviolation', (e) =>
  console.error('CSP violation', e.violatedDirective, e.blockedURI));

const topbar = document.getElementById('topbar');
const main = document.getElementById('main');

/** The app state: who is signed in, and the view on screen. */
const state = { session: null, view: null, viewKey: null, expiryTimer: null, signoutError: null };

/** After a check found the session still valid at its expected expiry, wait at least this long. */
const RECHECK_MS = 30000;

// ---- Routing ----------------------------------------------------------------------------------

/** Parses "#/deployments/abc?status=failed" into { path, segments, query }. */
function parseHash() {
  const raw = location.hash.startsWith('#/') ? location.hash.slice(1) : '/deployments';
  const [path, qs = ''] = raw.split('?');
  const segments = path.split('/').filter(Boolean).map((s) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  });
  return { path, segments, query: new URLSearchParams(qs) };
}

/** Picks the view for a route: [key (a new key mounts a new view), module, title]. */
function resolve(route) {
  const [first, second, ...rest] = route.segments;
  if (rest.length) return ['notfound', notFoundView, 'Not found'];
  if (!first || first === 'deployments') {
    return second
      ? [`deployment:${second}`, deploymentView, `Deployment ${second.slice(0, 8)}`]
      : ['deployments', deploymentsView, 'Deployments'];
  }
  if (first === 'deploy' && !second) return ['deploy', deployView, 'Deploy'];
  if (first === 'projects') {
    return second
      ? [`project:${second}`, projectsView.project, `Project ${second}`]
      : ['projects', projectsView.list, 'Projects'];
  }
  if (first === 'cluster' && !second) return ['cluster', clusterView, 'Cluster'];
  return ['notfound', notFoundView, 'Not found'];
}

const notFoundView = {
  mount(root) {
    root.append(
      h('h1', null, 'Not found'),
      h('p', null, 'There is no such page. ', h('a', { href: '#/deployments' }, 'Go to the deployments')));
    return {};
  },
};

/** Shows the view for the current hash (or lets the mounted view update itself). */
function route(initial = false) {
  if (!state.session) return;
  if (location.hash && !location.hash.startsWith('#/')) return; // e.g. "#main": not a route
  const r = parseHash();
  const [key, module, title] = resolve(r);
  document.title = `${title} · Deploy console`;
  markNav(r.segments[0] || 'deployments');
  const ctx = { session: state.session, route: r, navigate };
  if (state.view && state.viewKey === key && state.view.update) {
    state.view.update(ctx);
    return;
  }
  disposeView();
  main.replaceChildren();
  state.viewKey = key;
  state.view = module.mount(main, ctx) || {};
  if (!initial) main.focus({ preventScroll: true });
  window.scrollTo(0, 0);
}

function disposeView() {
  closeDialog();
  if (state.view && state.view.dispose) state.view.dispose();
  state.view = null;
  state.viewKey = null;
}

/** Goes to a hash route ("#/deployments/…"). */
function navigate(hash) {
  if (location.hash === hash) route();
  else location.hash = hash;
}

window.addEventListener('hashchange', () => route());

// ---- Header -----------------------------------------------------------------------------------

function renderTopbar(s) {
  const canDeploy = s.role === 'admin' || s.role === 'deployer';
  const link = (id, href, text) => h('li', null, h('a', { href, 'data-testid': `nav-${id}`, dataset: { nav: id } }, text));
  topbar.replaceChildren(
    h('a', { class: 'brand', href: '#/deployments' }, h('img', { src: '/console/favicon.svg', alt: '', width: 20, height: 20 }), 'Deploy console'),
    h('nav', { 'aria-label': 'Main' },
      h('ul', null,
        link('deployments', '#/deployments', 'Deployments'),
        link('projects', '#/projects', 'Projects'),
        link('cluster', '#/cluster', 'Cluster'),
        canDeploy && link('deploy', '#/deploy', 'Deploy'))),
    h('div', { class: 'user' },
      state.signoutError,
      h('span', { 'data-testid': 'whoami', class: 'whoami' }, `${s.user} · ${s.role}`),
      h('button', { type: 'button', class: 'secondary small', 'data-testid': 'signout', onclick: signOut }, 'Sign out')));
  topbar.hidden = false;
}

/** Marks the nav link of the current section (aria-current). */
function markNav(section) {
  const current = section === 'deploy' ? 'deploy' : section;
  for (const a of topbar.querySelectorAll('a[data-nav]')) {
    if (a.dataset.nav === current) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
}

/**
 * Signs out. Only a success (204) or a 401 (the session had already ended) shows the sign-in page;
 * on any other failure (network error, 5xx, 429) the session and its cookie are still there, so
 * the page stays signed in and says why in the header.
 */
async function signOut(e) {
  const button = e && e.currentTarget;
  const note = state.signoutError;
  if (button) button.disabled = true;
  if (note) setText(note, '');
  try {
    await sessionApi.signOut();
  } catch (err) {
    if (!(err instanceof ApiError) || err.status !== 401) {
      if (!state.session) return; // signed out meanwhile (e.g. a 401 elsewhere)
      let text = `Sign-out failed — ${errorText(err)}`;
      if (err.retryAfter) text += ` (try again in ${err.retryAfter} s)`;
      if (note) setText(note, text);
      if (button) {
        button.disabled = false;
        button.focus();
      }
      return;
    }
  }
  // A 401 elsewhere may have shown the sign-in page (with its note) meanwhile: leave it be.
  if (state.session) showSignIn(null);
}

// ---- Sign-in ----------------------------------------------------------------------------------

/** Replaces everything with the sign-in form; note explains why (e.g. the session ended). */
function showSignIn(note) {
  disposeView();
  clearTimeout(state.expiryTimer);
  state.session = null;
  topbar.hidden = true;
  topbar.replaceChildren();
  document.title = 'Sign in · Deploy console';
  const error = h('p', { class: 'error-text', 'data-testid': 'signin-error', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', 'data-testid': 'signin-submit' }, 'Sign in');
  const form = h('form', { 'data-testid': 'signin-form', class: 'signin-form', novalidate: true },
    h('h1', null, 'Sign in'),
    note && h('p', { class: 'note', 'data-testid': 'signin-note', role: 'status' }, note),
    h('div', { class: 'field' },
      h('label', { for: 'signin-user' }, 'User'),
      h('input', { id: 'signin-user', name: 'user', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false' })),
    h('div', { class: 'field' },
      h('label', { for: 'signin-password' }, 'Password'),
      h('input', { id: 'signin-password', name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    submit,
    error);
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const user = form.elements.user.value.trim();
    const password = form.elements.password.value;
    if (!user || !password) {
      setText(error, 'INVALID_REQUEST: enter a user name and a password');
      return;
    }
    submit.disabled = true;
    setText(error, '');
    try {
      await sessionApi.signIn(user, password);
      await start();
    } catch (err) {
      let text = errorText(err);
      if (err.retryAfter) text += ` (try again in ${err.retryAfter} s)`;
      setText(error, text);
      form.elements.password.select();
    } finally {
      submit.disabled = false;
    }
  });
  main.replaceChildren(h('div', { class: 'signin' }, form));
  form.elements.user.focus();
}

onSessionEnded(() => {
  if (state.session) showSignIn('Your session has ended — sign in again');
});

// ---- Start ------------------------------------------------------------------------------------

/** Reads the session and shows the console or the sign-in page. */
async function start() {
  let s;
  try {
    s = await api('GET', '/session');
  } catch (err) {
    main.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(err)));
    return;
  }
  if (!s || !s.signed_in) {
    showSignIn(null);
    return;
  }
  state.session = { user: s.user, role: s.role, expiresAt: s.expires_at };
  state.signoutError = h('span', { class: 'error-text signout-error', 'data-testid': 'signout-error', role: 'status', 'aria-live': 'polite' });
  watchExpiry(s.expires_at);
  renderTopbar(state.session);
  if (!location.hash.startsWith('#/')) history.replaceState(null, '', '#/deployments');
  route(true);
}

/**
 * Re-checks the session just after it is due to expire, so an idle page also notices. The due
 * time comes from the server's clock, the timer runs on this machine's: when the check finds the
 * session still valid (the clocks differ, or the expiry slides), the next one waits at least
 * RECHECK_MS, so a skewed clock never makes the page poll every second.
 */
function watchExpiry(expiresAt, atLeast = 0) {
  clearTimeout(state.expiryTimer);
  const due = Date.parse(expiresAt || '');
  if (Number.isNaN(due)) return;
  const delay = Math.min(Math.max(due - Date.now() + 1000, atLeast, 1000), 2 ** 31 - 1);
  state.expiryTimer = setTimeout(async () => {
    const checking = state.session;
    try {
      const s = await api('GET', '/session');
      if (state.session !== checking || !checking) return; // signed out or in again meanwhile
      if (!s || !s.signed_in) showSignIn('Your session has ended — sign in again');
      else watchExpiry(s.expires_at, RECHECK_MS); // still valid: renewed, or the clocks differ
    } catch (err) {
      // A 401 has shown the sign-in page already; after a network error (or 5xx), look again
      // later rather than not at all.
      if (!(err instanceof SessionEnded) && state.session === checking && checking) {
        watchExpiry(expiresAt, RECHECK_MS);
      }
    }
  }, delay);
}

// The skip link moves focus to <main> without touching the hash (which is the router's).
document.querySelector('.skip-link').addEventListener('click', (e) => {
  e.preventDefault();
  main.focus();
});

start().catch((e) => main.replaceChildren(h('p', { class: 'error-text', role: 'alert' }, errorText(e))));
