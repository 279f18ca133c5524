import { describe, expect, it } from 'vitest';
import { LoginThrottle } from '../../src/login-throttle.ts';

describe('LoginThrottle', () => {
  it('lets five failures pass, then blocks for 1 s, 2 s, 4 s … per address, up to 15 minutes', () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let i = 0; i < 5; i++) throttle.failed('10.0.0.1');
    expect(throttle.waitMs('10.0.0.1')).toBe(0);
    throttle.failed('10.0.0.1');
    expect(throttle.waitMs('10.0.0.1')).toBe(1000);
    expect(throttle.waitMs('10.0.0.2')).toBe(0);
    now += 1000;
    expect(throttle.waitMs('10.0.0.1')).toBe(0);
    throttle.failed('10.0.0.1');
    expect(throttle.waitMs('10.0.0.1')).toBe(2000);
    now += 2000;
    throttle.failed('10.0.0.1');
    expect(throttle.waitMs('10.0.0.1')).toBe(4000);
    for (let i = 0; i < 20; i++) throttle.failed('10.0.0.1');
    expect(throttle.waitMs('10.0.0.1')).toBe(15 * 60_000);
  });

  it('forgets an address after a success, or 15 quiet minutes', () => {
    let now = 0;
    const throttle = new LoginThrottle(() => now);
    for (let i = 0; i < 6; i++) throttle.failed('a');
    throttle.succeeded('a');
    expect(throttle.waitMs('a')).toBe(0);
    for (let i = 0; i < 5; i++) throttle.failed('b');
    now += 15 * 60_000 + 1;
    throttle.failed('b');
    expect(throttle.waitMs('b')).toBe(0);
  });
});
