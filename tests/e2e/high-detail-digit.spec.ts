import { expect, test, type Page } from '@playwright/test';
import type { SceneSpec } from '../support/shape-scenes.js';
import { dropFiles } from './support/page-input.js';
import { askAndRead, openShapesChat, sceneFile } from './support/shapes-model.js';
import type { RunningWebHost } from './support/web-host.js';

// Detail that means something: a small digit in a wide picture, which the shapes model
// (docs/SHAPES-MODEL.md) reads from the tiles of the app's high-detail plan and cannot read from
// the one standard-detail square. Tiles cut in the wrong place or sent in the wrong order, a
// global view left out or a plan that quietly falls back to standard detail change these answers.
test.describe.configure({ mode: 'serial' });

const DIGIT_WORDS = [
  'zero',
  'one',
  'two',
  'three',
  'four',
  'five',
  'six',
  'seven',
  'eight',
  'nine',
];

/** A black digit 4 % of the long side tall on a white 3:1 picture, inside third `third`. */
function digitScene(value: number, third: number, dx: number, dy: number): SceneSpec {
  const width = 1500;
  const height = 500;
  const glyph = 0.04 * width;
  return {
    width,
    height,
    background: 'white',
    digit: { value, colour: 'black', x: third * (width / 3) + dx, y: dy, height: glyph },
  };
}

// (value, third of the picture, offsets inside it): one digit in each tile of the 3 x 1 grid.
// The pair reads 0.970 of the held-out digits in high detail (docs/SHAPES-MODEL.md), and 56 of 60
// digits drawn the way this test draws them; these are digits it read wherever they were put in
// their third (8 at all four places tried in the first third, 2 at all five in the second, 4 at
// all three in the last). In standard detail it read 6 of the 60 (chance is 6), and none of these.
const CASES = [
  { value: 8, scene: digitScene(8, 0, 268, 174) },
  { value: 2, scene: digitScene(2, 1, 124, 213) },
  { value: 4, scene: digitScene(4, 2, 354, 327) },
];

let host: RunningWebHost;
let page: Page;
let problems: string[];

test.beforeAll(async ({ browser }) => {
  ({ host, page, problems } = await openShapesChat(browser));
});

test.afterAll(async () => {
  await page?.close();
  await host?.stop();
});

/** A new chat, the picture dropped, the detail chosen, the digit asked; the one-word answer. */
async function readDigit(
  scene: SceneSpec,
  name: string,
  detail: 'High' | 'Standard',
): Promise<string> {
  await page.getByRole('button', { name: 'New chat' }).click();
  await page.getByRole('checkbox', { name: 'Short answer' }).check();
  await dropFiles(page, page.getByRole('main', { name: 'Chat' }), [await sceneFile(name, scene)]);
  await expect(page.getByRole('list', { name: 'Images to send' }).getByRole('img')).toHaveCount(1);
  await page.getByRole('radio', { name: detail }).check();
  return askAndRead(page, 'What digit is written in the image?', 0);
}

test('high detail reads a small digit in each tile; standard detail does not', async () => {
  const standard: string[] = [];
  for (const { value, scene } of CASES) {
    expect(await readDigit(scene, `digit-${value}.png`, 'High'), `digit ${value}, high`).toBe(
      DIGIT_WORDS[value],
    );
    standard.push(await readDigit(scene, `digit-${value}.png`, 'Standard'));
  }
  // The digit is 4-5 px tall in the standard square: unreadable, so at most chance.
  const readInStandard = CASES.filter(({ value }, i) => standard[i] === DIGIT_WORDS[value]);
  expect(readInStandard.length, `standard detail answered ${standard.join(', ')}`).toBeLessThan(2);
  expect(problems).toEqual([]);
});
