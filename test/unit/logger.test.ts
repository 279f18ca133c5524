import { Writable } from 'node:stream';
import { LogLevel } from '@slack/logger';
import { describe, expect, it, vi } from 'vitest';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { createLogger, lazyChild } from '../../src/logger.ts';
import { slackLogger } from '../../adapters/slack/logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return { lines, stream };
}

describe('createLogger', () => {
  it('redacts token fields and scrubs secret values wherever they appear', () => {
    const { lines, stream } = capture();
    const logger = createLogger({ level: 'info', secrets: ['sign1ng-s3cret'], redaction: slackAdapter.logRedaction }, stream);
    logger.info({ token: 'abc', config: { botToken: 'xoxb-1' }, headers: { authorization: 'Bearer x' } }, 'fields');
    logger.info({ err: new Error('request failed with Authorization: Bearer hf_AAAAAAAAAAAAAAAA') }, 'inside an error');
    logger.info('the secret is sign1ng-s3cret and xapp-1-A-2 and xoxb-123-456-abc');
    const output = lines.join('');
    for (const secret of ['xoxb-1', 'hf_AAAAAAAAAAAAAAAA', 'sign1ng-s3cret', 'xapp-1-A-2', 'xoxb-123-456-abc', 'Bearer x"']) {
      expect(output).not.toContain(secret);
    }
    expect(output).toContain('[REDACTED]');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
  });
});

describe('lazyChild', () => {
  it('makes the child only when it writes at an enabled level, with its bindings and the redaction', () => {
    const { lines, stream } = capture();
    const parent = createLogger({ level: 'warn' }, stream);
    const makeChild = vi.spyOn(parent, 'child');
    const log = lazyChild(parent, { jobId: 'j1', platform: 'slack' });

    log.info({ chars: 3 }, 'below the level');
    log.debug('below the level too');
    expect(makeChild).not.toHaveBeenCalled();
    expect(lines).toHaveLength(0);

    log.warn({ token: 'abc' }, 'interrupted');
    log.error('failed');
    expect(makeChild).toHaveBeenCalledTimes(1);
    const [warned, failed] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(warned).toMatchObject({ jobId: 'j1', platform: 'slack', token: '[REDACTED]', msg: 'interrupted' });
    expect(failed).toMatchObject({ jobId: 'j1', msg: 'failed' });
    expect(log.level).toBe('warn');
    expect(log.bindings()).toMatchObject({ jobId: 'j1' });
    log.level = 'debug';
    expect([log.level, parent.level]).toEqual(['debug', 'warn']);
  });
});

describe('slackLogger', () => {
  it("writes the Slack SDKs' lines through pino at their level, a retried attempt's warning as debug", () => {
    for (const level of ['debug', 'info'] as const) {
      const { lines, stream } = capture();
      const sdk = slackLogger(createLogger({ level }, stream));
      sdk.debug("apiCall('chat.update')", 'start');
      sdk.info('connected');
      sdk.warn('http request failed', 'ECONNRESET');
      sdk.warn('deprecated method');
      const written = lines.map((line) => JSON.parse(line) as { level: number; msg: string; component: string });
      const expected = level === 'debug' ? ["apiCall('chat.update') start", 'connected', 'http request failed ECONNRESET', 'deprecated method'] : ['connected', 'deprecated method'];
      expect(written.map((line) => line.msg)).toEqual(expected);
      expect(written.every((line) => line.component === 'slack-sdk')).toBe(true);
    }
  });

  it("reports pino's level, which the build's patch of the Web API client reads before it builds a debug line", () => {
    const levels = (['debug', 'info', 'warn', 'error', 'fatal'] as const).map((level) => slackLogger(createLogger({ level }, capture().stream)).getLevel());
    expect(levels).toEqual([LogLevel.DEBUG, LogLevel.INFO, LogLevel.WARN, LogLevel.ERROR, LogLevel.ERROR]);
  });
});
