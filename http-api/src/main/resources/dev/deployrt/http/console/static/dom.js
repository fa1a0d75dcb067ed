// DOM and formatting helpers shared by every view.
//
// Everything the console shows is built with createElement and text nodes: h() never parses
// HTML and refuses a "style" attribute (the CSP forbids inline styles; use classes).

/**
 * Creates an element. attrs: "class", "dataset" (object), "on<event>" (function listeners),
 * DOM properties (value, checked, disabled, selected, hidden) or plain attributes (null, undefined
 * and false leave an attribute out, true sets it empty). Children: strings and numbers become text
 * nodes; arrays are flattened; null, undefined and false are skipped.
 */
export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value == null || value === false) continue;
    if (key === 'style') throw new Error('inline styles are not allowed (CSP)');
    if (key === 'class') el.className = value;
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), value);
    } else if (PROPS.has(key)) el[key] = value;
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

const PROPS = new Set(['value', 'checked', 'disabled', 'selected', 'hidden', 'multiple']);

/** Appends children (text, nodes, arrays of them) to el. */
export function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child == null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** Replaces the children of el, as text or nodes. */
export function setChildren(el, ...children) {
  el.replaceChildren();
  return append(el, children);
}

/** Sets an element's text only when it changed (no needless mutations while streaming). */
export function setText(el, text) {
  const value = text == null ? '' : String(text);
  if (el.textContent !== value) el.textContent = value;
}

// ---- Formatting -------------------------------------------------------------------------------

const UNITS = ['KiB', 'MiB', 'GiB', 'TiB'];

/** 154 → "154 B", 1536 → "1.5 KiB". null/undefined → "—". */
export function humanBytes(n) {
  if (n == null || !Number.isFinite(n)) return '—';
  if (Math.abs(n) < 1024) return `${n} B`;
  let value = n;
  let unit = -1;
  do {
    value /= 1024;
    unit += 1;
  } while (Math.abs(value) >= 1024 && unit < UNITS.length - 1);
  return `${value.toFixed(value < 10 ? 2 : value < 100 ? 1 : 0)} ${UNITS[unit]}`;
}

/** "1.5 KiB (1,536 bytes)"; small sizes "154 B (154 bytes)". */
export function exactBytes(n) {
  if (n == null) return '—';
  return `${humanBytes(n)} (${n.toLocaleString('en-US')} bytes)`;
}

/** A <time> showing the ISO-8601 instant as the server sent it (local time as its tooltip). */
export function timeEl(iso) {
  if (!iso) return h('span', { class: 'muted' }, '—');
  const local = new Date(iso);
  return h('time', { datetime: iso, title: Number.isNaN(local.getTime()) ? null : local.toString() }, iso);
}

/** The time of day part of an ISO instant ("00:58:06.495"), for compact log lines. */
export function clock(iso) {
  const m = /T(\d\d:\d\d:\d\d(?:\.\d+)?)/.exec(iso || '');
  return m ? m[1] : iso || '';
}

/** First 8 characters of a deployment id. */
export const shortId = (id) => (id ? String(id).slice(0, 8) : '—');

/** A status badge: colour comes from the class, the meaning always from the text too. */
export function badge(status, attrs = {}) {
  return h('span', { ...attrs, class: badgeClass(status) }, status || 'unknown');
}

export function badgeClass(status) {
  return `badge status-${String(status || 'unknown').replace(/[^a-z0-9-]/gi, '-')}`;
}

/** Updates a badge made by badge() in place. */
export function setBadge(el, status) {
  const cls = badgeClass(status);
  if (el.className !== cls) el.className = cls;
  setText(el, status || 'unknown');
}

/** A link to a deployment's live view; text defaults to the short id. */
export function deploymentLink(id, text) {
  if (!id) return h('span', { class: 'muted' }, '—');
  return h('a', { href: `#/deployments/${encodeURIComponent(id)}`, class: 'mono', title: id }, text || shortId(id));
}

/** A table in a horizontally scrolling wrapper (the page itself never scrolls sideways). */
export function tableWrap(table, label) {
  return h('div', { class: 'table-wrap', role: 'region', 'aria-label': label, tabindex: '0' }, table);
}

/** A <thead> row of column headers. */
export function headRow(...names) {
  return h('thead', null, h('tr', null, names.map((n) => h('th', { scope: 'col' }, n))));
}

// ---- Confirmation dialog ----------------------------------------------------------------------

let dialog;
let pending = null; // the open confirmation: { resolve, onClose }

/**
 * Asks for confirmation in the shared modal <dialog>; resolves true only on "yes". Focus starts on
 * the cancel button; Escape cancels.
 */
export function confirmDialog(text, yesLabel = 'Confirm') {
  if (!dialog) {
    dialog = h(
      'dialog',
      { 'data-testid': 'confirm-dialog', class: 'confirm', 'aria-labelledby': 'confirm-text' },
      h('form', { method: 'dialog' },
        h('p', { id: 'confirm-text', 'data-testid': 'confirm-text' }),
        h('div', { class: 'dialog-buttons' },
          h('button', { type: 'submit', value: 'no', 'data-testid': 'confirm-no', class: 'secondary' }, 'Cancel'),
          h('button', { type: 'submit', value: 'yes', 'data-testid': 'confirm-yes', class: 'danger' }, 'Confirm'))));
    document.body.append(dialog);
  }
  // A confirmation still open is answered "no" now, directly: its close event would only fire
  // later, after the new one's listener is attached.
  if (pending) {
    const old = pending;
    pending = null;
    dialog.removeEventListener('close', old.onClose);
    old.resolve(false);
  }
  if (dialog.open) dialog.close('no');
  setText(dialog.querySelector('[data-testid="confirm-text"]'), text);
  setText(dialog.querySelector('[data-testid="confirm-yes"]'), yesLabel);
  dialog.returnValue = 'no';
  return new Promise((resolve) => {
    const mine = {
      resolve,
      onClose: () => {
        // A close event queued by closing the previous confirmation arrives with the dialog open
        // again: not this one's answer.
        if (dialog.open) return;
        dialog.removeEventListener('close', mine.onClose);
        if (pending === mine) pending = null;
        resolve(dialog.returnValue === 'yes');
      },
    };
    pending = mine;
    dialog.addEventListener('close', mine.onClose);
    dialog.showModal();
    dialog.querySelector('[data-testid="confirm-no"]').focus();
  });
}

/** Closes the dialog (e.g. when the view it was opened from goes away). */
export function closeDialog() {
  if (dialog && dialog.open) dialog.close('no');
}
