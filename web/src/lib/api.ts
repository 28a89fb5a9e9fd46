import type { Problem } from './types';

/** A failed API call, carrying the server's problem+json document. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Problem;
  constructor(problem: Problem) {
    super(problem.detail || problem.title);
    this.name = 'ApiError';
    this.status = problem.status;
    this.problem = problem;
  }
  get code(): string {
    return this.problem.code;
  }
}

/** The sentence to show a person for any error: the server's `detail` when there is one. */
export function errorMessage(error: unknown): string {
  if (error instanceof ApiError) return error.problem.detail || error.problem.title;
  if (error instanceof TypeError) return 'The portal cannot reach the server. Check your connection and try again.';
  if (error instanceof Error) return error.message;
  return 'Something went wrong. Try again.';
}

async function problemOf(response: Response): Promise<Problem> {
  const fallback: Problem = {
    title: response.statusText || 'Error',
    status: response.status,
    detail: `The server answered ${response.status}.`,
    code: 'http_error',
  };
  try {
    const body = (await response.json()) as Partial<Problem>;
    return { ...fallback, ...body } as Problem;
  } catch {
    return fallback;
  }
}

type Query = Record<string, string | number | boolean | null | undefined>;

/** `path?query` without empty values. */
export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') continue;
    params.set(name, String(value));
  }
  const text = params.toString();
  return text ? `${path}?${text}` : path;
}

/** Calls the portal API with the session cookie; resolves to the JSON body (or undefined on 204). */
export async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body !== undefined) {
    init.headers = { ...init.headers, 'content-type': 'application/json' };
    init.body = JSON.stringify(body);
  }
  const response = await fetch(path, init);
  if (!response.ok) throw new ApiError(await problemOf(response));
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', withQuery(path, query));
export const post = <T>(path: string, body?: unknown) => api<T>('POST', path, body);
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, body);
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, body);
export const del = <T>(path: string) => api<T>('DELETE', path);
