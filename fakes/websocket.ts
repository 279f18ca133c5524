/** WebSocket plumbing the Slack (Socket Mode) and Discord (gateway) fakes share. Tests only: needs `ws`. */
import { WebSocket, type RawData } from 'ws';

/** A text frame's content, whatever shape `ws` delivered it in. */
export function rawToString(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}

/** Resolves when every given socket has closed; terminates stragglers after `graceMs`. */
export function allClosed(targets: WebSocket[], graceMs: number): Promise<void> {
  return Promise.all(
    targets.map(
      (ws) =>
        new Promise<void>((resolve) => {
          if (ws.readyState === WebSocket.CLOSED) return resolve();
          const timer = setTimeout(() => ws.terminate(), graceMs);
          ws.once('close', () => {
            clearTimeout(timer);
            resolve();
          });
        }),
    ),
  ).then(() => undefined);
}
