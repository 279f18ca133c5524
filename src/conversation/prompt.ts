import type { ChatTurn } from '../llm/hf-chat.ts';

/**
 * The messages sent to the model: the system prompt, then as much of the history as fits in
 * `maxChars` (newest kept, whole turns only), then the user's message, which always goes in.
 */
export function buildPrompt(systemPrompt: string, history: ChatTurn[], userText: string, maxChars: number): ChatTurn[] {
  let budget = maxChars - systemPrompt.length - userText.length;
  const kept: ChatTurn[] = [];
  for (let i = history.length - 1; i >= 0; i--) {
    const turn = history[i];
    if (!turn || turn.content.length > budget) break;
    budget -= turn.content.length;
    kept.push(turn);
  }
  kept.reverse();
  // Chat templates expect a user turn first after the system prompt.
  while (kept[0]?.role === 'assistant') kept.shift();
  return [{ role: 'system', content: systemPrompt }, ...kept, { role: 'user', content: userText }];
}
