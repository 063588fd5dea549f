import MarkdownIt from 'markdown-it';
import type { FieldError } from '@qiwei/platform';

/**
 * Announcement bodies are Markdown (CommonMark), not HTML. What is stored is the source the
 * publisher wrote, and it is refused, never silently changed, when it holds anything a client
 * could run: raw HTML (blocks or inline, `<script>` included) and links or images whose scheme
 * is not http, https or mailto (`javascript:`, `data:`, `vbscript:`, relative URLs). So no
 * script is ever stored, and the HTML messaging renders from it (HTML disabled) is safe to show.
 */
export const ANNOUNCEMENT_FORMAT = 'markdown';

const SAFE_URL = /^(https?:\/\/|mailto:)/i;

// Parses with HTML recognised and every link kept, so that unsafe parts can be found and named.
const inspector = new MarkdownIt({ html: true, linkify: false });
inspector.validateLink = () => true;

// Renders with HTML disabled and markdown-it's own link validation, as a second guard.
const renderer = new MarkdownIt({ html: false, linkify: false });

type Token = MarkdownIt.Token;

function* walk(tokens: Token[]): Generator<Token> {
  for (const token of tokens) {
    yield token;
    if (token.children) yield* walk(token.children);
  }
}

/** What is unsafe in the body: empty when it may be stored. */
export function unsafeParts(body: string): FieldError[] {
  const errors: FieldError[] = [];
  const seen = new Set<string>();
  const add = (code: string, message: string) => {
    if (seen.has(message)) return;
    seen.add(message);
    errors.push({ field: 'body', code, message });
  };
  for (const token of walk(inspector.parse(body, {}))) {
    if (token.type === 'html_block' || token.type === 'html_inline')
      add(
        'BODY_HTML_NOT_ALLOWED',
        `Raw HTML is not allowed (found ${JSON.stringify(token.content.trim().slice(0, 40))}); write Markdown.`,
      );
    const attribute =
      token.type === 'link_open'
        ? token.attrGet('href')
        : token.type === 'image'
          ? token.attrGet('src')
          : null;
    const url = attribute === null ? null : String(attribute);
    if (url !== null && !SAFE_URL.test(url.trim()))
      add(
        'BODY_URL_NOT_ALLOWED',
        `Links and images must be absolute http, https or mailto URLs (found ${JSON.stringify(url.slice(0, 60))}).`,
      );
  }
  return errors;
}

/** The body as HTML for clients that do not render Markdown themselves (raw HTML disabled). */
export function renderBody(body: string): string {
  return renderer.render(body);
}
