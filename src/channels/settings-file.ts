import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { z } from 'zod';

/** The YAML parser, loaded only where a YAML file is read: ~2 MB that a service without one never needs. */
function parseYaml(text: string): unknown {
  const yaml = createRequire(import.meta.url)('yaml') as typeof import('yaml');
  return yaml.parse(text);
}

/**
 * Per-channel settings kept in git: a YAML or JSON file (CHANNEL_CONFIG_FILE). An entry names a
 * platform and a channel, or a whole workspace (`guild`: a server); a channel entry overrides its guild's.
 */
const entrySchema = (platforms: readonly [string, ...string[]]) =>
  z
    .object({
      platform: z.enum(platforms),
      channel: z.string().min(1).optional(),
      guild: z.string().min(1).optional(),
      model: z.string().min(1).optional(),
      systemPrompt: z.string().min(1).max(8000).optional(),
      answerWithoutMention: z.boolean().optional(),
      /** Prompts offered when someone opens the bot from this channel (where the platform has such a view). */
      suggestedPrompts: z.array(z.object({ title: z.string().min(1).max(75), message: z.string().min(1).max(500) }).strict()).max(4).optional(),
    })
    .strict()
    .refine((entry) => entry.channel !== undefined || entry.guild !== undefined, 'needs a channel or a guild');

const fileSchema = (platforms: readonly [string, ...string[]]) => z.object({ channels: z.array(entrySchema(platforms)) }).strict();

export type ChannelFileEntry = z.infer<ReturnType<typeof entrySchema>>;

/** Reads and validates the file against the known platforms; returns the entries, or the problems in it (never throws). */
export function readChannelSettingsFile(path: string, platforms: readonly string[]): { entries: ChannelFileEntry[] } | { problems: string[] } {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return { problems: [`CHANNEL_CONFIG_FILE: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const [first = '', ...rest] = platforms;
  const parsed = fileSchema([first, ...rest]).safeParse(raw);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((issue) => `CHANNEL_CONFIG_FILE ${path}: ${issue.path.join('.') || '(file)'}: ${issue.message}`) };
  }
  return { entries: parsed.data.channels };
}
