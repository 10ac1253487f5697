import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { finishedAnswer, invoke, useRunningApp } from './support/launch.js';

const running = useRunningApp({ tinyModel: true, timeoutMs: 180_000 });

test('a dropped image is stored, shown through llava-image:// and answered about', async () => {
  const { page } = running();
  const png = await sharp({ create: { width: 64, height: 48, channels: 3, background: '#c03' } })
    .png()
    .toBuffer();
  const message = page.getByRole('textbox', { name: 'Message' });
  await expect(message).toBeVisible();

  // A real drop event with a File, as the OS would deliver it to the page.
  const dataTransfer = await page.evaluateHandle(
    (bytes) => {
      const transfer = new DataTransfer();
      transfer.items.add(new File([new Uint8Array(bytes)], 'red.png', { type: 'image/png' }));
      return transfer;
    },
    [...png],
  );
  await message.dispatchEvent('dragenter', { dataTransfer });
  await message.dispatchEvent('dragover', { dataTransfer });
  await message.dispatchEvent('drop', { dataTransfer });

  await message.fill('What colour is this?');
  await message.press('Enter');

  const list = await invoke(page, 'chats.list');
  expect(list.ok).toBe(true);
  const [conversation] = (list.ok ? list.value : []) as Array<{ id: string }>;
  expect(conversation).toBeDefined();
  const answer = await finishedAnswer(page, conversation?.id ?? '');
  expect(answer.status).toBe('complete');
  expect(answer.images).toBe(1);
  expect(answer.text.length).toBeGreaterThan(0);

  // The image comes back from the image store through the custom protocol, never file://.
  const got = await invoke(page, 'chats.get', { id: conversation?.id ?? '' });
  const imageId = got.ok
    ? (got.value as { messages: Array<{ images: Array<{ id: string }> }> }).messages[0]?.images[0]
        ?.id
    : undefined;
  expect(imageId).toMatch(/^[0-9a-f]{64}$/);
  // Loaded as the renderer loads it (an <img>; the CSP allows llava-image: for images only).
  const served = await page.evaluate(async (id) => {
    const load = (src: string): Promise<number> =>
      new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(img.naturalWidth);
        img.onerror = () => resolve(-1);
        img.src = src;
      });
    return {
      original: await load(`llava-image://${id}`),
      thumb: await load(`llava-image://${id}/thumb`),
      traversal: await load(`llava-image://${id}/..%2f..%2fsettings.json`),
    };
  }, imageId ?? '');
  expect(served.original).toBe(64);
  expect(served.thumb).toBeGreaterThan(0);
  expect(served.traversal).toBe(-1);
});
