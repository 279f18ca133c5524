/**
 * HTTP interactions: with an Interactions Endpoint URL set, Discord POSTs each interaction there,
 * signed with Ed25519 over `X-Signature-Timestamp` + the raw body, and takes the HTTP answer as
 * the interaction's initial response. The fake signs with a key the test may own.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { HttpDelivery, InteractionRecord } from './types.ts';
import { ApiError, asRecord } from './internal.ts';
import type { Interactions } from './interactions.ts';

/** The raw 32 bytes of an Ed25519 public key sit at the end of its SPKI DER. */
const ED25519_RAW_BYTES = 32;

export class HttpDeliveries {
  readonly #interactions: Interactions;
  readonly #key: KeyObject;
  /** A second key, for forged signatures. */
  readonly #forger = generateKeyPairSync('ed25519').privateKey;
  readonly publicKey: string;
  endpoint: string | undefined;
  /** How long Discord takes to act on an HTTP answer (meanwhile the webhook is unknown). */
  answerDelayMs = 0;

  constructor(interactions: Interactions, options: { endpoint?: string | undefined; signingKey?: KeyObject | undefined }) {
    this.#interactions = interactions;
    this.#key = options.signingKey ? createPrivateKey(options.signingKey.export({ format: 'pem', type: 'pkcs8' })) : generateKeyPairSync('ed25519').privateKey;
    const der = createPublicKey(this.#key).export({ format: 'der', type: 'spki' });
    this.publicKey = der.subarray(der.length - ED25519_RAW_BYTES).toString('hex');
    this.endpoint = options.endpoint;
  }

  async signedPost(body: string, options: { forge?: boolean; omitSignature?: boolean } = {}): Promise<HttpDelivery> {
    if (!this.endpoint) throw new Error('discord fake: no interactions endpoint set');
    const timestamp = String(Math.floor(Date.now() / 1000));
    const signature = sign(null, Buffer.from(timestamp + body), options.forge ? this.#forger : this.#key).toString('hex');
    const response = await fetch(this.endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': 'Discord-Interactions/1.0 (+https://discord.com)',
        'x-signature-timestamp': timestamp,
        ...(options.omitSignature ? {} : { 'x-signature-ed25519': signature }),
      },
      body,
    });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = JSON.parse(text) as unknown;
    } catch {
      // not JSON: kept as text
    }
    return { status: response.status, body: parsed };
  }

  /** POSTs an interaction and takes a 200 JSON answer as its initial response, as Discord does. */
  async deliver(rec: InteractionRecord, payload: Record<string, unknown>): Promise<HttpDelivery> {
    const delivery = await this.signedPost(JSON.stringify(payload));
    if (this.answerDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, this.answerDelayMs));
    if (delivery.status === 200 && typeof asRecord(delivery.body).type === 'number') {
      try {
        this.#interactions.respond(rec, asRecord(delivery.body), []);
      } catch (err) {
        if (!(err instanceof ApiError)) throw err;
        // Recorded in rec.callbacks; the answer stands as given.
      }
    }
    return delivery;
  }
}
