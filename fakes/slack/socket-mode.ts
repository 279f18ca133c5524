/**
 * Socket Mode: `apps.connections.open` hands out one-use `ws://…/socket?ticket=N` URLs; a client
 * that connects gets `hello`, then envelopes (events, slash commands, interactions) it must ack.
 * `ws` answers the client's pings with pongs by itself (autoPong), which keeps the client happy.
 */
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { isRecord } from '../http.ts';
import { allClosed, rawToString } from '../websocket.ts';
import type { EnvelopeAck, EnvelopeOptions, EnvelopeType, SentEnvelope } from './types.ts';

interface PendingAck {
  resolve: (ack: EnvelopeAck) => void;
  reject: (err: Error) => void;
  timer: NodeJS.Timeout;
}

export class SocketMode {
  readonly envelopes: SentEnvelope[] = [];
  /** Connections accepted since start (or reset). */
  totalConnections = 0;
  readonly #appId: string;
  readonly #wss = new WebSocketServer({ noServer: true });
  readonly #sockets = new Set<WebSocket>();
  readonly #pendingAcks = new Map<string, PendingAck>();
  readonly #connectWaiters = new Set<() => void>();
  readonly #issuedTickets = new Set<string>();
  #ticketCounter = 0;

  constructor(appId: string) {
    this.#appId = appId;
  }

  /** A fresh one-use WebSocket URL on `port` (for `apps.connections.open`). */
  openUrl(port: number): string {
    this.#ticketCounter += 1;
    const ticket = String(this.#ticketCounter);
    this.#issuedTickets.add(ticket);
    return `ws://127.0.0.1:${port}/socket?ticket=${ticket}`;
  }

  /** The HTTP server's `upgrade` handler. */
  upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const url = new URL(req.url ?? '/', 'http://127.0.0.1');
    const ticket = url.searchParams.get('ticket');
    // Each URL from apps.connections.open is good for one connection.
    if (url.pathname !== '/socket' || ticket === null || !this.#issuedTickets.delete(ticket)) {
      socket.end('HTTP/1.1 401 Unauthorized\r\nConnection: close\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    this.#wss.handleUpgrade(req, socket, head, (ws) => this.#onSocket(ws));
  }

  get openConnections(): number {
    return this.#openSockets().length;
  }

  /** Resolve once a client is connected and has been sent hello. */
  connected(timeoutMs: number): Promise<void> {
    if (this.#openSockets().length > 0) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const wake = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.#connectWaiters.delete(wake);
        reject(new Error(`no Socket Mode client connected within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#connectWaiters.add(wake);
    });
  }

  /** Send an envelope to the newest connected client; resolves with its ack. */
  send(type: EnvelopeType, payload: object, options: EnvelopeOptions): Promise<EnvelopeAck> {
    const target = this.#openSockets().at(-1);
    if (!target) return Promise.reject(new Error('sendEnvelope: no Socket Mode client is connected'));
    const envelopeId = randomUUID();
    const ackTimeoutMs = options.ackTimeoutMs ?? 5_000;
    this.envelopes.push({ envelope_id: envelopeId, type, payload, acks: 0 });
    const acked = new Promise<EnvelopeAck>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pendingAcks.delete(envelopeId);
        reject(new Error(`envelope ${envelopeId} (${type}) was not acked within ${ackTimeoutMs} ms`));
      }, ackTimeoutMs);
      this.#pendingAcks.set(envelopeId, { resolve, reject, timer });
    });
    target.send(
      JSON.stringify({
        envelope_id: envelopeId,
        type,
        payload,
        accepts_response_payload: type !== 'events_api',
        retry_attempt: options.retryAttempt ?? 0,
        retry_reason: options.retryReason ?? '',
      }),
    );
    return acked;
  }

  /** Send `{type:'disconnect'}` to every client and resolve once their sockets have closed. */
  disconnect(reason: string): Promise<void> {
    const targets = this.#openSockets();
    for (const ws of targets) {
      ws.send(JSON.stringify({ type: 'disconnect', reason, debug_info: { host: 'fake' } }));
    }
    return allClosed(targets, 5_000);
  }

  /** Cut every client's socket without a word (a network failure); resolves once closed. */
  drop(): Promise<void> {
    const targets = [...this.#sockets];
    for (const ws of targets) ws.terminate();
    return allClosed(targets, 0);
  }

  reset(): void {
    this.envelopes.length = 0;
    this.totalConnections = this.#openSockets().length;
  }

  async close(): Promise<void> {
    for (const [id, pending] of this.#pendingAcks) {
      clearTimeout(pending.timer);
      pending.reject(new Error(`fake closed before envelope ${id} was acked`));
    }
    this.#pendingAcks.clear();
    // Let close handshakes already under way (a stopping client) finish, and close the rest
    // politely, so clients see a clean close rather than a socket error; cut stragglers after 1 s.
    const targets = [...this.#sockets];
    for (const ws of targets) if (ws.readyState === WebSocket.OPEN) ws.close(1001, 'server shutting down');
    await allClosed(targets, 1_000);
    this.#wss.close();
  }

  #onSocket(ws: WebSocket): void {
    this.#sockets.add(ws);
    this.totalConnections += 1;
    ws.on('error', () => undefined);
    ws.on('close', () => this.#sockets.delete(ws));
    ws.on('message', (data: RawData, isBinary: boolean) => {
      if (!isBinary) this.#onClientMessage(rawToString(data));
    });
    ws.send(
      JSON.stringify({
        type: 'hello',
        num_connections: this.#sockets.size,
        debug_info: { host: 'fake', approximate_connection_time: 18060 },
        connection_info: { app_id: this.#appId },
      }),
    );
    for (const wake of this.#connectWaiters) wake();
    this.#connectWaiters.clear();
  }

  /** Client → server frames are acks: `{envelope_id, payload?}`. */
  #onClientMessage(text: string): void {
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      return;
    }
    if (!isRecord(message) || typeof message.envelope_id !== 'string') return;
    const id = message.envelope_id;
    const sent = this.envelopes.find((e) => e.envelope_id === id);
    if (sent) {
      sent.acks += 1;
      if (sent.acks === 1 && 'payload' in message) sent.ackPayload = message.payload;
    }
    const pending = this.#pendingAcks.get(id);
    if (!pending) return;
    this.#pendingAcks.delete(id);
    clearTimeout(pending.timer);
    pending.resolve('payload' in message ? { envelope_id: id, ackPayload: message.payload } : { envelope_id: id });
  }

  #openSockets(): WebSocket[] {
    return [...this.#sockets].filter((ws) => ws.readyState === WebSocket.OPEN);
  }
}
