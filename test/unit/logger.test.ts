import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { slackAdapter } from '../../adapters/slack/index.ts';
import { createLogger } from '../../src/logger.ts';

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
