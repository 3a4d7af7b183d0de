import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Tokens of this sample: `<subject>.<base64url HMAC-SHA256(secret, subject)>`. Enough to tell a
 * valid token from a forged one without a user database; not a real token format.
 *
 * @example signToken('u-1', secret) // 'u-1.Jx…'
 */
export function signToken(subject: string, secret: string): string {
  return `${subject}.${mac(subject, secret)}`;
}

/** The subject of a token signed with `secret`, or `undefined` when it is not one. */
export function verifyToken(token: string, secret: string): string | undefined {
  const dot = token.lastIndexOf('.');
  if (dot <= 0) return undefined;
  const subject = token.slice(0, dot);
  const given = Buffer.from(token.slice(dot + 1));
  const expected = Buffer.from(mac(subject, secret));
  return given.length === expected.length && timingSafeEqual(given, expected) ? subject : undefined;
}

function mac(subject: string, secret: string): string {
  return createHmac('sha256', secret).update(subject).digest('base64url');
}
