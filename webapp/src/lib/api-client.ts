// The one place HTTP happens. Every request carries `Authorization: tma <raw initData>`.

let authorization: string | null = null;

export function setInitData(raw: string): void {
  authorization = `tma ${raw}`;
}

export class ApiError extends Error {
  readonly status: number;
  readonly detail: string;
  /** A 422's complaints by body field ("name", "plan.steps.0.description"); empty otherwise. */
  readonly fields: Readonly<Record<string, string>>;

  constructor(status: number, detail: string, fields: Record<string, string> = {}) {
    super(detail);
    this.name = 'ApiError';
    this.status = status;
    this.detail = detail;
    this.fields = fields;
  }
}

interface Complaint {
  field: string;
  msg: string;
}

/** FastAPI's 422 detail, a list of {loc, msg}, as (field, message) pairs; field "" for the body as a whole. */
function complaintsOf(detail: unknown[]): Complaint[] {
  return detail.map((item) => {
    const { loc, msg } = (item ?? {}) as { loc?: unknown; msg?: unknown };
    const parts = Array.isArray(loc) ? loc : [];
    const field = (parts[0] === 'body' ? parts.slice(1) : parts).map(String).join('.');
    // Pydantic prefixes a validator's own words with "Value error, ".
    const text = typeof msg === 'string' ? msg.replace(/^Value error, /, '') : 'invalid';
    return { field, msg: text };
  });
}

/** A 422 answer's messages keyed by the body field they are about (the first one per field). */
export function fieldErrors(body: unknown): Record<string, string> {
  const detail = body && typeof body === 'object' && 'detail' in body ? (body as { detail: unknown }).detail : null;
  if (!Array.isArray(detail)) return {};
  const fields: Record<string, string> = {};
  for (const { field, msg } of complaintsOf(detail)) {
    if (field && !(field in fields)) fields[field] = msg;
  }
  return fields;
}

export function detailOf(body: unknown, status: number): string {
  if (body && typeof body === 'object' && 'detail' in body) {
    const detail = (body as { detail: unknown }).detail;
    if (typeof detail === 'string') return detail;
    if (Array.isArray(detail)) {
      // FastAPI's 422: say which field and why.
      return complaintsOf(detail)
        .map(({ field, msg }) => (field ? `${field}: ${msg}` : msg))
        .join('; ');
    }
  }
  return `the server answered ${status}`;
}

export async function api<T>(path: string, init: { method?: string; body?: unknown } = {}): Promise<T> {
  const headers: Record<string, string> = {};
  if (authorization) headers.Authorization = authorization;
  if (init.body !== undefined) headers['Content-Type'] = 'application/json';
  let response: Response;
  try {
    response = await fetch(path, {
      method: init.method ?? 'GET',
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
  } catch {
    throw new ApiError(0, 'cannot reach the server; check your connection');
  }
  if (response.status === 204) return undefined as T;
  const body: unknown = await response.json().catch(() => null);
  if (!response.ok) throw new ApiError(response.status, detailOf(body, response.status), fieldErrors(body));
  return body as T;
}
