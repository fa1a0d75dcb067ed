// #/deployments: the filtered, paged list of deployments, refreshed every 3 s while visible.
// Filters and the page live in the hash query (#/deployments?status=failed&project=web&offset=20).

import { get, query, errorText, SessionEnded } from '../api.js';
import { h, setText, badge, timeEl, tableWrap, headRow, shortId } from '../dom.js';

export const STATUSES = ['pending', 'distributing', 'succeeded', 'partial', 'failed', 'superseded', 'reverted'];
export const PROJECT_PATTERN = '[a-z0-9][a-z0-9._\\-]{0,63}';
const PAGE = 20;
const REFRESH_MS = 3000;

/** "2/2 active", plus how many failed, or "—" before any node took part. */
export function nodeSummary(nodes) {
  const list = Object.values(nodes || {});
  if (!list.length) return '—';
  const active = list.filter((n) => n.status === 'active').length;
  const failed = list.filter((n) => n.status === 'failed').length;
  return `${active}/${list.length} active${failed ? `, ${failed} failed` : ''}`;
}

/** The cells of one deployment row. */
function rowCells(d) {
  return [
    h('td', { class: 'nowrap' },
      h('a', { href: `#/deployments/${encodeURIComponent(d.deployment_id)}`, class: 'mono', title: d.deployment_id }, shortId(d.deployment_id)),
      d.rollback_of ? h('span', { class: 'tag', title: `rollback of ${d.rollback_of}` }, 'rollback') : null),
    h('td', null, d.project),
    h('td', null, badge(d.status)),
    h('td', { class: 'desc' }, d.description || h('span', { class: 'muted' }, '—')),
    h('td', null, d.user || '—'),
    h('td', { class: 'nowrap' }, timeEl(d.created_at)),
    h('td', { class: 'nowrap' }, nodeSummary(d.nodes)),
  ];
}

export const TABLE_HEAD = ['Deployment', 'Project', 'Status', 'Description', 'User', 'Created', 'Nodes'];

/**
 * Keeps a <tbody> in step with a list of deployments: rows are keyed by deployment id and only
 * rebuilt when the item changed, so refreshing does not re-create rows or shift the layout.
 */
export class RowKeeper {
  constructor(tbody, emptyText) {
    this.tbody = tbody;
    this.emptyText = emptyText;
    this.rows = new Map(); // id → { tr, sig }
  }

  update(items) {
    const next = new Map();
    const wanted = items.map((d) => {
      const sig = JSON.stringify(d);
      let row = this.rows.get(d.deployment_id);
      if (!row) {
        row = { tr: h('tr', { dataset: { deploymentId: d.deployment_id } }), sig: null };
      }
      if (row.sig !== sig) {
        row.tr.replaceChildren(...rowCells(d));
        row.sig = sig;
      }
      next.set(d.deployment_id, row);
      return row.tr;
    });
    this.rows = next;
    if (!wanted.length) {
      wanted.push(h('tr', { class: 'empty' }, h('td', { colspan: TABLE_HEAD.length }, this.emptyText)));
    }
    // Put the rows in order, moving only those not in place; drop the rest.
    wanted.forEach((tr, i) => {
      if (this.tbody.children[i] !== tr) this.tbody.insertBefore(tr, this.tbody.children[i] || null);
    });
    while (this.tbody.children.length > wanted.length) this.tbody.lastElementChild.remove();
  }
}

/** The filters as read from the hash query. */
function filtersOf(q) {
  const offset = Math.max(0, parseInt(q.get('offset') || '0', 10) || 0);
  const date = (v) => (/^\d{4}-\d{2}-\d{2}$/.test(v || '') ? v : '');
  const status = STATUSES.includes(q.get('status')) ? q.get('status') : '';
  return { status, project: q.get('project') || '', since: date(q.get('since')), until: date(q.get('until')), offset };
}

export function mount(root, ctx) {
  let filters = filtersOf(ctx.route.query);
  let disposed = false;
  let inflight = false;
  let generation = 0; // a newer request makes older answers stale

  const form = h('form', { class: 'filters', 'data-testid': 'filters-form', role: 'search', 'aria-label': 'Filter deployments' },
    h('div', { class: 'field' },
      h('label', { for: 'f-status' }, 'Status'),
      h('select', { id: 'f-status', name: 'status' },
        h('option', { value: '' }, 'any'),
        STATUSES.map((s) => h('option', { value: s }, s)))),
    h('div', { class: 'field' },
      h('label', { for: 'f-project' }, 'Project'),
      h('input', { id: 'f-project', name: 'project', pattern: PROJECT_PATTERN, maxlength: 64, autocomplete: 'off', spellcheck: 'false', placeholder: 'all' })),
    h('div', { class: 'field' },
      h('label', { for: 'f-since' }, 'Since (UTC)'),
      h('input', { id: 'f-since', name: 'since', type: 'date' })),
    h('div', { class: 'field' },
      h('label', { for: 'f-until' }, 'Until (UTC)'),
      h('input', { id: 'f-until', name: 'until', type: 'date' })),
    h('div', { class: 'field buttons' },
      h('button', { type: 'submit', 'data-testid': 'filters-apply' }, 'Apply'),
      h('button', { type: 'button', class: 'secondary', 'data-testid': 'filters-reset', onclick: () => go({ status: '', project: '', since: '', until: '', offset: 0 }) }, 'Reset')));

  const tbody = h('tbody');
  const keeper = new RowKeeper(tbody, 'No deployments match.');
  const table = h('table', { 'data-testid': 'deployments-table', class: 'data' },
    h('caption', { class: 'visually-hidden' }, 'Deployments, newest first'),
    headRow(...TABLE_HEAD), tbody);
  const total = h('span', { 'data-testid': 'list-total', 'aria-live': 'polite' }, '…');
  const prev = h('button', { type: 'button', class: 'secondary', 'data-testid': 'page-prev', onclick: () => go({ ...filters, offset: Math.max(0, filters.offset - PAGE) }) }, '← Newer');
  const next = h('button', { type: 'button', class: 'secondary', 'data-testid': 'page-next', onclick: () => go({ ...filters, offset: filters.offset + PAGE }) }, 'Older →');
  const error = h('p', { class: 'error-text', 'data-testid': 'list-error', 'aria-live': 'polite' });

  root.append(
    h('div', { class: 'page-head' }, h('h1', null, 'Deployments')),
    form,
    error,
    tableWrap(table, 'Deployments'),
    h('div', { class: 'pager' }, prev, total, next));

  fillForm();
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    if (!form.reportValidity()) return;
    go({ ...readForm(), offset: 0 });
  });
  // The select and dates apply at once; the project name on Enter or "Apply".
  for (const name of ['status', 'since', 'until']) {
    form.elements[name].addEventListener('change', () => go({ ...readForm(), offset: 0 }));
  }

  function readForm() {
    const f = form.elements;
    const project = f.project.validity.valid ? f.project.value.trim() : filters.project;
    return { status: f.status.value, project, since: f.since.value, until: f.until.value };
  }

  function fillForm() {
    const f = form.elements;
    f.status.value = filters.status;
    f.project.value = filters.project;
    f.since.value = filters.since;
    f.until.value = filters.until;
  }

  /** The hash of a filter set. */
  function hashOf(f) {
    return `#/deployments${query({ status: f.status, project: f.project, since: f.since, until: f.until, offset: f.offset || '' })}`;
  }

  /** Puts filters into the hash (the router then calls update()). */
  function go(next) {
    ctx.navigate(hashOf(next));
  }

  /**
   * The offset of the last page of a list of n (0 for an empty list), keeping the page boundaries
   * of the current offset (an offset from the URL need not be a multiple of PAGE).
   */
  function lastPageOffset(n, offset) {
    if (n <= 0) return 0;
    const r = offset % PAGE;
    const last = Math.floor((n - 1 - r) / PAGE) * PAGE + r;
    return last >= 0 && last < n ? last : Math.floor((n - 1) / PAGE) * PAGE;
  }

  async function load() {
    if (disposed) return;
    const mine = ++generation;
    inflight = true;
    const params = {
      project: filters.project,
      status: filters.status,
      // The dates are UTC days (the labels say so): since from its first millisecond, until to its last.
      since: filters.since && `${filters.since}T00:00:00.000Z`,
      until: filters.until && `${filters.until}T23:59:59.999Z`,
      limit: PAGE,
      offset: filters.offset,
    };
    try {
      const page = await get(`/deployments${query(params)}`);
      if (disposed || mine !== generation) return;
      setText(error, '');
      const items = page.deployments || [];
      const n = page.total ?? 0;
      const offset = typeof page.offset === 'number' ? page.offset : filters.offset;
      if (offset > 0 && (offset >= n || !items.length)) {
        // Past the end (an offset from the URL, or the list shrank): go to the last page instead,
        // replacing the hash (no history entry, no hashchange) and reading again.
        const clamped = lastPageOffset(n, offset);
        if (clamped !== filters.offset) {
          filters = { ...filters, offset: clamped };
          history.replaceState(null, '', hashOf(filters));
          load();
          return;
        }
      }
      keeper.update(items);
      const first = n === 0 || !items.length ? 0 : Math.min(offset + 1, n);
      const last = Math.min(offset + items.length, n);
      setText(total, n === 0 ? '0 of 0' : items.length ? `${first}–${last} of ${n}` : `0 of ${n}`);
      prev.disabled = filters.offset <= 0;
      next.disabled = filters.offset + PAGE >= n;
    } catch (err) {
      if (!(err instanceof SessionEnded) && !disposed && mine === generation) setText(error, errorText(err));
    } finally {
      if (mine === generation) inflight = false;
    }
  }

  const timer = setInterval(() => {
    if (document.visibilityState === 'visible' && !inflight) load();
  }, REFRESH_MS);
  const onVisible = () => {
    if (document.visibilityState === 'visible' && !inflight) load();
  };
  document.addEventListener('visibilitychange', onVisible);
  prev.disabled = true;
  next.disabled = true;
  load();

  return {
    update(next) {
      filters = filtersOf(next.route.query);
      fillForm();
      load();
    },
    dispose() {
      disposed = true;
      clearInterval(timer);
      document.removeEventListener('visibilitychange', onVisible);
    },
  };
}
