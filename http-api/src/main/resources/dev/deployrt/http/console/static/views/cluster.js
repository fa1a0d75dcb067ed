// #/cluster: the members, refreshed every 5 s while visible; admins may ask a node to leave or
// mark it down (after a confirmation).

import { api, get, seg, errorText, SessionEnded } from '../api.js';
import { h, setText, badge, tableWrap, headRow, deploymentLink, confirmDialog } from '../dom.js';

const REFRESH_MS = 5000;

const CONSEQUENCE = {
  leave: (node) => `Ask node ${node} to leave the cluster? It hands its work over and stops; ` +
    'it takes no further part in deployments until it is started again.',
  down: (node) => `Mark node ${node} as down? The cluster treats it as gone at once, without waiting ` +
    'for it: use this only for a node that crashed or cannot be reached. It must be restarted to join again.',
};

export function mount(root, ctx) {
  const isAdmin = ctx.session.role === 'admin';
  let disposed = false;
  let inflight = false;
  const rows = new Map(); // node → { tr, sig }

  const tbody = h('tbody');
  const self = h('p', { class: 'muted', 'data-testid': 'cluster-self' });
  const message = h('p', { 'data-testid': 'cluster-message', class: 'message', 'aria-live': 'polite' });
  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Cluster')),
    self,
    message,
    tableWrap(h('table', { class: 'data', 'data-testid': 'nodes-table' },
      h('caption', { class: 'visually-hidden' }, 'Cluster members'),
      headRow('Node', 'Address', 'Status', 'Roles', 'Projects', ...(isAdmin ? ['Actions'] : [])), tbody), 'Cluster members'));

  function row(n, selfName) {
    const projects = Object.entries(n.projects || {}).sort(([a], [b]) => a.localeCompare(b));
    return [
      h('th', { scope: 'row' }, n.node, n.node === selfName ? h('span', { class: 'tag', 'data-testid': 'this-node' }, 'this node') : null),
      h('td', { class: 'mono' }, n.address || '—'),
      h('td', null, badge(n.status)),
      h('td', null, (n.roles || []).length ? n.roles.join(', ') : h('span', { class: 'muted' }, '—')),
      h('td', null, projects.length
        ? h('ul', { class: 'plain-list' }, projects.map(([p, id]) => h('li', null,
          h('a', { href: `#/projects/${encodeURIComponent(p)}` }, p), ': ', deploymentLink(id))))
        : h('span', { class: 'muted' }, '—')),
      isAdmin && h('td', { class: 'nowrap' },
        h('button', { type: 'button', class: 'secondary small', 'data-testid': 'node-leave', onclick: () => act(n.node, 'leave') }, 'Leave'),
        ' ',
        h('button', { type: 'button', class: 'danger small', 'data-testid': 'node-down', onclick: () => act(n.node, 'down') }, 'Down')),
    ];
  }

  async function act(node, action) {
    const ok = await confirmDialog(CONSEQUENCE[action](node), action === 'leave' ? `Leave ${node}` : `Down ${node}`);
    if (!ok || disposed) return;
    message.className = 'message';
    setText(message, `Sending ${action} for ${node}…`);
    try {
      const res = await api('POST', `/cluster/nodes/${seg(node)}/${action}`);
      if (disposed) return;
      setText(message, `${(res && res.action) || action} accepted for ${node}${res && res.address ? ` (${res.address})` : ''}.`);
      message.classList.add('ok-text');
      load();
    } catch (err) {
      if (err instanceof SessionEnded || disposed) return;
      setText(message, errorText(err));
      message.classList.add('error-text');
    }
  }

  async function load() {
    if (disposed || inflight) return;
    inflight = true;
    try {
      const data = await get('/cluster/nodes');
      if (disposed) return;
      setText(self, `This console talks to node ${data.self}.`);
      const next = new Map();
      const wanted = (data.nodes || []).map((n) => {
        const sig = JSON.stringify([n, data.self]);
        let r = rows.get(n.node);
        if (!r) r = { tr: h('tr', { dataset: { node: n.node } }), sig: null };
        if (r.sig !== sig) {
          r.tr.replaceChildren(...row(n, data.self).filter(Boolean));
          r.sig = sig;
        }
        next.set(n.node, r);
        return r.tr;
      });
      rows.clear();
      next.forEach((v, k) => rows.set(k, v));
      wanted.forEach((tr, i) => {
        if (tbody.children[i] !== tr) tbody.insertBefore(tr, tbody.children[i] || null);
      });
      while (tbody.children.length > wanted.length) tbody.lastElementChild.remove();
    } catch (err) {
      if (!(err instanceof SessionEnded) && !disposed) {
        message.className = 'message error-text';
        setText(message, errorText(err));
      }
    } finally {
      inflight = false;
    }
  }

  const timer = setInterval(() => {
    if (document.visibilityState === 'visible') load();
  }, REFRESH_MS);
  load();

  return {
    dispose() {
      disposed = true;
      clearInterval(timer);
    },
  };
}
