/** Web API request arguments: parsing form and JSON bodies as Slack does, and typed reads. */
import type { IncomingMessage } from 'node:http';
import { isRecord } from '../http.ts';

export type Args = Record<string, unknown>;
export type ApiResult = Record<string, unknown>;

/** Form fields Slack expects to hold JSON (the WebClient JSON-encodes nested values). */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'chunks', 'metadata']);

/** A string argument (numbers are accepted and stringified, as form encoding would). */
export function str(args: Args, key: string): string | undefined {
  const value = args[key];
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return undefined;
}

/** A boolean argument: JSON booleans or form strings `true`/`1`. */
export function flag(args: Args, key: string): boolean | undefined {
  const value = args[key];
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') return value === 'true' || value === '1';
  return undefined;
}

export function int(args: Args, key: string): number | undefined {
  const raw = str(args, key);
  if (raw === undefined) return undefined;
  const n = Number.parseInt(raw, 10);
  return Number.isNaN(n) ? undefined : n;
}

export function fail(error: string): ApiResult {
  return { ok: false, error };
}

/** Parsed request arguments plus the token found in the body (form bodies only). */
interface ParsedRequest {
  args: Args;
  bodyToken?: string;
  error?: string;
}

/**
 * Arguments from the query string and the body. Form bodies are what the WebClient sends; JSON
 * bodies are accepted too, but (as on Slack) their token must come in the Authorization header.
 */
export function parseRequest(req: IncomingMessage, url: URL, raw: string): ParsedRequest {
  const args: Args = {};
  for (const [key, value] of url.searchParams) args[key] = value;
  const contentType = (req.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
  let bodyToken: string | undefined = str(args, 'token');
  if (raw.length > 0) {
    if (contentType === 'application/json') {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        return { args, error: 'invalid_json' };
      }
      if (!isRecord(parsed)) return { args, error: 'invalid_json' };
      Object.assign(args, parsed);
    } else if (contentType === 'application/x-www-form-urlencoded' || contentType === '') {
      for (const [key, value] of new URLSearchParams(raw)) {
        args[key] = value;
        if (JSON_FIELDS.has(key)) {
          // Leave undecodable JSON as a string; the method then rejects it as malformed.
          try {
            args[key] = JSON.parse(value);
          } catch {
            /* keep the raw string */
          }
        }
      }
      bodyToken = str(args, 'token') ?? bodyToken;
    } else {
      return { args, error: 'invalid_form_data' };
    }
  }
  delete args.token;
  return bodyToken === undefined ? { args } : { args, bodyToken };
}
