import type { Command, CommandInvocation, CommandServices } from './command.ts';
import { modelCommand } from './model.ts';
import { promptCommand } from './prompt.ts';
import { resetCommand } from './reset.ts';
import { sentimentCommand } from './sentiment.ts';

/** Every slash command the core answers itself (`/ask` becomes a chat job in each adapter instead). */
export const COMMANDS: readonly Command[] = [resetCommand, sentimentCommand, modelCommand, promptCommand];

/** Runs the core's commands for the adapters, which parse their platform's invocation and render the answer. */
export class CommandRunner {
  readonly #services: CommandServices;

  constructor(services: CommandServices) {
    this.#services = services;
  }

  get commands(): readonly Command[] {
    return COMMANDS;
  }

  has(name: string): boolean {
    return COMMANDS.some((command) => command.name === name);
  }

  /** The command's answer in Markdown, to show only to the person who ran it. */
  async run(name: string, invocation: CommandInvocation): Promise<string> {
    const command = COMMANDS.find((candidate) => candidate.name === name);
    if (!command) throw new Error(`no command named ${name}`);
    const services = this.#services;
    return command.run({
      ...invocation,
      services,
      isAdmin: async () => Boolean(services.admins.get(invocation.platform)?.has(invocation.userId)) || invocation.isPlatformAdmin(),
    });
  }
}
