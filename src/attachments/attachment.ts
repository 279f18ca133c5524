import { z } from 'zod';

/** A file on a message, as the adapter found it; the worker downloads it through the surface. */
export const attachmentSchema = z.object({
  name: z.string().min(1).max(300),
  mimeType: z.string().max(200).default('application/octet-stream'),
  size: z.number().int().nonnegative(),
  /** Where the platform serves it (possibly only with the bot's credentials: the surface downloads it). */
  url: z.url(),
});
export type Attachment = z.infer<typeof attachmentSchema>;

/** Text the model can read: text/*, common data and code types, and files named like code. */
const TEXT_TYPES = /^(text\/|application\/(json|xml|yaml|x-yaml|javascript|typescript|x-sh|sql|toml|x-python|x-httpd-php|csv))/;
const CODE_NAMES = /\.(txt|md|markdown|json|ya?ml|toml|csv|tsv|xml|html?|css|js|mjs|cjs|ts|tsx|jsx|py|rb|go|rs|java|kt|swift|c|h|cc|cpp|hpp|cs|php|sh|bash|zsh|sql|ini|cfg|conf|env|log|diff|patch|gradle|tf|lua|r|scala|dockerfile)$/i;
const IMAGE_TYPES = /^image\/(png|jpe?g|gif|webp)$/;

export type AttachmentKind = 'text' | 'image' | 'unsupported';

export function kindOf(attachment: Pick<Attachment, 'name' | 'mimeType'>): AttachmentKind {
  if (IMAGE_TYPES.test(attachment.mimeType)) return 'image';
  if (TEXT_TYPES.test(attachment.mimeType) || CODE_NAMES.test(attachment.name)) return 'text';
  return 'unsupported';
}

/** GETs a file, refusing one larger than `maxBytes` (by its header, and again by what arrives). */
export async function downloadFile(url: string, maxBytes: number, headers: Record<string, string> = {}): Promise<Buffer> {
  const response = await fetch(url, { headers, redirect: 'follow', signal: AbortSignal.timeout(15_000) });
  if (!response.ok) throw new Error(`download failed: HTTP ${response.status}`);
  if (Number(response.headers.get('content-length') ?? 0) > maxBytes) throw new Error('file too large');
  const body = Buffer.from(await response.arrayBuffer());
  if (body.length > maxBytes) throw new Error('file too large');
  return body;
}
