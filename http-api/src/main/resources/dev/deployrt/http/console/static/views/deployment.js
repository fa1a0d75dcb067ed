// #/deployments/<id>: one deployment, live.
//
// The resource (GET /deployments/{id}) gives status, nodes and error; the event stream
// (GET /deployments/{id}/events, Server-Sent Events) gives the log, the phase timeline and upload
// progress. Events are shown once each, in seq order: any event whose seq is not above the highest
// one shown is ignored, whichever stream it came from (the browser resumes a dropped stream with
// Last-Event-ID; a stream the page reopens itself replays the retained log from the start). An
// event that skips seqs (not after a "truncated" one) makes the page re-read the resource and
// insert the retained events in between first, so the log stays contiguous. While streaming,
// node/phase/error/warning events trigger a debounced re-read of the resource (at most one in
// flight); "done" carries the final resource and ends the stream.
//
// The browser's EventSource gives up for good when a reconnect is answered with anything but 200
// (503 while a node restarts, 429, 502 from a proxy): the page then checks the session and opens a
// new stream after a backoff (1 s, 2 s, 4 s, … at most 15 s; reset once a stream delivered a new
// event, or stayed open for the longest backoff). The first read of the resource is retried with
// the same backoff when it fails (e.g. 503 while a node restarts).
//
// Layout: every region has a fixed or reserved size (the log and the timeline scroll inside their
// boxes, the error and message share a box of fixed height), so streaming events never move the
// page.

import { api, get, seg, errorText, SessionEnded, sessionEnded } from '../api.js';
import { h, setText, setChildren, badge, setBadge, timeEl, clock, exactBytes, humanBytes, tableWrap, headRow, deploymentLink, confirmDialog } from '../dom.js';

const TERMINAL = new Set(['succeeded', 'partial', 'failed', 'superseded', 'reverted']);
const EVENT_TYPES = ['phase', 'progress', 'node', 'log', 'warning', 'truncated'];
const REFRESH_ON = new Set(['node', 'phase', 'error', 'warning']);
const BACKOFF_MIN_MS = 1000;
const BACKOFF_MAX_MS = 15000;
const FILL_GAP_TIMEOUT_MS = 10000;

/** A node's lifecycle as steps; the node-grid progress bar shows how far it got. */
const NODE_STEPS = ['pending', 'fetching', 'extracting', 'checking', 'prepared', 'activating', 'watching', 'active'];
const PHASE_STEP = { fetch: 1, extract: 2, check: 3, activate: 5, health: 6 };

export function mount(root, ctx) {
  const id = ctx.route.segments[1];
  const role = ctx.session.role;
  const isAdmin = role === 'admin';
  const canDeploy = isAdmin || role === 'deployer';

  let disposed = false;
  let ended = false; // "done" received: the resource is final
  let source = null; // the EventSource in use (null between a refused reconnect and the next one)
  let reopenTimer = null;
  let reopenAttempts = 0; // reopens since a stream last proved healthy (the backoff's exponent)
  let healthyTimer = null; // resets the backoff once a stream stayed open for the longest backoff
  let lastSeq = 0;
  let lastType = null; // the type of the event shown last
  let current = null; // the latest resource
  let projects = null; // GET /projects' list (to know the project's current deployment)
  let projectsFailed = false;
  let projectsGen = 0; // the latest GET /projects asked (older answers are ignored)
  let busy = false; // a roll back or payload deletion is under way
  let received = 0; // upload bytes seen in progress events
  const nodeStep = new Map(); // node → furthest step index seen

  // ---- Elements -------------------------------------------------------------------------------

  const statusEl = h('span', { class: 'badge', 'data-testid': 'deployment-status', role: 'status' }, '…');
  const streamEl = h('span', { class: 'stream-state', 'data-testid': 'stream-state', 'aria-live': 'polite' }, 'live');
  const actions = h('div', { class: 'actions' });
  const message = h('p', { class: 'message error-text', 'data-testid': 'deployment-message', 'aria-live': 'polite' });

  const field = (label, testid) => {
    const dd = h('dd', { 'data-testid': testid }, '…');
    return [dd, [h('dt', null, label), dd]];
  };
  const [projectEl, projectRow] = field('Project', 'deployment-project');
  const [descEl, descRow] = field('Description', 'deployment-description');
  const [userEl, userRow] = field('User', 'deployment-user');
  const [originEl, originRow] = field('Origin node', 'deployment-origin');
  const [createdEl, createdRow] = field('Created', 'deployment-created');
  const [completedEl, completedRow] = field('Completed', 'deployment-completed');
  const [shaEl, shaRow] = field('SHA-256', 'deployment-sha256');
  const [sizeEl, sizeRow] = field('Size', 'deployment-size');
  const [rollbackEl, rollbackRow] = field('Rollback of', 'deployment-rollback-of');
  shaEl.classList.add('mono', 'digest');

  // The error and the message share a box of fixed height (its content scrolls), so an error or a
  // message arriving mid-stream never pushes the live panels below it down.
  const errorSlot = h('div', { class: 'error-slot', 'aria-live': 'polite' });
  const outcome = h('div', { class: 'outcome', role: 'region', 'aria-label': 'Error and messages', tabindex: '0' }, errorSlot, message);

  const uploadBar = h('progress', { 'data-testid': 'upload-progress', max: 1, value: 0, 'aria-labelledby': 'upload-label' });
  const uploadText = h('span', { 'data-testid': 'upload-progress-label', class: 'mono' }, '…');

  const nodeBody = h('tbody');
  const nodeRows = new Map(); // node → { tr, status, steps, stepsText, updated, error }
  const nodeTable = h('table', { class: 'data fixed node-table', 'data-testid': 'node-grid' },
    h('caption', { class: 'visually-hidden' }, 'Nodes'),
    headRow('Node', 'Status', 'Progress', 'Updated', 'Error'), nodeBody);
  const nodesEmpty = h('p', { class: 'muted', 'data-testid': 'node-grid-empty' }, 'No node has been given this deployment yet.');

  const timelineBody = h('tbody');
  const timelineRows = new Map(); // node|phase → { tr, cells, state }
  const timelineBox = h('div', { class: 'scroll-box timeline-box', tabindex: '0', role: 'region', 'aria-label': 'Phase timeline' },
    h('table', { class: 'data compact fixed timeline', 'data-testid': 'phase-timeline' },
      headRow('Phase', 'Node', 'Started', 'Finished', 'State'), timelineBody));

  const log = h('ol', { class: 'event-log', 'data-testid': 'event-log' });
  const logBox = h('div', { class: 'scroll-box log-box', tabindex: '0', role: 'log', 'aria-label': 'Event log', 'aria-live': 'off' }, log);

  root.append(
    h('div', { class: 'page-head' },
      h('h1', null, 'Deployment ', h('span', { class: 'mono id', 'data-testid': 'deployment-id' }, id)),
      h('div', { class: 'head-status' }, statusEl),
      actions),
    h('dl', { class: 'meta' }, projectRow, descRow, userRow, originRow, createdRow, completedRow, shaRow, sizeRow, rollbackRow),
    outcome,
    h('section', { class: 'panel upload', 'aria-labelledby': 'upload-label' },
      h('h2', { id: 'upload-label' }, 'Upload'),
      h('div', { class: 'progress-line' }, uploadBar, uploadText)),
    h('div', { class: 'live-grid' },
      h('section', { class: 'panel nodes-panel', 'aria-labelledby': 'nodes-h' },
        h('h2', { id: 'nodes-h' }, 'Nodes'),
        h('div', { class: 'nodes-box' }, nodesEmpty, tableWrap(nodeTable, 'Nodes'))),
      h('section', { class: 'panel', 'aria-labelledby': 'timeline-h' },
        h('h2', { id: 'timeline-h' }, 'Phases'), timelineBox),
      h('section', { class: 'panel log-panel', 'aria-labelledby': 'log-h' },
        h('div', { class: 'panel-head' },
          h('h2', { id: 'log-h' }, 'Event log'),
          h('span', { class: 'muted small' }, 'stream'), streamEl),
        logBox)));
  nodeTable.parentElement.hidden = true;

  // ---- Rendering the resource -----------------------------------------------------------------

  function render(d) {
    current = d;
    setBadge(statusEl, d.status);
    setText(projectEl, d.project);
    setText(descEl, d.description || '—');
    setText(userEl, d.user || '—');
    setText(originEl, d.origin_node || '—');
    setChildren(createdEl, timeEl(d.created_at));
    setChildren(completedEl, timeEl(d.completed_at));
    setText(shaEl, d.sha256 || '—');
    setText(sizeEl, d.payload_size == null ? '—' : exactBytes(d.payload_size));
    setChildren(rollbackEl, d.rollback_of ? deploymentLink(d.rollback_of, d.rollback_of) : '—');
    renderError(d.error);
    renderUpload();
    renderNodes(d.nodes || {});
    renderActions();
  }

  /** Shows text in the message line: an error ("CODE: message") or, with ok, a success. */
  function say(text, ok = false) {
    message.className = ok ? 'message ok-text' : 'message error-text';
    setText(message, text);
  }

  function renderError(err) {
    const sig = err ? JSON.stringify(err) : '';
    if (errorSlot.dataset.sig === sig && errorSlot.firstChild) return; // unchanged: no re-announcement
    errorSlot.dataset.sig = sig;
    if (!err) {
      errorSlot.replaceChildren(h('p', { class: 'muted no-error' }, 'No error reported.'));
      return;
    }
    const where = [err.phase && `phase ${err.phase}`, err.node && `node ${err.node}`].filter(Boolean).join(', ');
    errorSlot.replaceChildren(
      h('div', { class: 'error-block', 'data-testid': 'deployment-error', role: 'alert' },
        h('strong', { 'data-testid': 'deployment-error-code', class: 'mono' }, err.code || 'ERROR'),
        ' ',
        h('span', { 'data-testid': 'deployment-error-message' }, err.message || ''),
        where && h('span', { class: 'muted', 'data-testid': 'deployment-error-where' }, ` (${where})`)));
  }

  function renderUpload() {
    const d = current;
    if (!d) return;
    const total = d.payload_size;
    // Past pending with a stored payload (a digest) means the upload is complete; a deployment
    // that failed while uploading has none.
    const complete = d.status !== 'pending' && d.sha256 != null;
    if (total != null && complete) {
      uploadBar.max = Math.max(total, 1);
      uploadBar.value = Math.max(total, 1);
      setText(uploadText, `${humanBytes(total)} of ${humanBytes(total)}${d.rollback_of ? ' (stored payload reused)' : ''}`);
    } else if (total != null) {
      uploadBar.max = Math.max(total, 1);
      uploadBar.value = Math.min(received, total);
      setText(uploadText, `${humanBytes(Math.min(received, total))} of ${humanBytes(total)}`);
    } else if (d.status === 'pending') {
      uploadBar.removeAttribute('value'); // indeterminate: the size is not known yet
      setText(uploadText, `${humanBytes(received)} received`);
    } else {
      uploadBar.max = 1;
      uploadBar.value = 0;
      setText(uploadText, d.rollback_of ? 'no upload (rollback)' : `upload ended after ${humanBytes(received)}`);
    }
  }

  function renderNodes(nodes) {
    const names = Object.keys(nodes).sort();
    nodesEmpty.hidden = names.length > 0;
    nodeTable.parentElement.hidden = names.length === 0;
    for (const name of names) {
      const n = nodes[name];
      let row = nodeRows.get(name);
      if (!row) {
        row = {
          status: badge('pending', { 'data-testid': 'node-status' }),
          steps: h('progress', { class: 'steps', max: NODE_STEPS.length - 1, value: 0, 'aria-label': `${name} progress` }),
          stepsText: h('span', { class: 'muted small' }),
          updated: h('td'),
          error: h('td', { 'data-testid': 'node-error' }),
        };
        row.tr = h('tr', { 'data-testid': 'node-row', dataset: { node: name } },
          h('th', { scope: 'row' }, name),
          h('td', null, row.status),
          h('td', null, row.steps, ' ', row.stepsText),
          row.updated, row.error);
        nodeRows.set(name, row);
        const after = [...nodeRows.keys()].sort().filter((k) => k > name).map((k) => nodeRows.get(k).tr).find((tr) => tr.parentNode);
        nodeBody.insertBefore(row.tr, after || null);
      }
      setBadge(row.status, n.status);
      let step = NODE_STEPS.indexOf(n.status);
      if (step < 0) step = n.error && PHASE_STEP[n.error.phase] != null ? PHASE_STEP[n.error.phase] : 0;
      step = n.status === 'active' ? step : Math.max(step, nodeStep.get(name) || 0);
      nodeStep.set(name, step);
      row.steps.value = step;
      setText(row.stepsText, `${step}/${NODE_STEPS.length - 1}`);
      setChildren(row.updated, n.updated_at ? h('time', { datetime: n.updated_at, title: n.updated_at }, clock(n.updated_at)) : '—');
      if (n.error) {
        setChildren(row.error,
          h('strong', { class: 'mono' }, n.error.code || 'ERROR'), ' ', n.error.message || '',
          n.error.phase ? h('span', { class: 'muted' }, ` (phase ${n.error.phase})`) : null);
      } else {
        setChildren(row.error, h('span', { class: 'muted' }, '—'));
      }
    }
  }

  /**
   * Whether this deployment is its project's current one: true, false, or null while GET /projects
   * has not answered (then roll back is not offered yet).
   */
  function isCurrent(d) {
    if (!projects) return projectsFailed ? false : null;
    const p = projects.find((x) => x.project === d.project);
    return !!p && p.deployment_id === id;
  }

  function renderActions() {
    const d = current;
    if (!canDeploy || !d) {
      actions.replaceChildren();
      return;
    }
    const terminal = TERMINAL.has(d.status);
    const stored = !!d.payload_present;
    // Roll back goes to an earlier release: not offered on the project's current deployment.
    const offerRollback = terminal && stored && isCurrent(d) === false;
    // The server keeps the active release's payload (409): not offered on the current deployment.
    const offerDelete = isAdmin && terminal && stored && isCurrent(d) === false;
    const want = `${stored}|${offerRollback}|${offerDelete}|${busy}`;
    if (actions.dataset.state === want) return;
    actions.dataset.state = want;
    setChildren(actions,
      stored && h('a', {
        class: 'button secondary', 'data-testid': 'download',
        href: `/deployments/${seg(id)}/payload`, download: `${d.project}-${id.slice(0, 8)}.tar.gz`,
      }, 'Download payload'),
      offerRollback && h('button', { type: 'button', 'data-testid': 'rollback', disabled: busy, onclick: rollback }, 'Roll back to this'),
      offerDelete && h('button', { type: 'button', class: 'danger', 'data-testid': 'delete-payload', disabled: busy, onclick: deletePayload }, 'Delete payload'));
  }

  function setBusy(value) {
    busy = value;
    renderActions();
  }

  /** Reads GET /projects (once per view, and again after "done") for the current deployment. */
  async function loadProjects() {
    if (!canDeploy || disposed) return;
    const mine = ++projectsGen;
    try {
      const data = await get('/projects');
      if (disposed || mine !== projectsGen) return; // a newer read was asked meanwhile
      projects = (data && data.projects) || [];
      projectsFailed = false;
    } catch (err) {
      if (err instanceof SessionEnded || disposed || mine !== projectsGen) return;
      console.warn('could not read the projects', errorText(err));
      if (!projects) projectsFailed = true; // the server decides, as it always does
    }
    renderActions();
  }

  async function rollback() {
    const d = current;
    const ok = await confirmDialog(
      `Roll back project ${d.project} to deployment ${id.slice(0, 8)} (${d.description || 'no description'})? ` +
        'Its stored payload is deployed again to every node.',
      'Roll back');
    if (!ok || disposed || busy) return;
    say('');
    setBusy(true);
    try {
      const created = await api('POST', '/deployments?wait=false', { json: { project: d.project, rollback_of: id } });
      if (!disposed) ctx.navigate(`#/deployments/${encodeURIComponent(created.deployment_id)}`);
    } catch (err) {
      if (!(err instanceof SessionEnded) && !disposed) say(errorText(err));
    } finally {
      if (!disposed) setBusy(false);
    }
  }

  /** Admins: delete the stored payload of a terminal deployment (it can then not be rolled back to). */
  async function deletePayload() {
    const d = current;
    const size = d.payload_size == null ? 'its space' : humanBytes(d.payload_size);
    const ok = await confirmDialog(
      `Delete the stored payload of deployment ${id.slice(0, 8)} of project ${d.project}? ` +
        `This frees ${size}; the deployment can then not be rolled back to, and its payload can not be downloaded.`,
      'Delete payload');
    if (!ok || disposed || busy) return;
    say('');
    setBusy(true);
    try {
      const res = await api('DELETE', `/deployments/${seg(id)}/payload`);
      if (disposed) return;
      const freed = res && typeof res.freed_bytes === 'number' ? res.freed_bytes : null;
      say(`Freed ${freed == null ? 'the payload' : humanBytes(freed)}`, true);
      if (current) current.payload_present = false;
      renderActions();
      try {
        const fresh = await get(`/deployments/${seg(id)}`);
        if (!disposed) render(fresh);
      } catch (err) {
        // The payload is gone all the same: keep "Freed …".
        if (!(err instanceof SessionEnded) && !disposed) console.warn('could not re-read the deployment after deleting its payload', errorText(err));
      }
    } catch (err) {
      if (!(err instanceof SessionEnded) && !disposed) say(errorText(err));
    } finally {
      if (!disposed) setBusy(false);
    }
  }

  // ---- Events ---------------------------------------------------------------------------------
  //
  // Everything that adds to the log goes through one queue, in arrival order: filling a gap waits
  // for a re-read of the resource, and what arrives meanwhile (events, "done") waits its turn.

  const inbox = [];
  let draining = false;

  /** Queues a stream event (gap-checked), or with final, the payload of "done". */
  function enqueue(item) {
    inbox.push(item);
    if (!draining) drain();
  }

  async function drain() {
    draining = true;
    try {
      while (inbox.length && !disposed) {
        const item = inbox.shift();
        try {
          if (item.final !== undefined) finish(item.final);
          else {
            const wait = onEvent(item.ev, item.checkGap);
            if (wait) await wait;
          }
        } catch (e) {
          console.warn('could not show an event', e);
        }
      }
    } finally {
      draining = false;
    }
  }

  /**
   * Shows an event unless it was shown already (seq not above the last one shown). With checkGap
   * (events of a stream), an event skipping seqs after anything but a "truncated" event first
   * fills the gap from the resource: returns the promise of that.
   */
  function onEvent(ev, checkGap = false) {
    if (!ev || typeof ev.seq !== 'number' || ev.seq <= lastSeq) return null; // already shown
    if (checkGap && lastSeq > 0 && ev.seq > lastSeq + 1 && lastType !== 'truncated') return fillGap(ev);
    showEvent(ev);
    return null;
  }

  /** Re-reads the resource and shows its retained events between the last one shown and ev, then ev. */
  async function fillGap(ev) {
    try {
      // Bounded: the queue (and "done" in it) waits for this answer.
      const d = await api('GET', `/deployments/${seg(id)}`, { signal: AbortSignal.timeout(FILL_GAP_TIMEOUT_MS) });
      if (disposed) return;
      const missing = (d.events || [])
        .filter((e) => e && typeof e.seq === 'number' && e.seq > lastSeq && e.seq < ev.seq)
        .sort((a, b) => a.seq - b.seq);
      for (const e of missing) {
        if (e.seq > lastSeq) showEvent(e);
      }
      if (!ended) render(d);
    } catch (err) {
      if (err instanceof SessionEnded || disposed) return;
      console.warn(`could not fill the event log from seq ${lastSeq + 1} to ${ev.seq - 1}`, errorText(err));
    }
    if (ev.seq > lastSeq) showEvent(ev);
  }

  function showEvent(ev) {
    lastSeq = ev.seq;
    lastType = ev.type;
    appendLog(h('li', { dataset: { seq: ev.seq, type: ev.type }, class: `ev ev-${ev.type}` },
      h('time', { datetime: ev.time, class: 'mono muted', title: ev.time }, clock(ev.time)),
      h('span', { class: 'ev-type' }, ev.type),
      h('span', { class: 'ev-phase' }, ev.phase || ''),
      h('span', { class: 'ev-node' }, ev.node || ''),
      h('span', { class: 'ev-msg' }, ev.type === 'truncated' && ev.data && ev.data.dropped_events != null
        ? `${ev.message || 'events dropped'} (${ev.data.dropped_events} not kept)` : ev.message || '')));
    if (ev.type === 'phase') timelinePhase(ev);
    if (ev.type === 'error') timelineFailed(ev);
    const bytes = ev.data && typeof ev.data.bytes === 'number' ? ev.data.bytes : null;
    if (bytes != null && ev.phase === 'upload' && bytes > received) {
      received = bytes;
      renderUpload();
    }
    if (REFRESH_ON.has(ev.type)) scheduleRefresh();
  }

  function appendLog(li) {
    const atBottom = logBox.scrollHeight - logBox.scrollTop - logBox.clientHeight < 32;
    log.append(li);
    if (atBottom) logBox.scrollTop = logBox.scrollHeight;
  }

  /** Timeline rows: one per (node, phase); "… started" opens one, "… finished" closes it. */
  function timelineRow(phase, node, time) {
    const key = `${node || ''}|${phase}`;
    let row = timelineRows.get(key);
    if (!row) {
      row = {
        started: h('td', { class: 'mono nowrap' }, clock(time)),
        finished: h('td', { class: 'mono nowrap' }, '…'),
        state: h('td'),
      };
      row.tr = h('tr', { dataset: { phase, phaseNode: node || '' } },
        h('th', { scope: 'row' }, phase), h('td', null, node || h('span', { class: 'muted' }, 'all')),
        row.started, row.finished, row.state);
      timelineRows.set(key, row);
      const atBottom = timelineBox.scrollHeight - timelineBox.scrollTop - timelineBox.clientHeight < 32;
      timelineBody.append(row.tr);
      if (atBottom) timelineBox.scrollTop = timelineBox.scrollHeight;
    }
    return row;
  }

  function setRowState(row, stateName) {
    row.stateName = stateName;
    setChildren(row.state, badge(stateName));
    row.tr.classList.toggle('is-current', stateName === 'running');
    if (stateName === 'running') row.tr.setAttribute('aria-current', 'step');
    else row.tr.removeAttribute('aria-current');
  }

  function timelinePhase(ev) {
    if (!ev.phase) return;
    const msg = ev.message || '';
    const row = timelineRow(ev.phase, ev.node, ev.time);
    if (/\bstarted\b/.test(msg) && row.stateName !== 'done') {
      setText(row.started, clock(ev.time));
      setRowState(row, 'running');
    } else if (/\bfinished\b/.test(msg)) {
      setText(row.finished, clock(ev.time));
      setRowState(row, row.stateName === 'failed' || /: (failed|partial|reverted|superseded)$/.test(msg) ? 'failed' : 'done');
    } else if (!row.stateName) {
      // A phase logged once (store, prune, an extraction while the payload arrived, …).
      setText(row.finished, clock(ev.time));
      setRowState(row, 'done');
    }
  }

  function timelineFailed(ev) {
    if (!ev.phase) return;
    const row = timelineRow(ev.phase, ev.node, ev.time);
    if (row.finished.textContent === '…') setText(row.finished, clock(ev.time));
    setRowState(row, 'failed');
  }

  function endTimeline() {
    for (const row of timelineRows.values()) {
      if (row.stateName === 'running') setRowState(row, 'stopped');
    }
  }

  // ---- Re-reading the resource while streaming ------------------------------------------------

  let refreshTimer = null;
  let refreshing = false;
  let refreshAgain = false;
  let refreshError = null; // the text of a failed re-read shown in the message line

  function scheduleRefresh() {
    if (ended || disposed || refreshTimer) return;
    refreshTimer = setTimeout(refresh, 300);
  }

  async function refresh() {
    refreshTimer = null;
    if (refreshing) {
      refreshAgain = true;
      return;
    }
    refreshing = true;
    try {
      const d = await get(`/deployments/${seg(id)}`);
      if (!ended && !disposed) {
        render(d);
        // An error of an earlier re-read is over (a "Freed …" of a deletion just done, or the
        // error of a roll back or deletion, stays).
        if (refreshError !== null && message.textContent === refreshError) say('');
        refreshError = null;
      }
    } catch (err) {
      if (!(err instanceof SessionEnded) && !disposed) {
        refreshError = errorText(err);
        say(refreshError);
      }
    } finally {
      refreshing = false;
      if (refreshAgain) {
        refreshAgain = false;
        scheduleRefresh();
      }
    }
  }

  // ---- The stream -----------------------------------------------------------------------------

  /** Opens a stream (the first one, or a new one after the browser gave up on the previous). */
  function openStream(reopen = false) {
    if (disposed || ended) return;
    const src = new EventSource(`/deployments/${seg(id)}/events`);
    source = src;
    if (!reopen) setText(streamEl, 'live');
    const mine = (listener) => (e) => {
      if (src === source && !disposed) listener(e);
    };
    src.addEventListener('open', mine(() => {
      setState('live');
      // The backoff starts over only once the stream proved healthy: it delivered a new event, or
      // stayed open for the longest backoff (a stream accepted then dropped at once does not).
      clearTimeout(healthyTimer);
      healthyTimer = setTimeout(() => {
        healthyTimer = null;
        if (src === source && !disposed && src.readyState === EventSource.OPEN) reopenAttempts = 0;
      }, BACKOFF_MAX_MS);
    }));
    const streamed = (data) => {
      const ev = parse(data);
      if (ev && typeof ev.seq === 'number' && ev.seq > lastSeq) reopenAttempts = 0; // new: healthy
      enqueue({ ev, checkGap: true });
    };
    for (const type of EVENT_TYPES) src.addEventListener(type, mine((e) => streamed(e.data)));
    // "error" is both a named event of the stream (a MessageEvent with data) and the
    // EventSource's connection error (a plain Event without data).
    src.addEventListener('error', mine((e) => {
      if (e instanceof MessageEvent && typeof e.data === 'string' && e.data) {
        streamed(e.data);
        return;
      }
      clearTimeout(healthyTimer);
      healthyTimer = null;
      if (ended) return;
      if (src.readyState === EventSource.CONNECTING) {
        setState('reconnecting'); // the browser retries by itself, resuming after Last-Event-ID
      } else {
        // Closed for good: the reconnect was answered with something else than 200.
        src.close();
        source = null;
        streamClosed();
      }
    }));
    src.addEventListener('done', mine((e) => {
      ended = true;
      stopStream();
      clearTimeout(refreshTimer);
      setState('ended');
      enqueue({ final: parse(e.data) });
    }));
  }

  /** Closes the stream and cancels a pending reopen. */
  function stopStream() {
    clearTimeout(reopenTimer);
    reopenTimer = null;
    clearTimeout(healthyTimer);
    healthyTimer = null;
    if (source) source.close();
    source = null;
  }

  /** "done": the final resource and the retained log; the stream has ended. */
  function finish(d) {
    // The list read at mount is stale now (this deployment may have become the project's current
    // one): offer nothing that depends on it until it was read again.
    projects = null;
    projectsFailed = false;
    for (const ev of (d && d.events) || []) onEvent(ev);
    if (d) render(d);
    endTimeline();
    appendLog(h('li', { dataset: { type: 'done' }, class: 'ev ev-done' }, `done: ${d ? d.status : 'ended'}`));
    loadProjects(); // this deployment may have become (or stopped being) the project's current one
  }

  function setState(s) {
    setText(streamEl, s);
    streamEl.className = `stream-state stream-${s}`;
  }

  /**
   * The browser gave up on the stream before "done" (a reconnect answered 503, 429, 502, …):
   * unless the session ended, open a new one after a backoff. It replays the retained log from the
   * start; what was shown already is skipped by seq.
   */
  async function streamClosed() {
    setState('reconnecting');
    try {
      const s = await get('/session');
      if (disposed || ended) return;
      if (!s || !s.signed_in) {
        sessionEnded();
        return;
      }
    } catch (err) {
      if (err instanceof SessionEnded || disposed || ended) return;
      // Not reachable just now (e.g. the node restarts): try the stream again all the same.
      console.warn('could not check the session before reopening the event stream', errorText(err));
    }
    scheduleReopen();
  }

  function scheduleReopen() {
    if (disposed || ended || reopenTimer) return;
    const delay = Math.min(BACKOFF_MIN_MS * 2 ** reopenAttempts, BACKOFF_MAX_MS);
    reopenAttempts += 1;
    setState('reconnecting');
    reopenTimer = setTimeout(() => {
      reopenTimer = null;
      openStream(true);
    }, delay);
  }

  function parse(data) {
    try {
      return JSON.parse(data);
    } catch {
      return null;
    }
  }

  // ---- Start ----------------------------------------------------------------------------------

  let loadTimer = null;
  let loadAttempts = 0;

  /** The first read of the resource; on failure (e.g. 503 while a node restarts) tried again after a backoff. */
  async function initialLoad() {
    loadTimer = null;
    if (disposed) return;
    try {
      const d = await get(`/deployments/${seg(id)}`);
      if (disposed) return;
      if (loadAttempts > 0) {
        say('');
        setState('live');
      }
      render(d);
      for (const ev of d.events || []) enqueue({ ev, checkGap: false });
      openStream();
    } catch (err) {
      if (err instanceof SessionEnded || disposed) return;
      if (!current) setBadge(statusEl, 'unknown');
      say(errorText(err));
      // A refusal (404, 403, 400, …) stays one; what may pass (network, 5xx, 429, 408) is tried again.
      if (err.status >= 400 && err.status < 500 && err.status !== 429 && err.status !== 408) {
        setState('ended');
        return;
      }
      const delay = Math.min(BACKOFF_MIN_MS * 2 ** loadAttempts, BACKOFF_MAX_MS);
      loadAttempts += 1;
      setState('reconnecting');
      loadTimer = setTimeout(initialLoad, delay);
    }
  }

  renderError(null);
  loadProjects();
  initialLoad();

  return {
    dispose() {
      disposed = true;
      clearTimeout(refreshTimer);
      clearTimeout(loadTimer);
      stopStream();
    },
  };
}
