import { pino, type Bindings, type DestinationStream, type Level, type Logger } from 'pino';
import { REDACTED, secretScrubber } from './text/scrub.ts';

export type { Logger };

/** Secret shapes and fields beyond the core's; each platform adapter brings its own. */
export interface LogRedaction {
  /** pino redaction paths of fields that hold secrets. */
  paths?: string[];
  /** Token shapes, scrubbed from every line (global regular expressions). */
  patterns?: RegExp[];
}

/** Token shapes we never want in a log line, whoever wrote them (SDK errors echo headers sometimes). */
export const TOKEN_PATTERNS = [/\bhf_[A-Za-z0-9]{8,}/g];

const REDACT_PATHS = [
  'token',
  '*.token',
  'apiKey',
  '*.apiKey',
  'authorization',
  '*.authorization',
  '*.headers.authorization',
  // A job's platform reply handle (a webhook URL or token that lets anyone answer).
  '*.reply.via',
  'reply.via',
];

/**
 * JSON logs with secrets removed twice over: known fields are redacted by path, and every
 * configured secret value or token-shaped string is scrubbed from the serialized line itself.
 */
export function createLogger(
  options: { level: string; secrets?: string[]; redaction?: LogRedaction; name?: string },
  destination?: DestinationStream,
): Logger {
  const scrub = secretScrubber(options.secrets ?? [], [...TOKEN_PATTERNS, ...(options.redaction?.patterns ?? [])]);
  return pino(
    {
      level: options.level,
      name: options.name,
      redact: { paths: [...REDACT_PATHS, ...(options.redaction?.paths ?? [])], censor: REDACTED },
      hooks: {
        streamWrite: scrub,
      },
    },
    destination,
  );
}

const LEVELS: ReadonlySet<string> = new Set<Level>(['trace', 'debug', 'info', 'warn', 'error', 'fatal']);
const ignore = () => {};

/**
 * `parent.child(bindings)`, made the first time it writes a line. pino serializes a child's bindings
 * through the redaction paths when the child is made; a job's logger mostly writes nothing at the
 * configured level, and making one for every job was ~3% of a busy worker's allocations.
 */
export function lazyChild(parent: Logger, bindings: Bindings): Logger {
  let child: Logger | undefined;
  return new Proxy(parent, {
    get(target, property) {
      if (!child && typeof property === 'string' && LEVELS.has(property) && !target.isLevelEnabled(property)) return ignore;
      child ??= target.child(bindings);
      const value: unknown = Reflect.get(child, property, child);
      return typeof value === 'function' ? value.bind(child) : value;
    },
    // Setting (the level, say) sets the child's, never the parent's.
    set(target, property, value) {
      child ??= target.child(bindings);
      return Reflect.set(child, property, value, child);
    },
  });
}
