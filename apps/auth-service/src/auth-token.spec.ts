import { signToken, verifyToken } from './auth-token';

const secret = 'unit-test-secret-0123';

describe('auth tokens', () => {
  it('verifies a token it signed and returns its subject (dots in the subject included)', () => {
    expect(verifyToken(signToken('u-1', secret), secret)).toBe('u-1');
    expect(verifyToken(signToken('a.b.c', secret), secret)).toBe('a.b.c');
  });

  it('rejects a token signed with another secret, a changed subject, or no signature', () => {
    const token = signToken('u-1', secret);
    expect(verifyToken(token, 'another-secret-4567')).toBeUndefined();
    expect(verifyToken(token.replace('u-1', 'u-2'), secret)).toBeUndefined();
    expect(verifyToken('u-1', secret)).toBeUndefined();
    expect(verifyToken('.sig', secret)).toBeUndefined();
  });
});
