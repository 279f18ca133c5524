/**
 * What the transports over undici's `request` (the Slack Web API's, the HF router's) share in
 * turning its answer into what their SDKs read.
 */

/** A response's headers as undici's `request` hands them, as WHATWG `Headers` (repeated ones appended). */
export function headersOf(raw: Record<string, string | string[] | undefined>): Headers {
  const headers = new Headers();
  for (const [name, value] of Object.entries(raw)) {
    if (Array.isArray(value)) for (const item of value) headers.append(name, item);
    else if (value !== undefined) headers.append(name, value);
  }
  return headers;
}

/**
 * A response's headers for an SDK that reads them through `get` and `entries` only (the Slack Web
 * API client's `FetchHeaders`): a view of undici's own object (names already lower-case) instead
 * of a WHATWG `Headers` built and validated for each call. Repeated headers read as `get` reads
 * them from `Headers`, joined by ", ".
 */
export function headerView(raw: Record<string, string | string[] | undefined>): { get(name: string): string | null; entries(): Iterable<[string, string]> } {
  const joined = (value: string | string[] | undefined) => (Array.isArray(value) ? value.join(', ') : value);
  return {
    get: (name) => joined(raw[name.toLowerCase()]) ?? null,
    entries: () => Object.entries(raw).flatMap(([name, value]): Array<[string, string]> => (value === undefined ? [] : [[name, joined(value) ?? '']])),
  };
}

/** For a 3xx, the error `fetch` with `redirect: 'error'` would throw: the APIs answer where they are asked. */
export function redirectError(statusCode: number, url: string | URL): TypeError | undefined {
  return statusCode >= 300 && statusCode < 400 ? new TypeError(`unexpected redirect (HTTP ${statusCode}) from ${String(url)}`) : undefined;
}
