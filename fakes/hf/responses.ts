/** The error answers the router gives: a loading model's 503 in each body shape, and plain statuses. */
import { STATUS_CODES, type ServerResponse } from 'node:http';
import { sendJson } from '../http.ts';
import type { ChatStep } from './types.ts';

function sendText(res: ServerResponse, status: number, text: string, headers: Record<string, string> = {}): void {
  res.writeHead(status, {
    ...(text ? { 'Content-Type': 'text/plain; charset=utf-8' } : {}),
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export function loadingMessage(model: string): string {
  return `Model ${model} is currently loading`;
}

/** The 503 a loading model answers, in each of the body shapes seen in the wild. */
export function sendLoading(res: ServerResponse, model: string, step: Extract<ChatStep, { kind: 'loading' }>): void {
  const message = loadingMessage(model);
  const headers = step.headers ?? {};
  switch (step.shape ?? 'legacy') {
    case 'legacy':
      return sendJson(res, 503, { error: message, estimated_time: step.estimatedTime ?? 20.0 }, headers);
    case 'nested':
      return sendJson(
        res,
        503,
        { error: { message, ...(step.estimatedTime === undefined ? {} : { estimated_time: step.estimatedTime }) } },
        headers,
      );
    case 'message':
      return sendJson(res, 503, { message }, headers);
    case 'detail':
      return sendJson(res, 503, { detail: message }, headers);
    case 'text':
      return sendText(res, 503, message, headers);
    case 'empty':
      return sendText(res, 503, '', headers);
    case 'header':
      return sendText(res, 503, '', { 'X-Error-Message': message, ...headers });
  }
}

export function sendStatus(res: ServerResponse, step: { status: number; body?: unknown; text?: string; headers?: Record<string, string> }): void {
  if (step.text !== undefined) return sendText(res, step.status, step.text, step.headers);
  const body = step.body === undefined ? { error: STATUS_CODES[step.status] ?? 'Error' } : step.body;
  sendJson(res, step.status, body, step.headers);
}

/** The router's answer to a body that is not JSON. */
export function sendBadJson(res: ServerResponse): void {
  sendJson(res, 400, { error: 'Failed to deserialize the JSON body into the target type' });
}

/** True when the request carries a bearer token; otherwise answers 401 as the router does. */
export function requireBearer(authorization: string | undefined, res: ServerResponse): boolean {
  if (/^Bearer\s+\S/i.test(authorization ?? '')) return true;
  sendJson(res, 401, { error: 'Invalid username or password.' });
  return false;
}
