// Butane translation on the check page in headless Chromium: the config in argv[3] (a file),
// edited `runs` times (a comment line changes), each time the microseconds the page took to
// translate it (`data-translate-us`, timed around the butane crate's call). Prints a JSON
// array of milliseconds.
import { readFileSync } from 'node:fs';
import { browser } from '../e2e/browser/harness.mjs';

const [base, file, runs] = [process.argv[2], process.argv[3], Number(process.argv[4] || 50)];
const config = readFileSync(file, 'utf8');
const chrome = await browser();
const page = await chrome.newPage();
await page.goto(`${base}/#check`);
const area = page.locator('#check-config');
const root = page.locator('.check');
const samples = [];
// One unmeasured run first: the wasm's first call pays for its warm-up.
for (let i = -1; i < runs; i++) {
  const text = `${config}# edit ${String(i + 1).padStart(4, '0')}\n`;
  await area.fill(text);
  await page.waitForFunction((len) => document.querySelector('.check')?.dataset.checkedBytes === String(len), new TextEncoder().encode(text).length);
  const us = Number(await root.getAttribute('data-translate-us'));
  if (i >= 0) samples.push(us / 1000);
}
const summary = await page.locator('#check-summary').textContent();
if (!summary.startsWith('Translates')) throw new Error(`the config did not translate: ${summary}`);
await chrome.close();
console.log(JSON.stringify(samples));
