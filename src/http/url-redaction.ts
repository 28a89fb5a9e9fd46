/** What of a request's address may be logged or echoed in an answer. */

/** Anything that looks like an API key in a logged URL is masked, whatever route it hit. */
const KEY_IN_TEXT = /bdoc_[0-9A-Za-z]{20,}/g;
/** An invitation link's token in the address (`GET /api/invitations/:token`): not an `inv_` id nor `accept`. */
const INVITATION_TOKEN_IN_PATH = /(\/api\/invitations\/)(?!inv_[0-9A-Za-z]+(?:[/?#]|$)|accept(?:[/?#]|$))[^/?#]+/g;

/** A URL as logged: API keys, invitation tokens and `token=` values masked. */
export function loggableUrl(url: string): string {
  return url
    .replace(KEY_IN_TEXT, 'bdoc_[redacted]')
    .replace(INVITATION_TOKEN_IN_PATH, '$1[redacted]')
    .replace(/token=[^&#]+/g, 'token=[redacted]');
}
