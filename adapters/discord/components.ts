import { ButtonStyle, ComponentType, type APIActionRowComponent, type APIButtonComponent } from 'discord-api-types/v10';

/** What the buttons on an answer do. */
export const BUTTON_ACTIONS = ['stop', 'regen', 'up', 'down'] as const;
export type ButtonAction = (typeof BUTTON_ACTIONS)[number];

/** A button's custom id names the answer (its job) and who asked, so no lookup is needed to check the clicker. */
export interface AnswerButton {
  action: ButtonAction;
  jobId: string;
  askerId: string;
}

const PREFIX = 'hfbot';
const CUSTOM_ID = /^hfbot:(stop|regen|up|down):([A-Za-z0-9_.-]+):(\d{1,20})$/;
/** Discord's limit for a custom id. */
const MAX_CUSTOM_ID = 100;

export function answerButtonId(button: AnswerButton): string {
  const id = `${PREFIX}:${button.action}:${button.jobId}:${button.askerId}`;
  if (id.length > MAX_CUSTOM_ID) throw new Error(`custom id over ${MAX_CUSTOM_ID} characters: ${id}`);
  return id;
}

export function parseAnswerButton(customId: string): AnswerButton | undefined {
  const match = CUSTOM_ID.exec(customId);
  if (!match) return undefined;
  const [, action, jobId, askerId] = match as unknown as [string, ButtonAction, string, string];
  return { action, jobId, askerId };
}

/** Which buttons a reply shows: Stop while it streams, Regenerate and 👍 / 👎 once it is final. */
export type ButtonsState = 'streaming' | 'final';

export function answerButtons(state: ButtonsState, jobId: string, askerId: string): APIActionRowComponent<APIButtonComponent>[] {
  const button = (action: ButtonAction, style: ButtonStyle.Primary | ButtonStyle.Secondary, label: string | undefined, emoji?: string): APIButtonComponent => ({
    type: ComponentType.Button,
    style,
    custom_id: answerButtonId({ action, jobId, askerId }),
    ...(label ? { label } : {}),
    ...(emoji ? { emoji: { name: emoji } } : {}),
  });
  const buttons =
    state === 'streaming'
      ? [button('stop', ButtonStyle.Secondary, 'Stop', '⏹️')]
      : [button('regen', ButtonStyle.Secondary, 'Regenerate', '🔄'), button('up', ButtonStyle.Secondary, undefined, '👍'), button('down', ButtonStyle.Secondary, undefined, '👎')];
  return [{ type: ComponentType.ActionRow, components: buttons }];
}
