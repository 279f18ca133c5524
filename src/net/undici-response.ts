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

/** For a 3xx, the error `fetch` with `redirect: 'error'` would throw: the APIs answer where they are asked. */
export function redirectError(statusCode: number, url: string | URL): TypeError | undefined {
  return statusCode >= 300 && statusCode < 400 ? new TypeError(`unexpected redirect (HTTP ${statusCode}) from ${String(url)}`) : undefined;
}
