/** `auth.v1.VerifyTokenResponse`. */
export interface VerifiedToken {
  valid: boolean;
  subject: string;
  instance: string;
}
