// #/projects (each project's current release per node) and #/projects/<name> (settings,
// hooks, recent deployments).

import { api, get, seg, query, errorText, SessionEnded } from '../api.js';
import { h, setText, setChildren, badge, humanBytes, timeEl, tableWrap, headRow, deploymentLink } from '../dom.js';
import { RowKeeper, TABLE_HEAD } from './deployments.js';

const STRATEGIES = ['all-at-once', 'two-phase', 'canary'];

const projectLink = (name) => h('a', { href: `#/projects/${encodeURIComponent(name)}` }, name);

// ---- #/projects -------------------------------------------------------------------------------

export const list = {
  mount(root, ctx) {
    let disposed = false;
    const tbody = h('tbody');
    const error = h('p', { class: 'error-text', 'data-testid': 'projects-error', 'aria-live': 'polite' });
    root.append(
      h('div', { class: 'page-head' }, h('h1', null, 'Projects')),
      error,
      tableWrap(h('table', { class: 'data', 'data-testid': 'projects-table' },
        h('caption', { class: 'visually-hidden' }, 'Projects and their current release on each node'),
        headRow('Project', 'Current deployment', 'SHA-256', 'Nodes'), tbody), 'Projects'));

    get('/projects').then((data) => {
      if (disposed) return;
      const items = data.projects || [];
      setChildren(tbody, items.length ? items.map(projectRow)
        : h('tr', { class: 'empty' }, h('td', { colspan: 4 }, 'No project has been deployed yet.')));
    }).catch((err) => {
      if (!(err instanceof SessionEnded) && !disposed) setText(error, errorText(err));
    });

    return { dispose: () => { disposed = true; } };
  },
};

function projectRow(p) {
  const nodes = Object.entries(p.nodes || {}).sort(([a], [b]) => a.localeCompare(b));
  return h('tr', { dataset: { project: p.project } },
    h('th', { scope: 'row' }, projectLink(p.project)),
    h('td', null, deploymentLink(p.deployment_id)),
    h('td', { class: 'mono', title: p.sha256 || '' }, p.sha256 ? p.sha256.slice(0, 12) : '—'),
    h('td', null, nodes.length
      ? h('ul', { class: 'node-list' }, nodes.map(([name, n]) => h('li', { dataset: { node: name } },
        h('span', { class: 'node-name' }, name),
        deploymentLink(n.deployment_id),
        badge(n.status),
        h('span', { class: 'muted', title: 'disk used by release directories' }, humanBytes(n.release_bytes)))))
      : h('span', { class: 'muted' }, '—')));
}

// ---- #/projects/<name> ------------------------------------------------------------------------

export const project = {
  mount(root, ctx) {
    const name = ctx.route.segments[1];
    const isAdmin = ctx.session.role === 'admin';
    const canDeploy = isAdmin || ctx.session.role === 'deployer';
    let disposed = false;
    let loaded = null; // the settings as last read or saved

    const message = h('p', { 'data-testid': 'settings-message', 'aria-live': 'polite', class: 'message' });
    const updated = h('p', { class: 'muted', 'data-testid': 'settings-updated' });
    const hooksBody = h('tbody');
    const recentBody = h('tbody');
    const recent = new RowKeeper(recentBody, 'No deployments of this project yet.');
    const recentError = h('p', { class: 'error-text', 'aria-live': 'polite' });

    const num = (id, label, min, max, hint) => h('div', { class: 'field' },
      h('label', { for: id }, label),
      h('input', { id, name: id.replace('s-', ''), type: 'number', min, max, step: 1, required: true, disabled: !isAdmin, readonly: !isAdmin, inputmode: 'numeric' }),
      hint && h('small', { class: 'muted' }, hint));

    const form = h('form', { 'data-testid': 'settings-form', class: 'settings-form', novalidate: true },
      h('fieldset', null,
        h('legend', null, 'Retention'),
        num('s-keep_releases', 'Releases kept per node', 2, 10000, 'at least 2'),
        num('s-keep_payloads', 'Payloads kept', 1, 10000, 'at least 1')),
      h('fieldset', null,
        h('legend', null, 'Rollout'),
        h('div', { class: 'field' },
          h('label', { for: 's-strategy' }, 'Strategy'),
          h('select', { id: 's-strategy', name: 'strategy', disabled: !isAdmin }, STRATEGIES.map((s) => h('option', { value: s }, s)))),
        num('s-canary_nodes', 'Canary nodes', 1, 1000, 'for the canary strategy'),
        num('s-health_window_s', 'Health window (s)', 0, 86400, '0 turns the health watch off'),
        h('div', { class: 'field checkbox' },
          h('input', { id: 's-auto_revert', name: 'auto_revert', type: 'checkbox', disabled: !isAdmin }),
          h('label', { for: 's-auto_revert' }, 'Revert automatically when a node fails after its switch'))),
      isAdmin && h('div', { class: 'buttons' }, h('button', { type: 'submit', 'data-testid': 'settings-save' }, 'Save settings')),
      message);

    root.append(
      h('div', { class: 'page-head' },
        h('h1', null, 'Project ', h('span', { 'data-testid': 'project-name' }, name)),
        canDeploy && h('div', { class: 'actions' },
          h('a', { class: 'button', href: `#/deploy${query({ project: name })}`, 'data-testid': 'project-deploy' }, 'Deploy to this project'))),
      h('div', { class: 'two-col' },
        h('section', { class: 'panel', 'aria-labelledby': 'settings-h' },
          h('h2', { id: 'settings-h' }, 'Settings'),
          !isAdmin && h('p', { class: 'muted' }, 'Only admins may change the settings.'),
          form, updated),
        h('section', { class: 'panel', 'aria-labelledby': 'hooks-h' },
          h('h2', { id: 'hooks-h' }, 'Hooks per node'),
          h('p', { class: 'muted' }, 'Configured on each node (read only).'),
          tableWrap(h('table', { class: 'data compact', 'data-testid': 'hooks-table' },
            headRow('Node', 'check', 'activate', 'health'), hooksBody), 'Hooks'))),
      h('section', { class: 'panel', 'aria-labelledby': 'recent-h' },
        h('h2', { id: 'recent-h' }, 'Recent deployments'),
        recentError,
        tableWrap(h('table', { class: 'data', 'data-testid': 'project-deployments' }, headRow(...TABLE_HEAD), recentBody), 'Recent deployments'),
        h('p', null, h('a', { href: `#/deployments${query({ project: name })}` }, 'All deployments of this project'))));

    const f = form.elements;

    function fill(s) {
      loaded = s;
      f.keep_releases.value = s.keep_releases;
      f.keep_payloads.value = s.keep_payloads;
      f.strategy.value = s.rollout.strategy;
      f.canary_nodes.value = s.rollout.canary_nodes;
      f.health_window_s.value = s.rollout.health_window_s;
      f.auto_revert.checked = !!s.rollout.auto_revert;
      setChildren(updated, s.updated_by
        ? ['Last changed by ', h('strong', null, s.updated_by), ' at ', timeEl(s.updated_at)]
        : 'Defaults: never changed for this project.');
      const hooks = Object.entries(s.hooks || {}).sort(([a], [b]) => a.localeCompare(b));
      const yes = (v) => h('td', null, v ? 'yes' : h('span', { class: 'muted' }, 'no'));
      setChildren(hooksBody, hooks.length
        ? hooks.map(([node, hk]) => h('tr', { dataset: { node } }, h('th', { scope: 'row' }, node), yes(hk.check), yes(hk.activate), yes(hk.health)))
        : h('tr', { class: 'empty' }, h('td', { colspan: 4 }, 'No node reported its hooks.')));
    }

    /** Only the fields that differ from the settings as loaded. */
    function changes() {
      const body = {};
      const rollout = {};
      const int = (el) => Number(el.value);
      if (int(f.keep_releases) !== loaded.keep_releases) body.keep_releases = int(f.keep_releases);
      if (int(f.keep_payloads) !== loaded.keep_payloads) body.keep_payloads = int(f.keep_payloads);
      if (f.strategy.value !== loaded.rollout.strategy) rollout.strategy = f.strategy.value;
      if (int(f.canary_nodes) !== loaded.rollout.canary_nodes) rollout.canary_nodes = int(f.canary_nodes);
      if (int(f.health_window_s) !== loaded.rollout.health_window_s) rollout.health_window_s = int(f.health_window_s);
      if (f.auto_revert.checked !== loaded.rollout.auto_revert) rollout.auto_revert = f.auto_revert.checked;
      if (Object.keys(rollout).length) body.rollout = rollout;
      return body;
    }

    form.addEventListener('submit', async (e) => {
      e.preventDefault();
      if (!isAdmin || !loaded) return;
      const body = changes();
      message.className = 'message';
      if (!Object.keys(body).length) {
        setText(message, 'Nothing changed.');
        return;
      }
      const save = form.querySelector('[data-testid="settings-save"]');
      save.disabled = true;
      setText(message, 'Saving…');
      try {
        const s = await api('PUT', `/projects/${seg(name)}/settings`, { json: body });
        if (disposed) return;
        fill(s);
        setText(message, 'Saved');
        message.classList.add('ok-text');
      } catch (err) {
        if (err instanceof SessionEnded || disposed) return;
        setText(message, errorText(err));
        message.classList.add('error-text');
      } finally {
        save.disabled = false;
      }
    });

    get(`/projects/${seg(name)}/settings`).then((s) => {
      if (!disposed) fill(s);
    }).catch((err) => {
      if (!(err instanceof SessionEnded) && !disposed) {
        setText(message, errorText(err));
        message.classList.add('error-text');
      }
    });
    get(`/deployments${query({ project: name, limit: 10 })}`).then((page) => {
      if (!disposed) recent.update(page.deployments || []);
    }).catch((err) => {
      if (!(err instanceof SessionEnded) && !disposed) setText(recentError, errorText(err));
    });

    return { dispose: () => { disposed = true; } };
  },
};
