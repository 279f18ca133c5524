/** What a secret is replaced with, in logs and in posts alike. */
export const REDACTED = '[REDACTED]';

/** Secrets shorter than this are not matched literally: they would match ordinary words. */
const MIN_SECRET_CHARS = 6;

function escapeRegExp(value: string): string {
  return value.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Returns a function that removes every configured secret value and every token-shaped string
 * (`patterns`) from a text. One scrubber serves the log lines and everything the bot posts, so
 * the two lists cannot drift apart.
 */
export function secretScrubber(secrets: readonly string[], patterns: readonly RegExp[]): (text: string) => string {
  const literal = secrets.filter((secret) => secret.length >= MIN_SECRET_CHARS).map(escapeRegExp);
  const all = [
    ...(literal.length > 0 ? [new RegExp(literal.join('|'), 'g')] : []),
    ...patterns.map((pattern) => (pattern.global ? pattern : new RegExp(pattern.source, `${pattern.flags}g`))),
  ];
  return (text) => all.reduce((scrubbed, pattern) => scrubbed.replace(pattern, REDACTED), text);
}
