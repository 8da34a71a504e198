// The dashboard's only way to the server: the public API, same origin, with the bearer token from
// /auth/signup or /auth/login kept in sessionStorage (gone when the tab closes).
const TOKEN_KEY = 'paygen.token';
/** Dispatched on window when the API refuses the token. */
export const SESSION_ENDED = 'paygen:session-ended';

export interface Envelope<T> {
  statusCode: number;
  message: string;
  data: T;
  meta?: { hasMore: boolean; nextCursor: string | null };
  error?: { code: string; details?: Array<{ field?: string; message: string }> };
}

export class ApiFailure extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export const getToken = () => sessionStorage.getItem(TOKEN_KEY);
export const setToken = (token: string | null) => {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
};

/** Calls the API; resolves with the envelope of a 2xx answer, throws ApiFailure otherwise. */
export async function call<T = unknown>(method: string, path: string, body?: unknown): Promise<Envelope<T>> {
  const headers: Record<string, string> = { accept: 'application/json' };
  const token = getToken();
  if (token) headers.authorization = `Bearer ${token}`;
  let payload: BodyInit | undefined;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const res = await fetch(path, { method, headers, body: payload });
  const text = await res.text();
  let parsed: Envelope<T> | undefined;
  try {
    parsed = JSON.parse(text) as Envelope<T>;
  } catch {
    // Not JSON: reported below with the status.
  }
  // The session ended (logged out elsewhere, expired): back to the login page.
  if (res.status === 401 && token && !path.startsWith('/auth/')) {
    setToken(null);
    dispatchEvent(new Event(SESSION_ENDED));
  }
  if (!res.ok || !parsed) {
    const details = parsed?.error?.details?.map((d) => (d.field ? `${d.field}: ${d.message}` : d.message)).join('; ');
    const message = parsed?.message ?? `The server answered ${res.status}.`;
    throw new ApiFailure(res.status, parsed?.error?.code ?? 'http_error', details ? `${message} (${details})` : message);
  }
  return parsed;
}

export const get = <T>(path: string) => call<T>('GET', path).then((r) => r.data);
export const post = <T>(path: string, body?: unknown) => call<T>('POST', path, body ?? {}).then((r) => r.data);
export const del = <T>(path: string) => call<T>('DELETE', path).then((r) => r.data);

export const query = (params: Record<string, string | number | undefined | null>) => {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
};
