import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

/**
 * Per-channel settings kept in git: a YAML or JSON file (CHANNEL_CONFIG_FILE). An entry names a
 * platform and a channel, or (Discord) a whole guild; a channel entry overrides its guild's.
 */
const entrySchema = z
  .object({
    platform: z.enum(['slack', 'discord', 'playground']),
    channel: z.string().min(1).optional(),
    guild: z.string().min(1).optional(),
    model: z.string().min(1).optional(),
    systemPrompt: z.string().min(1).max(8000).optional(),
    answerWithoutMention: z.boolean().optional(),
  })
  .strict()
  .refine((entry) => entry.channel !== undefined || entry.guild !== undefined, 'needs a channel or a guild');

const fileSchema = z.object({ channels: z.array(entrySchema) }).strict();

export type ChannelFileEntry = z.infer<typeof entrySchema>;

/** Reads and validates the file; returns the entries, or the problems in it (never throws). */
export function readChannelSettingsFile(path: string): { entries: ChannelFileEntry[] } | { problems: string[] } {
  let raw: unknown;
  try {
    const text = readFileSync(path, 'utf8');
    raw = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (err) {
    return { problems: [`CHANNEL_CONFIG_FILE: cannot read ${path}: ${err instanceof Error ? err.message : String(err)}`] };
  }
  const parsed = fileSchema.safeParse(raw);
  if (!parsed.success) {
    return { problems: parsed.error.issues.map((issue) => `CHANNEL_CONFIG_FILE ${path}: ${issue.path.join('.') || '(file)'}: ${issue.message}`) };
  }
  return { entries: parsed.data.channels };
}
