import { expect, test } from '@playwright/test';
import sharp from 'sharp';
import { finishedAnswer, invoke, useRunningApp } from './support/launch.js';

const running = useRunningApp({ tinyModel: true, timeoutMs: 180_000 });

test('a dropped image is stored, shown in the question and answered about', async () => {
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

  // The question shows the image as the renderer shows every stored image: its thumbnail, fetched
  // with images.thumbnail and shown through a Blob URL (no path, no file:// URL reaches the page).
  const shown = page.getByRole('article', { name: 'Your question' }).getByRole('img', {
    name: 'red.png',
  });
  await expect(shown).toHaveAttribute('src', /^blob:/);
  await expect
    .poll(() =>
      shown.evaluate((img) => {
        const { complete, naturalWidth, naturalHeight } = img as HTMLImageElement;
        return complete ? [naturalWidth, naturalHeight] : [];
      }),
    )
    .toEqual([64, 48]);

  // The image store is also served through llava-image:// (the capture ask window shows its
  // crop that way): the original and the thumbnail by id, nothing beside them.
  const got = await invoke(page, 'chats.get', { id: conversation?.id ?? '' });
  const imageId = got.ok
    ? (got.value as { messages: Array<{ images: Array<{ id: string }> }> }).messages[0]?.images[0]
        ?.id
    : undefined;
  expect(imageId).toMatch(/^[0-9a-f]{64}$/);
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
  expect(served.thumb).toBe(64);
  expect(served.traversal).toBe(-1);
});
