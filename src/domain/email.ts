/** What the product takes for an email address: something@domain.tld, no spaces inside (spaces around are trimmed). */
export const EMAIL_PATTERN = '^\\s*[^\\s@]+@[^\\s@]+\\.[^\\s@]+\\s*$';

const EMAIL = new RegExp(EMAIL_PATTERN);

export function isEmailAddress(text: string): boolean {
  return text.length >= 3 && text.length <= 254 && EMAIL.test(text);
}
