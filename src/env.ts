import { z } from 'zod';

/**
 * Building blocks for environment schemas (the core's and each adapter's), and the reading of an
 * environment against one: every problem named in plain words, with the value that was given.
 */

export const optionalString = z
  .string()
  .trim()
  .transform((value) => (value === '' ? undefined : value))
  .optional();

const TRUE_WORDS = ['true', '1', 'yes', 'on'];
export const BOOLEAN_WORDS = [...TRUE_WORDS, 'false', '0', 'no', 'off'] as const;
export const isTrue = (value: string) => TRUE_WORDS.includes(value);

export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const nonNegativeInt = (fallback: number) => z.coerce.number().int().nonnegative().default(fallback);
export const bool = (fallback: boolean) =>
  z
    .enum(BOOLEAN_WORDS)
    .default(fallback ? 'true' : 'false')
    .transform(isTrue);
export const csv = (fallback = '') =>
  z
    .string()
    .default(fallback)
    .transform((value) =>
      value
        .split(',')
        .map((item) => item.trim())
        .filter(Boolean),
    );
export const url = (fallback: string) => z.url().default(fallback);

/** Three emoji, for positive, neutral and negative threads. */
export const sentimentEmoji = (fallback: string) =>
  z
    .string()
    .default(fallback)
    .transform((value) => value.split(',').map((item) => item.trim().replace(/^:|:$/g, '')))
    .refine((items) => items.length === 3 && items.every(Boolean), 'must be three comma-separated emoji: positive,neutral,negative')
    .transform(([positive = '', neutral = '', negative = '']) => ({ positive, neutral, negative }));
export type SentimentEmoji = z.output<ReturnType<typeof sentimentEmoji>>;

/** Values are echoed in problems; a long one (a prompt, say) is cut. */
const ECHO_MAX = 60;

function echo(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value) ?? String(value);
  return JSON.stringify(text.length > ECHO_MAX ? `${text.slice(0, ECHO_MAX)}…` : text);
}

/**
 * One zod issue as a sentence about the variable. The wording is ours, from the issue's code and
 * bounds; only our own messages (regex and refine checks, written as "must …") are used as given.
 */
export function describeIssue(issue: z.core.$ZodIssue, env: Readonly<Record<string, string | undefined>>): string {
  const name = String(issue.path[0] ?? '(environment)');
  const raw = env[name];
  // An element of a list variable (ROLES=gateway,foo) is named by the element, not the whole value.
  const given = echo(issue.path.length > 1 && issue.input !== undefined ? issue.input : raw);
  switch (issue.code) {
    case 'invalid_type':
      return issue.expected === 'number' || issue.expected === 'int' || issue.expected === 'nan'
        ? `${name}: ${given} is not a whole number`
        : `${name}: ${given} is not valid here`;
    case 'too_small':
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `${name}: ${given} is too small: the least is ${issue.inclusive ? issue.minimum : Number(issue.minimum) + 1}`;
      }
      return `${name}: must not be empty`;
    case 'too_big':
      if (issue.origin === 'number' || issue.origin === 'int') {
        return `${name}: ${given} is too large: the most is ${issue.inclusive ? issue.maximum : Number(issue.maximum) - 1}`;
      }
      return `${name}: ${given} is too long`;
    case 'invalid_value':
      if (issue.values.includes('true') && issue.values.includes('false')) return `${name}: ${given} is not true or false (yes/no, on/off and 1/0 work too)`;
      return `${name}: ${given} is not one of ${issue.values.map(String).join(', ')}`;
    case 'invalid_format':
      if (issue.format === 'url') return `${name}: ${given} is not a URL`;
      return `${name}: ${given} ${issue.message}`;
    case 'custom':
      return `${name}: ${given} ${issue.message}`;
    default:
      return `${name}: ${given} is not valid here`;
  }
}

/**
 * Reads `env` against `schema`, naming every bad variable. The bad ones are then read as unset
 * (their defaults), so that checks across variables still run and report in the same pass.
 */
export function readEnv<Schema extends z.ZodObject>(
  schema: Schema,
  env: Readonly<Record<string, string | undefined>>,
): { values: z.output<Schema> | undefined; problems: string[] } {
  const first = schema.safeParse(env, { reportInput: true });
  if (first.success) return { values: first.data, problems: [] };
  const problems = first.error.issues.map((issue) => describeIssue(issue, env));
  const bad = new Set(first.error.issues.map((issue) => issue.path[0]));
  const rest = Object.fromEntries(Object.entries(env).filter(([name]) => !bad.has(name)));
  const second = schema.safeParse(rest);
  return { values: second.success ? second.data : undefined, problems };
}

export class ConfigError extends Error {
  readonly problems: string[];
  constructor(problems: string[]) {
    super(`Invalid configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'ConfigError';
    this.problems = problems;
  }
}
