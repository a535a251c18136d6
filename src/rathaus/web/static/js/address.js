// What the page's address says: the room (/r/<room>) and a guest link's token (?invite=…).

/** The room id from /r/<room>. @returns {string} */
export function roomFromPath() {
  const match = /^\/r\/([^/]+)\/?$/.exec(location.pathname);
  const raw = match ? match[1] : location.pathname.split('/').filter(Boolean).pop() ?? '';
  try {
    return decodeURIComponent(raw);
  } catch {
    return raw;
  }
}

/**
 * The token of the guest link this page was opened with (/r/<room>?invite=<token>), sent with
 * `join` so that a guest may enter a members-only room. @returns {string | undefined}
 */
export function guestLinkToken() {
  const token = new URLSearchParams(location.search).get('invite');
  return token && token.length <= 512 ? token : undefined;
}
