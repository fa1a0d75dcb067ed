// #/deploy: upload a .tar.gz as a new deployment (admin, deployer), then follow it live.
//
// The upload can be cancelled, and is aborted when the view goes away (navigating, signing out).
// When the server refuses an upload early (413, 507, 429, …) the browser often reports a network
// error instead of the answer: the page then looks up the project's newest deployment and, when it
// is this user's made since the upload started, shows its error (failed) or follows it live (the
// upload was accepted; only the answer was lost). Once the whole body was sent, Cancel is hidden:
// the server has the upload, aborting would only lose its answer.

import { get, query, uploadPayload, errorText, SessionEnded } from '../api.js';
import { h, setText, setChildren, humanBytes, deploymentLink } from '../dom.js';
import { PROJECT_PATTERN } from './deployments.js';

const PROJECT_RE = new RegExp(`^${PROJECT_PATTERN}$`, 'v');
const MAX_DESCRIPTION = 512;
/** How far the server's clock may be behind this machine's when matching a failed attempt. */
const CLOCK_SKEW_MS = 5000;

export function mount(root, ctx) {
  const role = ctx.session.role;
  if (role !== 'admin' && role !== 'deployer') {
    root.append(
      h('h1', null, 'Deploy'),
      h('p', { class: 'note', 'data-testid': 'deploy-forbidden', role: 'status' },
        `Your role may not deploy (you are signed in as ${ctx.session.user}, role ${role}).`));
    return {};
  }

  let disposed = false;
  let uploading = false;
  let upload = null; // the AbortController of the upload in progress
  const preset = ctx.route.query.get('project') || '';

  const projects = h('datalist', { id: 'deploy-projects' });
  const fileInfo = h('span', { class: 'file-info', 'data-testid': 'deploy-file', 'aria-live': 'polite' });
  const fileInput = h('input', { id: 'deploy-payload', type: 'file', name: 'payload', accept: '.tar.gz,.tgz,application/gzip', required: true });
  const dropzone = h('label', { class: 'dropzone', 'data-testid': 'dropzone', for: 'deploy-payload' },
    h('span', { class: 'dropzone-title' }, 'Payload (.tar.gz)'),
    h('span', { class: 'muted' }, 'Drop the archive here, or choose it:'),
    fileInput,
    fileInfo);
  const progress = h('progress', { 'data-testid': 'deploy-upload-progress', max: 1, value: 0, 'aria-label': 'Upload progress' });
  const progressText = h('span', { class: 'mono', 'data-testid': 'deploy-upload-label' }, 'not started');
  const submit = h('button', { type: 'submit', 'data-testid': 'deploy-submit' }, 'Deploy');
  const cancel = h('button', { type: 'button', class: 'secondary', 'data-testid': 'deploy-cancel', hidden: true, onclick: cancelUpload }, 'Cancel');
  const error = h('p', { class: 'error-text', 'data-testid': 'deploy-error', 'aria-live': 'polite' });
  const rollbackLink = h('a', { href: '#/deployments?status=succeeded' }, 'pick an earlier deployment');

  const form = h('form', { 'data-testid': 'deploy-form', class: 'deploy-form', novalidate: true },
    h('div', { class: 'field' },
      h('label', { for: 'deploy-project' }, 'Project'),
      h('input', { id: 'deploy-project', name: 'project', required: true, list: 'deploy-projects', pattern: PROJECT_PATTERN, maxlength: 64, autocomplete: 'off', spellcheck: 'false', value: preset, 'aria-describedby': 'deploy-project-hint' }),
      h('small', { id: 'deploy-project-hint', class: 'muted' }, 'Lower case letters, digits, ".", "_" and "-"; up to 64 characters.'),
      projects),
    h('div', { class: 'field' },
      h('label', { for: 'deploy-description' }, 'Description'),
      h('input', { id: 'deploy-description', name: 'description', maxlength: MAX_DESCRIPTION, autocomplete: 'off' })),
    dropzone,
    h('div', { class: 'progress-line' }, progress, progressText),
    h('div', { class: 'buttons' }, submit, cancel),
    error);

  root.append(h('div', { class: 'narrow-page' },
    h('div', { class: 'page-head' }, h('h1', null, 'Deploy')),
    form,
    h('section', { class: 'panel', 'aria-labelledby': 'rollback-h', 'data-testid': 'rollback-help' },
      h('h2', { id: 'rollback-h' }, 'Roll back'),
      h('p', null, 'To go back to an earlier release, ', rollbackLink,
        ' from the deployments list and use “Roll back to this” on its page: its stored payload is deployed again.'))));

  // Existing projects for the datalist (and the roll back link).
  get('/projects').then((data) => {
    if (disposed) return;
    setChildren(projects, (data.projects || []).map((p) => h('option', { value: p.project })));
  }).catch(() => {});

  const projectInput = form.elements.project;
  projectInput.addEventListener('input', () => {
    const p = projectInput.value.trim();
    rollbackLink.href = PROJECT_RE.test(p) ? `#/deployments?project=${encodeURIComponent(p)}&status=succeeded` : '#/deployments?status=succeeded';
  });

  function showFile() {
    const f = fileInput.files[0];
    setText(fileInfo, f ? `${f.name} — ${humanBytes(f.size)}` : '');
    if (f && !uploading) {
      progress.max = Math.max(f.size, 1);
      progress.value = 0;
      setText(progressText, `0 B of ${humanBytes(f.size)}`);
    }
  }
  fileInput.addEventListener('change', showFile);

  let sent = false; // the whole body of the upload in progress was sent

  function cancelUpload() {
    if (upload && !sent) upload.abort();
  }

  /** Shows an error (red) or a plain note in the deploy-error line. */
  function say(children, isError = true) {
    error.className = isError ? 'error-text' : 'message';
    setChildren(error, children);
  }

  /**
   * After a network error: the project's newest deployment, when it is this user's created since
   * the upload started (whatever its status: the browser lost the answer, refused or accepted).
   */
  async function recentAttempt(project, startedAt) {
    try {
      const page = await get(`/deployments${query({ project, limit: 1 })}`);
      const d = page && page.deployments && page.deployments[0];
      if (!d || !d.deployment_id || d.user !== ctx.session.user) return null;
      const created = Date.parse(d.created_at || '');
      if (Number.isNaN(created) || created < startedAt - CLOCK_SKEW_MS) return null;
      return d;
    } catch (err) {
      if (err instanceof SessionEnded) throw err;
      console.warn('could not look up the upload', errorText(err));
      return null;
    }
  }

  // Drag and drop onto the label sets the file input's files.
  dropzone.addEventListener('dragover', (e) => {
    e.preventDefault();
    e.dataTransfer.dropEffect = 'copy';
    dropzone.classList.add('dragging');
  });
  dropzone.addEventListener('dragleave', () => dropzone.classList.remove('dragging'));
  dropzone.addEventListener('drop', (e) => {
    e.preventDefault();
    dropzone.classList.remove('dragging');
    if (uploading || !e.dataTransfer.files.length) return;
    const dt = new DataTransfer();
    dt.items.add(e.dataTransfer.files[0]);
    fileInput.files = dt.files;
    showFile();
  });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (uploading) return;
    const project = projectInput.value.trim();
    const description = form.elements.description.value.trim();
    const file = fileInput.files[0];
    say([]);
    if (!PROJECT_RE.test(project)) {
      say('INVALID_REQUEST: the project name must match ^[a-z0-9][a-z0-9._-]{0,63}$');
      projectInput.focus();
      return;
    }
    if (description.length > MAX_DESCRIPTION) {
      say(`INVALID_REQUEST: the description may have at most ${MAX_DESCRIPTION} characters`);
      return;
    }
    if (!file) {
      say('INVALID_REQUEST: choose a .tar.gz payload to deploy');
      fileInput.focus();
      return;
    }
    uploading = true;
    sent = false;
    const controller = new AbortController();
    upload = controller;
    submit.disabled = true;
    fileInput.disabled = true;
    cancel.hidden = false;
    setText(submit, 'Uploading…');
    progress.max = Math.max(file.size, 1);
    progress.value = 0;
    const startedAt = Date.now();
    try {
      const d = await uploadPayload(file, project, description, (loaded, total) => {
        progress.max = Math.max(total, 1);
        progress.value = loaded;
        setText(progressText, `${humanBytes(loaded)} of ${humanBytes(total)}`);
      }, {
        signal: controller.signal,
        onSent: () => {
          if (disposed || upload !== controller) return;
          sent = true;
          const refocus = document.activeElement === cancel;
          cancel.hidden = true;
          if (refocus) submit.focus();
          say('Upload complete, waiting for the server…', false);
        },
      });
      if (!disposed) ctx.navigate(`#/deployments/${encodeURIComponent(d.deployment_id)}`);
    } catch (err) {
      if (err instanceof SessionEnded || disposed) return;
      if (err.code === 'ABORTED') {
        say('Upload cancelled', false);
        return;
      }
      if (err.code === 'NETWORK_ERROR') {
        let attempt = null;
        try {
          attempt = await recentAttempt(project, startedAt);
        } catch {
          return; // the session ended
        }
        if (disposed) return;
        if (attempt && attempt.status !== 'failed') {
          // The upload was accepted; only the answer was lost: follow it live.
          ctx.navigate(`#/deployments/${encodeURIComponent(attempt.deployment_id)}`);
          return;
        }
        if (attempt) {
          const e2 = attempt.error || {};
          say([`${e2.code || 'ERROR'}: ${e2.message || 'the deployment failed'}`, ' — ',
            h('a', { href: `#/deployments/${encodeURIComponent(attempt.deployment_id)}`, class: 'mono', 'data-testid': 'deploy-error-link' }, 'see the failed attempt')]);
          return;
        }
      }
      let text = errorText(err);
      if (err.retryAfter) text += ` (try again in ${err.retryAfter} s)`;
      const failedId = err.body && err.body.deployment_id;
      say([text, failedId ? [' — ', deploymentLink(failedId, 'see the failed attempt')] : null]);
      if (failedId) error.lastElementChild.setAttribute('data-testid', 'deploy-error-link');
    } finally {
      if (upload === controller) upload = null;
      uploading = false;
      sent = false;
      if (!disposed) {
        const refocus = document.activeElement === cancel;
        cancel.hidden = true;
        submit.disabled = false;
        fileInput.disabled = false;
        setText(submit, 'Deploy');
        if (refocus) submit.focus();
      }
    }
  });

  return {
    dispose() {
      disposed = true;
      if (upload) upload.abort(); // leaving the page (or signing out) stops the upload
    },
  };
}
