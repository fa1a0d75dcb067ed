// The HTTP API client: same-origin JSON requests with the session cookie.
//
// Every request carries X-Requested-With: deploy-console. The server refuses a change made with
// the session cookie without it (a cross-site form cannot set that header), and answers this
// page's 401s with a Session challenge, not Basic, so the browser shows no password prompt. A 401 from any
// call but sign-in means the session ended: the handler set with onSessionEnded() shows the
// sign-in page.

export const CSRF_HEADER = 'X-Requested-With';
export const CSRF_VALUE = 'deploy-console';

/** An error answer of the API, or a network failure (code NETWORK_ERROR). */
export class ApiError extends Error {
  constructor(status, code, message, body = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

/** Thrown by calls cut short because the session ended; views simply stop. */
export class SessionEnded extends ApiError {
  constructor() {
    super(401, 'UNAUTHORIZED', 'Your session has ended');
  }
}

let sessionEndedHandler = () => {};

export function onSessionEnded(handler) {
  sessionEndedHandler = handler;
}

/** Tells the app the session ended (a 401 seen anywhere). */
export function sessionEnded() {
  sessionEndedHandler();
}

/** "CODE: message" for showing an error to the user. */
export function errorText(err) {
  if (err instanceof ApiError) return `${err.code}: ${err.message}`;
  return `ERROR: ${err && err.message ? err.message : String(err)}`;
}

/** Builds an error from an answer body (JSON {"error","code"} or anything else). */
export function errorFrom(status, body) {
  if (body && typeof body === 'object' && body.code) {
    return new ApiError(status, body.code, body.error || `HTTP ${status}`, body);
  }
  return new ApiError(status, `HTTP_${status}`, `the server answered ${status}`, body || {});
}

/**
 * One API call. options: json (a body to send as JSON), headers, allow401 (return the error
 * instead of ending the session: for sign-in), signal (an AbortSignal, e.g. AbortSignal.timeout():
 * an aborted call rejects with code ABORTED, or TIMEOUT for a timeout). Resolves to the parsed
 * JSON (null for 204).
 */
export async function api(method, path, options = {}) {
  const headers = { Accept: 'application/json', ...(options.headers || {}) };
  headers[CSRF_HEADER] = CSRF_VALUE;
  let body;
  if (options.json !== undefined) {
    headers['Content-Type'] = 'application/json';
    body = JSON.stringify(options.json);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body, credentials: 'same-origin', cache: 'no-store', signal: options.signal });
  } catch (e) {
    throw abortedOr(e, options.signal, 'the server could not be reached');
  }
  let data;
  try {
    data = await readJson(res);
  } catch (e) {
    throw abortedOr(e, options.signal, 'the answer was cut off');
  }
  if (res.status === 401 && !options.allow401) {
    sessionEnded();
    throw new SessionEnded();
  }
  if (!res.ok) {
    const err = errorFrom(res.status, data);
    err.retryAfter = res.headers.get('Retry-After');
    throw err;
  }
  return data;
}

/** The error for a failed fetch: ABORTED / TIMEOUT when the signal stopped it, else NETWORK_ERROR. */
function abortedOr(e, signal, message) {
  if (signal && signal.aborted) {
    const reason = signal.reason;
    if (reason && reason.name === 'TimeoutError') return new ApiError(0, 'TIMEOUT', 'the server did not answer in time');
    return new ApiError(0, 'ABORTED', 'the request was cancelled');
  }
  return new ApiError(0, 'NETWORK_ERROR', message);
}

async function readJson(res) {
  if (res.status === 204) return null;
  const text = await res.text();
  if (!text) return null;
  try {
    return JSON.parse(text);
  } catch {
    return { raw: text };
  }
}

export const get = (path) => api('GET', path);

/** Query string from an object, leaving out empty values. */
export function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) {
    if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
  }
  const s = q.toString();
  return s ? `?${s}` : '';
}

/** Path segment encoding. */
export const seg = (s) => encodeURIComponent(s);

/**
 * Uploads a payload: POST /deployments?project=&description=&wait=false with the file as the raw
 * body. onProgress(loaded, total) follows the upload. Resolves to the deployment (201/202),
 * rejects with an ApiError (its body may name the failed attempt's deployment_id). options.signal
 * (an AbortSignal) aborts the request: it then rejects with code ABORTED. options.onSent() is
 * called once the whole body was sent (aborting after that only drops the answer: the server has
 * the upload).
 */
export function uploadPayload(file, project, description, onProgress, options = {}) {
  const { signal, onSent } = options;
  return new Promise((resolve, reject) => {
    if (signal && signal.aborted) {
      reject(new ApiError(0, 'ABORTED', 'the upload was cancelled'));
      return;
    }
    const xhr = new XMLHttpRequest();
    const onAbort = () => xhr.abort();
    if (signal) signal.addEventListener('abort', onAbort, { once: true });
    xhr.addEventListener('loadend', () => {
      if (signal) signal.removeEventListener('abort', onAbort);
    });
    xhr.open('POST', `/deployments${query({ project, description, wait: 'false' })}`);
    xhr.setRequestHeader('Content-Type', 'application/gzip');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.setRequestHeader(CSRF_HEADER, CSRF_VALUE);
    xhr.upload.addEventListener('progress', (e) => onProgress(e.loaded, e.lengthComputable ? e.total : file.size));
    if (onSent) xhr.upload.addEventListener('load', () => onSent(), { once: true });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = xhr.responseText ? JSON.parse(xhr.responseText) : null;
      } catch {
        body = null;
      }
      if (xhr.status === 401) {
        sessionEnded();
        reject(new SessionEnded());
      } else if (xhr.status === 201 || xhr.status === 202) {
        resolve(body);
      } else {
        const err = errorFrom(xhr.status, body);
        err.retryAfter = xhr.getResponseHeader('Retry-After');
        reject(err);
      }
    });
    xhr.addEventListener('error', () => reject(new ApiError(0, 'NETWORK_ERROR', 'the upload was cut off')));
    xhr.addEventListener('abort', () => reject(new ApiError(0, 'ABORTED', 'the upload was cancelled')));
    xhr.send(file);
  });
}

/** Session helpers. */
export const session = {
  get: () => api('GET', '/session'),
  signIn: (user, password) => api('POST', '/session', { json: { user, password }, allow401: true }),
  signOut: () => api('DELETE', '/session', { allow401: true }),
};
