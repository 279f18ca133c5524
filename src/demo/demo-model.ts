import type { ChatRequestRecord } from '../../fakes/hf/server.ts';

/** The demo model's name, in requests, logs and settings: never a real model's. */
export const DEMO_MODEL_ID = 'hfbot/offline-demo-model';

export interface DemoModel {
  /** OpenAI-compatible base URL of the demo chat model. */
  baseUrl: string;
  close(): Promise<void>;
}

/** What the demo model says: plainly a demo, and enough Markdown to show how answers render. */
function demoAnswer(question: string): string {
  return [
    `This is the **offline demo model**, not a real model: it cannot think about "${question.slice(0, 200)}".`,
    '',
    'What you are seeing is the real pipeline all the same: your message went through the gateway, a BullMQ job, a worker, and this answer is streamed back token by token, edited in place at the platform pace.',
    '',
    'Set `HF_TOKEN` (and `HF_CHAT_MODEL`) and restart to talk to a Hugging Face model instead.',
  ].join('\n');
}

function lastUserText(request: ChatRequestRecord): string {
  const last = request.messages.findLast((message) => message.role === 'user');
  return typeof last?.content === 'string' ? last.content : '';
}

/**
 * The project's fake Hugging Face server, started in this process as an offline demo model for a local
 * page (a platform that accepts it) when no HF_TOKEN is set. Its first answer starts with a short cold
 * start (HTTP 503 loading), so the warming-up notice can be seen too. It only chats: without a token,
 * sentiment is scored by the built-in lexicon, which says so.
 */
export async function startDemoModel(): Promise<DemoModel> {
  // Loaded only here: a deployment with a token never runs it (the production image leaves it out).
  const { startHfFake } = await import('../../fakes/hf/server.ts');
  const fake = await startHfFake({ defaultTokenDelayMs: 40 });
  fake.setDefaultChat((request) => ({ kind: 'stream', text: demoAnswer(lastUserText(request)), firstTokenDelayMs: 300 }));
  fake.enqueueChat({ kind: 'loading', shape: 'legacy', estimatedTime: 3 });
  return { baseUrl: fake.baseUrl, close: () => fake.close() };
}
