import { kindOf, type Attachment } from './attachment.ts';
import { formatCount } from '../text/count.ts';

/** OpenAI-style content parts: what a vision model takes in a user turn. */
export type ContentPart = { type: 'text'; text: string } | { type: 'image_url'; image_url: { url: string } };

export interface AttachmentLimits {
  /** Characters of one text file inlined into the prompt. */
  maxTextChars: number;
  /** Images sent to a vision model per message. */
  maxImages: number;
  /** Bytes of one downloaded file (text or image). */
  maxBytes: number;
}

export interface PreparedMessage {
  /** The user's words with text files inlined: what the model reads, and what history keeps. */
  text: string;
  /** Image parts, for a vision model. */
  images: ContentPart[];
  /** Short lines for the reply: what was not read, and why. */
  notes: string[];
}

const fence = (name: string, body: string) => {
  const ticks = body.includes('```') ? '````' : '```';
  return `${ticks}${name.split('.').pop() ?? ''}\n${body}\n${ticks}`;
};

/**
 * Turns a message's files into prompt material: text files inlined (size-capped), images as data
 * URLs for a vision model (count- and size-capped), and a note for everything left out, so no file
 * is dropped silently.
 */
export async function prepareAttachments(
  text: string,
  attachments: readonly Attachment[],
  options: { vision: boolean; model: string; limits: AttachmentLimits; download: (attachment: Attachment) => Promise<Buffer> },
): Promise<PreparedMessage> {
  const { limits } = options;
  const inlined: string[] = [];
  const images: ContentPart[] = [];
  const unsupported: string[] = [];
  const tooLarge: string[] = [];
  const failed: string[] = [];
  let ignoredImages = 0;
  let extraImages = 0;

  for (const attachment of attachments) {
    const kind = kindOf(attachment);
    if (kind === 'unsupported') {
      unsupported.push(`${attachment.name} (${attachment.mimeType})`);
      continue;
    }
    if (kind === 'image' && !options.vision) {
      ignoredImages += 1;
      continue;
    }
    if (kind === 'image' && images.length >= limits.maxImages) {
      extraImages += 1;
      continue;
    }
    if (attachment.size > limits.maxBytes) {
      tooLarge.push(attachment.name);
      continue;
    }
    let body: Buffer;
    try {
      body = await options.download(attachment);
    } catch {
      failed.push(attachment.name);
      continue;
    }
    if (body.length > limits.maxBytes) {
      tooLarge.push(attachment.name);
      continue;
    }
    if (kind === 'image') {
      images.push({ type: 'image_url', image_url: { url: `data:${attachment.mimeType};base64,${body.toString('base64')}` } });
    } else {
      const content = body.toString('utf8');
      const cut = content.length > limits.maxTextChars;
      inlined.push(`${attachment.name}${cut ? ` (first ${formatCount(limits.maxTextChars)} characters)` : ''}:\n${fence(attachment.name, content.slice(0, limits.maxTextChars))}`);
    }
  }

  const notes: string[] = [];
  if (ignoredImages > 0) notes.push(`${ignoredImages === 1 ? 'The image was' : `${ignoredImages} images were`} ignored: \`${options.model}\` reads text only.`);
  if (extraImages > 0) notes.push(`Only the first ${limits.maxImages} images were read.`);
  if (unsupported.length > 0) notes.push(`Not read (only text files and images are): ${unsupported.join(', ')}.`);
  if (tooLarge.length > 0) notes.push(`Too large to read (over ${Math.round(limits.maxBytes / 1024)} KB): ${tooLarge.join(', ')}.`);
  if (failed.length > 0) notes.push(`Could not download: ${failed.join(', ')}.`);
  return { text: [text, ...inlined].filter(Boolean).join('\n\n'), images, notes };
}
