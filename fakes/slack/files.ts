/**
 * Files shared in messages, served the way Slack serves `url_private_download`: only to a request
 * carrying the bot token (which needs the `files:read` scope). Every download is recorded.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FileDownload, HostedFile } from './types.ts';

export class HostedFiles {
  readonly downloads: FileDownload[] = [];
  readonly #botToken: string;
  readonly #files = new Map<string, { name: string; mimetype: string; body: Buffer }>();
  #counter = 0;

  constructor(botToken: string) {
    this.#botToken = botToken;
  }

  /** Hosts `body`; the answer is the `files` entry a message event carries. */
  add(origin: string, name: string, body: Buffer, mimetype: string): HostedFile {
    this.#counter += 1;
    const id = `F${String(this.#counter).padStart(8, '0')}`;
    this.#files.set(id, { name, mimetype, body });
    const url = `${origin}/files/${id}/${encodeURIComponent(name)}`;
    return { id, name, mimetype, size: body.length, url_private: url, url_private_download: `${url}?download=1` };
  }

  handle(req: IncomingMessage, res: ServerResponse, id: string): void {
    const file = this.#files.get(id);
    const authorized = req.headers.authorization === `Bearer ${this.#botToken}`;
    this.downloads.push({ id, name: file?.name ?? '', authorized, at: Date.now() });
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    if (!authorized) {
      res.writeHead(403).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.mimetype, 'content-length': file.body.length }).end(file.body);
  }

  reset(): void {
    this.downloads.length = 0;
    this.#files.clear();
  }
}
