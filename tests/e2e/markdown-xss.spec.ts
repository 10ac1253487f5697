import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { MARKDOWN_SAMPLE, XSS_PAYLOADS } from './fixtures/xss-corpus.js';
import { SCREENSHOTS } from './support/page-input.js';
import { startWebHost, type RunningWebHost } from './support/web-host.js';

// Hostile answers, stored as a model would have written them, rendered by the real chat view.
// The page's CSP is bypassed here so that only the sanitiser stands between them and the page.
let host: RunningWebHost;
const CHAT_ID = 'xss-corpus';

function answer(text: string, at: number): Record<string, unknown> {
  return {
    id: randomUUID(),
    role: 'assistant',
    text,
    images: [],
    createdAt: at,
    status: 'complete',
  };
}

test.beforeAll(async () => {
  host = await startWebHost({
    prepare: async (dataDir) => {
      const now = Date.now();
      const messages = [
        {
          id: randomUUID(),
          role: 'user',
          text: 'Render these',
          images: [],
          createdAt: now,
          status: 'complete',
        },
        answer(MARKDOWN_SAMPLE, now + 1),
        ...XSS_PAYLOADS.map((text, i) => answer(text, now + 2 + i)),
        // The user's own text is shown as text too.
        {
          id: randomUUID(),
          role: 'user',
          text: '<img src=x onerror="window.__xss(99)">',
          images: [],
          createdAt: now + 100,
          status: 'complete',
        },
        answer(XSS_PAYLOADS.join('\n\n'), now + 101),
      ];
      const conversation = {
        schemaVersion: 1,
        id: CHAT_ID,
        title: 'Hostile markdown',
        createdAt: now,
        updatedAt: now + 200,
        messages,
      };
      await mkdir(join(dataDir, 'chats'), { recursive: true });
      await writeFile(join(dataDir, 'chats', `${CHAT_ID}.json`), JSON.stringify(conversation));
    },
  });
});

test.afterAll(async () => {
  await host?.stop();
});

test.use({ bypassCSP: true });

test('a corpus of XSS payloads in answers renders as inert text, markdown still works', async ({
  page,
}) => {
  const hits: string[] = [];
  await page.exposeFunction('__xss', (n: number | string) => hits.push(`payload ${n} ran`));
  page.on('dialog', async (dialog) => {
    hits.push(`dialog: ${dialog.message()}`);
    await dialog.dismiss();
  });
  await page.goto(host.url);
  const answers = page.getByRole('article', { name: 'Answer' });
  await expect(answers).toHaveCount(XSS_PAYLOADS.length + 2);

  // The refusal itself: no element or attribute that could run a payload is in the messages.
  const scan = () =>
    page.evaluate(() => {
      const root = document.querySelector('section[aria-label="Messages"]');
      if (!root) return ['no messages section'];
      const bad: string[] = [];
      for (const el of root.querySelectorAll('*')) {
        for (const attr of el.getAttributeNames()) {
          if (attr.startsWith('on')) bad.push(`${el.tagName} has ${attr}`);
          if (attr === 'style' && el.closest('.markdown')) bad.push(`${el.tagName} has style`);
          const value = el.getAttribute(attr) ?? '';
          if (/^\s*(javascript|vbscript|data):/i.test(value))
            bad.push(`${el.tagName} ${attr}=${value}`);
        }
      }
      const forbidden =
        'script, iframe, object, embed, form, input, style, meta, base, svg, math, video, template, details';
      // Icons are the app's own SVG; nothing from a message may add elements of these kinds.
      for (const el of root.querySelectorAll(
        `.markdown :is(${forbidden}), .text :is(${forbidden})`,
      )) {
        bad.push(`element ${el.tagName}`);
      }
      for (const el of root.querySelectorAll('.markdown img'))
        bad.push(`markdown image ${el.outerHTML}`);
      return bad;
    });
  expect(await scan()).toEqual([]);

  // The payloads are visible as text, not swallowed.
  await expect(answers.nth(1)).toContainText('<script>window.__xss(1)</script>');
  await expect(answers.nth(2)).toContainText('<img src=x onerror=');
  // Markdown renders: heading, bold, a highlighted code block with a copy button, a table, a link.
  const sample = answers.nth(0);
  await expect(sample.getByRole('heading', { name: 'Heading' })).toBeVisible();
  await expect(sample.locator('strong')).toHaveText('bold');
  await expect(sample.locator('pre code .hljs-keyword').first()).toHaveText('def');
  await expect(sample.getByRole('button', { name: 'Copy code' })).toBeVisible();
  await expect(sample.getByRole('table')).toBeVisible();
  const link = sample.getByRole('link', { name: 'link' });
  await expect(link).toHaveAttribute('href', 'https://example.org');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  for (const colorScheme of ['light', 'dark'] as const) {
    await page.emulateMedia({ colorScheme });
    await page.screenshot({ path: `${SCREENSHOTS}/markdown-${colorScheme}.png` });
  }
  // Scroll through everything once more: still nothing that could run.
  await page.mouse.wheel(0, 100_000);
  expect(await scan()).toEqual([]);

  // The probe works: a payload that does run is seen. Its broken image fails after every
  // payload image the page was given, so once it is seen, none of those ran.
  await page.evaluate(() => {
    const canary = document.createElement('img');
    canary.setAttribute('onerror', "window.__xss('canary')");
    canary.src = 'x';
    document.body.append(canary);
  });
  await expect.poll(() => hits).toContain('payload canary ran');
  expect(hits).toEqual(['payload canary ran']);
});
