import type { Locator, Page } from '@playwright/test';
import type { TestFile } from './images.js';

/** Drops files on an element the way a file manager does (a DataTransfer with Files). */
export async function dropFiles(page: Page, target: Locator, files: TestFile[]): Promise<void> {
  const handle = await page.evaluateHandle((list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.mime }));
    }
    return dt;
  }, files);
  await target.dispatchEvent('dragenter', { dataTransfer: handle });
  await target.dispatchEvent('dragover', { dataTransfer: handle });
  await target.dispatchEvent('drop', { dataTransfer: handle });
}

/** Pastes files into an element as a screenshot paste does (clipboardData.items of kind file). */
export async function pasteFiles(target: Locator, files: TestFile[]): Promise<void> {
  await target.evaluate((element, list) => {
    const dt = new DataTransfer();
    for (const f of list) {
      const bytes = Uint8Array.from(atob(f.base64), (c) => c.charCodeAt(0));
      dt.items.add(new File([bytes], f.name, { type: f.mime }));
    }
    element.dispatchEvent(
      new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }),
    );
  }, files);
}

export const SCREENSHOTS = 'test-results/screenshots';
