/** What the product takes for an email address: something@domain.tld, no spaces inside (spaces around are trimmed). */
export const EMAIL_PATTERN = '^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$';

/** The shortest and longest address taken (254: SMTP's longest path). */
export const EMAIL_MIN_LENGTH = 3;
export const EMAIL_MAX_LENGTH = 254;

const EMAIL = new RegExp(EMAIL_PATTERN);

export function isEmailAddress(text: string): boolean {
  return text.length >= EMAIL_MIN_LENGTH && text.length <= EMAIL_MAX_LENGTH && EMAIL.test(text);
}
