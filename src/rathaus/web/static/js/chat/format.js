// The chat's simple formatting, a Markdown subset: **bold**, *italic* or _italic_, `code`,
// ```code blocks```, links (http and https only, shown as their own address, opened without a
// referrer; nothing is fetched for a preview) and @mentions of members. Parsed into plain data
// (`parse`, testable without a DOM) and built with text nodes only (`render`): never as HTML.

/**
 * @typedef {{kind: 'text' | 'code' | 'link' | 'mention', text: string}
 *   | {kind: 'bold' | 'italic', parts: Part[]}
 *   | {kind: 'block', text: string}} Part
 */

const FENCE = /```\n?([\s\S]*?)```/g;
// One inline token: code, a link, a mention, bold, italic (in that order of precedence).
const INLINE = /`([^`\n]+)`|(https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]])|(^|[\s(])@([a-z0-9._@-]{1,64})|\*\*([^*\n]+)\*\*|\*([^*\n]+)\*|(^|[\s(])_([^_\n]+)_(?=$|[\s.,;:!?)])/g;

/**
 * @param {string} text
 * @param {(user: string) => boolean} isMember whose @name is a mention
 * @returns {Part[]}
 */
export function parse(text, isMember = () => false) {
  /** @type {Part[]} */
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(FENCE)) {
    if (match.index > at) parts.push(...inline(text.slice(at, match.index), isMember));
    parts.push({kind: 'block', text: match[1].replace(/\n$/, '')});
    at = match.index + match[0].length;
  }
  if (at < text.length) parts.push(...inline(text.slice(at), isMember));
  return parts;
}

/** @param {string} text @param {(user: string) => boolean} isMember @returns {Part[]} */
function inline(text, isMember) {
  /** @type {Part[]} */
  const parts = [];
  let at = 0;
  /** @param {string} plain */
  const push = (plain) => {
    if (!plain) return;
    const last = parts.at(-1);
    if (last?.kind === 'text') last.text += plain;
    else parts.push({kind: 'text', text: plain});
  };
  for (const m of text.matchAll(INLINE)) {
    push(text.slice(at, m.index));
    at = m.index + m[0].length;
    if (m[1] !== undefined) parts.push({kind: 'code', text: m[1]});
    else if (m[2] !== undefined) parts.push({kind: 'link', text: m[2]});
    else if (m[4] !== undefined) {
      push(m[3]);
      if (isMember(m[4])) parts.push({kind: 'mention', text: m[4]});
      else push(`@${m[4]}`);
    } else if (m[5] !== undefined) parts.push({kind: 'bold', parts: inline(m[5], isMember)});
    else if (m[6] !== undefined) parts.push({kind: 'italic', parts: inline(m[6], isMember)});
    else {
      push(m[7]);
      parts.push({kind: 'italic', parts: inline(m[8], isMember)});
    }
  }
  push(text.slice(at));
  return parts;
}

/** The users a text mentions. @param {Part[]} parts @returns {string[]} */
export function mentions(parts) {
  return parts.flatMap((p) => ('parts' in p ? mentions(p.parts) : p.kind === 'mention' ? [p.text] : []));
}

/**
 * The parts as DOM nodes: elements made one by one, text set as text.
 * @param {Part[]} parts
 * @param {(user: string) => string} nameOf a mentioned member's display name
 * @returns {Node[]}
 */
export function render(parts, nameOf) {
  return parts.map((part) => {
    switch (part.kind) {
      case 'text':
        return document.createTextNode(part.text);
      case 'bold':
      case 'italic': {
        const node = document.createElement(part.kind === 'bold' ? 'strong' : 'em');
        node.append(...render(part.parts, nameOf));
        return node;
      }
      case 'code': {
        const node = document.createElement('code');
        node.textContent = part.text;
        return node;
      }
      case 'block': {
        const node = document.createElement('pre');
        node.className = 'message-code';
        node.textContent = part.text;
        return node;
      }
      case 'link': {
        const node = document.createElement('a');
        node.href = part.text;
        node.textContent = part.text;
        node.rel = 'noopener noreferrer nofollow';
        node.referrerPolicy = 'no-referrer';
        node.target = '_blank';
        return node;
      }
      default: {
        const node = document.createElement('span');
        node.className = 'mention';
        node.textContent = `@${nameOf(part.text)}`;
        return node;
      }
    }
  });
}
