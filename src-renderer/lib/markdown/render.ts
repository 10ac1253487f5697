import DOMPurify from 'dompurify';
import { Marked, type Tokens } from 'marked';
import { escapeHtml, highlightCode } from './highlight';

const SAFE_URL = /^(https?:|mailto:)/i;

/**
 * Model output is untrusted text. Markdown is parsed with raw HTML shown as text (never as
 * markup), links limited to http(s) and mailto, images shown as links (nothing is fetched), and
 * the result goes through DOMPurify as a second wall before it reaches the page.
 */
const marked = new Marked({
  gfm: true,
  breaks: false,
  renderer: {
    html({ text }: Tokens.HTML | Tokens.Tag): string {
      return escapeHtml(text);
    },
    code({ text, lang }: Tokens.Code): string {
      const language = (lang ?? '').split(/\s/)[0] ?? '';
      const label = language === '' ? 'code' : escapeHtml(language);
      return (
        `<div class="code-block"><div class="code-head"><span>${label}</span>` +
        '<button type="button" class="copy-code" data-copy-code="">Copy code</button></div>' +
        `<pre><code class="hljs">${highlightCode(text.replace(/\n$/, ''), language)}</code></pre></div>`
      );
    },
    link({ href, title, tokens }: Tokens.Link): string {
      const text = this.parser.parseInline(tokens);
      if (!SAFE_URL.test(href)) return text;
      const titleAttr = title ? ` title="${escapeHtml(title)}"` : '';
      return `<a href="${escapeHtml(href)}"${titleAttr} target="_blank" rel="noopener noreferrer">${text}</a>`;
    },
    image({ href, text }: Tokens.Image): string {
      const label = escapeHtml(text === '' ? 'image' : text);
      if (!SAFE_URL.test(href)) return label;
      return `<a href="${escapeHtml(href)}" target="_blank" rel="noopener noreferrer">${label}</a>`;
    },
  },
});

let hooked = false;

function purifier(): typeof DOMPurify {
  if (!hooked) {
    DOMPurify.addHook('afterSanitizeAttributes', (node) => {
      if (node.tagName === 'A') {
        const href = node.getAttribute('href') ?? '';
        if (!SAFE_URL.test(href)) node.removeAttribute('href');
        node.setAttribute('target', '_blank');
        node.setAttribute('rel', 'noopener noreferrer');
      }
    });
    hooked = true;
  }
  return DOMPurify;
}

export function renderMarkdown(source: string): string {
  const html = marked.parse(source, { async: false });
  return purifier().sanitize(html, {
    USE_PROFILES: { html: true },
    FORBID_TAGS: ['style', 'form', 'input', 'textarea', 'select', 'img', 'svg', 'math', 'iframe'],
    FORBID_ATTR: ['style'],
    ALLOW_DATA_ATTR: false,
    ADD_ATTR: ['target', 'data-copy-code'],
  });
}
