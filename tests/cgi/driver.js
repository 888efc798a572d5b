// A small command server around playwright-core for the postnook.cgi tests:
// one JSON command per line on stdin, one JSON answer per line on stdout.
// The browser is Debian's Chromium (CHROMIUM, default /usr/bin/chromium).
'use strict';
const { chromium } = require('playwright-core');
const readline = require('readline');

async function main() {
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  const rl = readline.createInterface({ input: process.stdin });
  const out = (o) => process.stdout.write(JSON.stringify(o) + '\n');
  out({ res: 'ready', err: null });
  for await (const line of rl) {
    let cmd, res = null, err = null;
    try {
      cmd = JSON.parse(line);
      switch (cmd.op) {
        case 'goto': {
          const r = await page.goto(cmd.url, { waitUntil: 'load' });
          res = { status: r ? r.status() : null, url: page.url() };
          break;
        }
        case 'fill': await page.fill(cmd.sel, cmd.value); break;
        case 'check': await page.setChecked(cmd.sel, cmd.value); break;
        case 'select': await page.selectOption(cmd.sel, cmd.value); break;
        case 'click': {
          const [resp] = await Promise.all([
            page.waitForNavigation({ waitUntil: 'load', timeout: 20000 }).catch(() => null),
            page.click(cmd.sel),
          ]);
          res = { status: resp ? resp.status() : null, url: page.url() };
          break;
        }
        case 'tap': await page.click(cmd.sel); break;
        case 'download': {
          const [dl] = await Promise.all([page.waitForEvent('download'), page.click(cmd.sel)]);
          await dl.saveAs(cmd.path);
          res = { path: cmd.path, name: dl.suggestedFilename() };
          break;
        }
        case 'html': res = await page.content(); break;
        case 'text': res = await page.innerText(cmd.sel || 'body'); break;
        case 'value': res = await page.inputValue(cmd.sel); break;
        case 'checked': res = await page.isChecked(cmd.sel); break;
        case 'count': res = await page.locator(cmd.sel).count(); break;
        case 'screenshot': {
          await page.setViewportSize({ width: cmd.width, height: cmd.height || 800 });
          await page.screenshot({ path: cmd.path, fullPage: true });
          await page.setViewportSize({ width: 1280, height: 900 });
          res = cmd.path;
          break;
        }
        case 'scrollwidth': {
          await page.setViewportSize({ width: cmd.width, height: 800 });
          res = await page.evaluate(() => document.documentElement.scrollWidth);
          await page.setViewportSize({ width: 1280, height: 900 });
          break;
        }
        case 'cookies': res = await context.cookies(); break;
        case 'request': {
          const r = await context.request.fetch(cmd.url, {
            method: cmd.method || 'GET', form: cmd.form, headers: cmd.headers, maxRedirects: 0,
          });
          res = { status: r.status(), body: await r.text(), headers: r.headers() };
          break;
        }
        case 'close': await browser.close(); out({ res: 'bye', err: null }); return;
        default: throw new Error('unknown op ' + cmd.op);
      }
    } catch (e) {
      err = String(e && e.stack || e);
    }
    out({ res, err });
  }
  await browser.close();
}

main().catch((e) => { process.stdout.write(JSON.stringify({ res: null, err: String(e) }) + '\n'); process.exit(1); });
