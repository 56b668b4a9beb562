// Time to the builder's first render in headless Chromium: milliseconds from navigation start
// until the Butane text is on the page. Prints a JSON array of samples.
import { browser } from '../e2e/browser/harness.mjs';

const [base, runs] = [process.argv[2], Number(process.argv[3] || 5)];
const chrome = await browser();
const samples = [];
for (let i = 0; i < runs; i++) {
  const context = await chrome.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/?platform=ec2&discovery=${encodeURIComponent(`${base}/6a28e078895c5ec737174db2419bb2f3`)}`);
  await page.waitForSelector('#butane-yaml');
  samples.push(await page.evaluate(() => performance.now()));
  await context.close();
}
await chrome.close();
console.log(JSON.stringify(samples));
