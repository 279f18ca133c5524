import { APIConnectionError, APIError, APIUserAbortError } from 'openai';
import { ClassifiedError, type Failure } from '../errors/index.ts';

/** What an HF error body says, whichever of its many shapes it came in. */
export interface HfErrorBody {
  message: string;
  estimatedSeconds: number | undefined;
  statusInBody: number | undefined;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : undefined;
}

function asNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) ? value : undefined;
}

function messageOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  const record = asRecord(value);
  if (record) return messageOf(record.message) ?? messageOf(record.msg) ?? messageOf(record.error);
  if (Array.isArray(value)) return value.map(messageOf).filter(Boolean).join('; ') || undefined;
  return undefined;
}

/**
 * Reads `{"error":"..","estimated_time":n}`, `{"error":{"message":..}}`, `{"message":..}`,
 * `{"detail":..}`, plain text, an empty body, or the `X-Error-Message` header.
 */
export function parseHfErrorBody(body: unknown, headers?: Headers): HfErrorBody {
  let parsed: unknown = body;
  if (typeof body === 'string') {
    try {
      parsed = JSON.parse(body);
    } catch {
      parsed = body;
    }
  }
  const record = asRecord(parsed);
  const nested = asRecord(record?.error);
  const message =
    messageOf(record?.error) ??
    messageOf(record?.message) ??
    messageOf(record?.detail) ??
    (typeof parsed === 'string' ? parsed.trim() : undefined) ??
    headers?.get('x-error-message') ??
    '';
  return {
    message: message || headers?.get('x-error-message') || '',
    estimatedSeconds: asNumber(record?.estimated_time) ?? asNumber(nested?.estimated_time),
    statusInBody: asNumber(nested?.http_status_code) ?? asNumber(record?.http_status_code),
  };
}

/**
 * Reads a retry hint from rate-limit headers: `Retry-After` (seconds or HTTP date),
 * `retry-after-ms`, and the IETF draft `ratelimit: "api";r=0;t=55` (t = seconds until reset).
 */
export function retryAfterMsFromHeaders(headers: Headers | undefined, now = Date.now()): number | undefined {
  if (!headers) return undefined;
  const ms = Number(headers.get('retry-after-ms'));
  if (headers.get('retry-after-ms') && Number.isFinite(ms) && ms >= 0) return ms;
  const retryAfter = headers.get('retry-after');
  if (retryAfter) {
    const seconds = Number(retryAfter);
    if (Number.isFinite(seconds) && seconds >= 0) return seconds * 1000;
    const date = Date.parse(retryAfter);
    if (!Number.isNaN(date)) return Math.max(0, date - now);
  }
  const rateLimit = headers.get('ratelimit');
  const reset = rateLimit ? /(?:^|;)\s*t=(\d+(?:\.\d+)?)/.exec(rateLimit) : null;
  if (reset?.[1]) return Number(reset[1]) * 1000;
  return undefined;
}

const CONTEXT_TOO_LONG =
  /context length|context window|maximum context|too many tokens|input is too long|must have less than|max_tokens.*(exceed|greater)|`?inputs`? tokens \+ `?max_new_tokens`?/i;

/**
 * A failure no retry fixes. Users see only `explanation`, a fixed sentence per failure class, and
 * the status: an error body may echo the request (headers included), so it goes to `detail`, which
 * is logged (scrubbed) and never posted.
 */
function fatal(explanation: string, status: number, detail: string): Failure {
  return { kind: 'fatal', userMessage: `${explanation} (HTTP ${status})`, detail };
}

/** Maps an HTTP status and parsed body to the failure the worker acts on. */
export function classifyHfStatus(status: number, body: HfErrorBody, headers?: Headers): Failure {
  const detail = `HTTP ${status}${body.message ? `: ${body.message}` : ''}`;
  if (status === 503 && !/overload|capacity|too many requests/i.test(body.message)) {
    return {
      kind: 'loading',
      estimatedMs: body.estimatedSeconds === undefined ? undefined : body.estimatedSeconds * 1000,
      detail,
    };
  }
  if (status === 429 || status === 503) {
    return { kind: 'rate_limited', retryAfterMs: retryAfterMsFromHeaders(headers), detail };
  }
  if (status === 401 || status === 403) {
    return fatal('The bot’s Hugging Face token was rejected. An admin needs to check HF_TOKEN.', status, detail);
  }
  if (status === 402 || /exceeded your monthly included credits/i.test(body.message)) {
    return fatal('The Hugging Face account behind this bot is out of credits.', status, detail);
  }
  if (status === 404) {
    return fatal('The configured model could not be found on Hugging Face. An admin needs to check HF_CHAT_MODEL.', status, detail);
  }
  if (CONTEXT_TOO_LONG.test(body.message)) {
    return fatal('This conversation is too long for the model. Start a new thread (or use /reset in a DM).', status, detail);
  }
  if (status === 400 || status === 413 || status === 422) {
    return fatal('The model rejected the request. An admin can find the reason in the bot’s logs.', status, detail);
  }
  return { kind: 'transient', detail };
}

/**
 * An `error` frame inside a 200 stream (its `error` field): TGI gives an HTTP status in the body,
 * older TGI a type.
 */
export function classifyStreamErrorFrame(error: unknown, cause?: unknown): ClassifiedError {
  const body = parseHfErrorBody({ error });
  const status = body.statusInBody ?? (/validation/i.test(body.message) ? 422 : 500);
  return new ClassifiedError(classifyHfStatus(status, body), { cause: cause ?? error });
}

/**
 * Classifies anything the openai SDK throws. `rawBody` is the error response's text as it came off
 * the wire: the SDK keeps only the `error` field of a JSON body, and HF puts the cold-start
 * estimate beside it.
 */
export function classifyHfError(err: unknown, rawBody?: string): ClassifiedError {
  if (err instanceof ClassifiedError) return err;
  if (err instanceof APIUserAbortError) {
    return new ClassifiedError({ kind: 'transient', detail: 'request aborted' }, { cause: err });
  }
  if (err instanceof APIConnectionError) {
    return new ClassifiedError({ kind: 'transient', detail: err.message }, { cause: err });
  }
  if (err instanceof APIError) {
    if (err.status === undefined) return classifyStreamErrorFrame(err.error, err);
    const body = parseHfErrorBody(rawBody ?? { error: err.error }, err.headers);
    return new ClassifiedError(classifyHfStatus(err.status, body, err.headers), { cause: err, status: err.status });
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new ClassifiedError({ kind: 'transient', detail }, { cause: err });
}
