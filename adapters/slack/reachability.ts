import { WebAPIHTTPError, WebAPIPlatformError, WebAPIRequestError } from '@slack/web-api';

/** The innermost cause's message: `getaddrinfo ENOTFOUND slack.com` rather than `fetch failed`. */
function rootCause(err: unknown): string {
  let current: unknown = err;
  for (let depth = 0; depth < 5; depth += 1) {
    const next = current instanceof WebAPIRequestError ? current.original : current instanceof Error ? current.cause : undefined;
    if (!(next instanceof Error)) break;
    current = next;
  }
  return current instanceof Error ? current.message : String(current);
}

/**
 * Why a Web API call at start-up failed, in one line an operator can act on: which URL, what
 * happened, what to check.
 */
export function describeSlackFailure(err: unknown, apiUrl: string): string {
  // The surface wraps Web API errors (classified for the worker's retry policy): look inside.
  const cause = err instanceof Error && err.cause instanceof Error && !(err instanceof WebAPIRequestError) ? err.cause : err;
  if (cause instanceof WebAPIRequestError) {
    return `cannot reach Slack at ${apiUrl} (${rootCause(cause)}): check SLACK_API_URL, DNS, any proxy and the network`;
  }
  if (cause instanceof WebAPIHTTPError) {
    return `Slack at ${apiUrl} answered HTTP ${cause.statusCode}: check SLACK_API_URL`;
  }
  if (cause instanceof WebAPIPlatformError) {
    return `Slack at ${apiUrl} refused the bot token (${cause.data.error}): check SLACK_BOT_TOKEN and that the app is installed`;
  }
  return `Slack at ${apiUrl} failed: ${cause instanceof Error ? cause.message : String(cause)}`;
}
