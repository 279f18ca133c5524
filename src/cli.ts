import { parseArgs } from 'node:util';
import { ROLES, type Role } from './config.ts';

/** What the command line asks for: usage, or a run with the roles it names (none: ROLES decides). */
export type CommandLine = { kind: 'help' } | { kind: 'run'; roles: Role[] | undefined } | { kind: 'wrong'; problem: string };

const isRole = (value: string): value is Role => (ROLES as readonly string[]).includes(value);

/** Reads `--role` (repeatable, or comma-separated) and `--help`/`-h`; never throws. */
export function parseCommandLine(args: string[]): CommandLine {
  let values: { role?: string[] | undefined; help?: boolean | undefined };
  try {
    ({ values } = parseArgs({ args, options: { role: { type: 'string', multiple: true }, help: { type: 'boolean', short: 'h' } }, strict: true }));
  } catch (err) {
    const code = (err as { code?: string }).code;
    const option = /'(-[^' ]+)/.exec(err instanceof Error ? err.message : '')?.[1] ?? 'an option';
    if (code === 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE') return { kind: 'wrong', problem: `${option} needs a value` };
    if (code === 'ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL') return { kind: 'wrong', problem: 'unexpected argument' };
    return { kind: 'wrong', problem: `unknown option ${option}` };
  }
  if (values.help) return { kind: 'help' };
  const roles = values.role?.flatMap((role) => role.split(',')).map((role) => role.trim());
  const unknown = roles?.find((role) => !isRole(role));
  if (unknown !== undefined) return { kind: 'wrong', problem: `--role: unknown role "${unknown}" (expected ${ROLES.join(' or ')})` };
  return { kind: 'run', roles: roles?.filter(isRole) };
}

/** The usage text: roles, where configuration comes from, and where to read more. */
export function usage(options: { platforms: string[]; readme: string }): string {
  return [
    'Usage: npm start [-- --role <role>[,<role>]]',
    '       node bin/hfbot.ts [--role <role>]... [--help]',
    '',
    'Runs the chatbot service: platform events in, answers from a Hugging Face model out.',
    '',
    'Roles (default: both, or the ROLES variable):',
    '  --role gateway   take platform events in and queue them as jobs (serves the webhooks)',
    '  --role worker    take jobs off the queue, ask the model, and post the answers',
    '  -h, --help       show this text',
    '',
    'Configuration comes from environment variables; `npm start` also reads them from .env in the',
    'working directory. .env.example lists every one, with its default and meaning. Redis is at',
    `REDIS_URL. Platforms: ${options.platforms.join(', ')}; each starts when its variables are set.`,
    '',
    `More: ${options.readme}`,
    '',
  ].join('\n');
}
