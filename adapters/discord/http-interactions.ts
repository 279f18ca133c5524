import { createPublicKey, verify, type KeyObject } from 'node:crypto';
import express, { type Application } from 'express';
import type { Logger } from '../../src/logger.ts';
import type { InteractionHandler } from './interactions.ts';

/** Where Discord posts interactions when the app's Interactions Endpoint URL points at this service. */
export const INTERACTIONS_PATH = '/discord/interactions';
/** An Ed25519 public key as SPKI DER: this prefix, then the 32 raw bytes. */
const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
/** Interaction payloads are small; anything bigger is not from Discord. */
const MAX_BODY = '1mb';

export function publicKeyFromHex(hex: string): KeyObject {
  return createPublicKey({ key: Buffer.concat([ED25519_SPKI_PREFIX, Buffer.from(hex, 'hex')]), format: 'der', type: 'spki' });
}

/** Discord's signature: Ed25519 over the timestamp header followed by the raw body. */
export function validSignature(key: KeyObject, signatureHex: string | undefined, timestamp: string | undefined, body: Buffer): boolean {
  if (!signatureHex || !timestamp || !/^[0-9a-fA-F]{128}$/.test(signatureHex)) return false;
  try {
    return verify(null, Buffer.concat([Buffer.from(timestamp, 'utf8'), body]), key, Buffer.from(signatureHex, 'hex'));
  } catch {
    return false;
  }
}

/**
 * `POST /discord/interactions`: HTTP interactions beside (or instead of) the gateway. A request
 * without a valid signature gets 401 (Discord tests this before it saves the URL); a PING gets
 * PONG; everything else goes to the same handler as the gateway's interactions, whose first
 * response is the HTTP answer, and what follows runs after it is sent.
 */
export function mountHttpInteractions(http: Application, publicKeyHex: string, handler: InteractionHandler, logger: Logger): void {
  const key = publicKeyFromHex(publicKeyHex);
  http.post(INTERACTIONS_PATH, express.raw({ type: () => true, limit: MAX_BODY }), (req, res) => {
    const body = Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0);
    if (!validSignature(key, req.header('x-signature-ed25519'), req.header('x-signature-timestamp'), body)) {
      res.status(401).send('invalid request signature');
      return;
    }
    let payload: unknown;
    try {
      payload = JSON.parse(body.toString('utf8'));
    } catch {
      res.status(400).send('invalid JSON');
      return;
    }
    handler.handle(payload).then(
      (reply) => {
        // Not ours, or already handled through the gateway: nothing more to say.
        if (!reply) {
          res.status(204).end();
          return;
        }
        // What follows (queueing, which edits the response) starts once the response is on its way.
        res.once('finish', () => reply.after?.().catch((err: unknown) => logger.error({ err }, 'discord interaction follow-up failed')));
        res.json(reply.response);
      },
      (err: unknown) => {
        logger.error({ err }, 'discord HTTP interaction failed');
        if (!res.headersSent) res.status(500).send('interaction failed');
      },
    );
  });
}
