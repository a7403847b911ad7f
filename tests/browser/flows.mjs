// Headless-Chromium flows for jianfu, run by tests/api/browser.rs against a real server.
// Usage: node flows.mjs reporter|warning|desk   (settings come from the environment)
import { chromium } from 'playwright-core';
import { mkdirSync } from 'node:fs';

const env = (name) => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`missing env ${name}`);
  return v;
};
const BASE = env('BASE_URL');
const SHOTS = env('SCREENSHOT_DIR');
mkdirSync(SHOTS, { recursive: true });

const WECHAT_UA =
  'Mozilla/5.0 (Linux; Android 12; M2012K11AC Build/SKQ1.211006.001; wv) AppleWebKit/537.36 ' +
  '(KHTML, like Gecko) Version/4.0 Chrome/111.0.5563.116 Mobile Safari/537.36 XWEB/5197 ' +
  'MMWEBSDK/20230504 MicroMessenger/8.0.37.2380(0x2800255B) WeChat/arm64 Weixin NetType/WIFI Language/zh_CN';

function check(condition, message) {
  if (!condition) throw new Error(`FAILED: ${message}`);
  console.log(`ok - ${message}`);
}

async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
  });
}

/// A phone-sized context inside WeChat's browser, JavaScript off, every request recorded.
async function phone(browser) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
    javaScriptEnabled: false, userAgent: WECHAT_UA, locale: 'zh-CN',
  });
  const page = await context.newPage();
  const origins = new Set();
  page.on('request', (r) => origins.add(new URL(r.url()).origin));
  return { context, page, origins };
}

async function fillReport(page, { token, department, body }) {
  await page.fill('#token', token);
  await page.selectOption('#category', 'verbal');
  await page.selectOption('#channel', 'chat_group');
  await page.fill('#department', department);
  await page.fill('#occurred', '2026-10');
  await page.check('input[name=listed][value=no]');
  await page.fill('#body', body);
}

async function submit(page) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('button[type=submit]'),
  ]);
  return response;
}

async function reporter(browser) {
  const { context, page, origins } = await phone(browser);
  const body = env('REPORT_BODY');
  await page.goto(`${BASE}/`);
  await page.screenshot({ path: `${SHOTS}/reporter-entry.png`, fullPage: true });
  check((await page.textContent('.hint')).includes('在浏览器中打开'), 'the in-app browser hint is shown');
  const width = await page.evaluate(() => document.documentElement.scrollWidth).catch(() => null);
  check(width === null || width <= 390, `no horizontal scrolling (${width})`);

  // A field left out: the page comes back with the message beside it and nothing lost.
  await fillReport(page, { token: env('CARD_CODE'), department: '', body });
  let response = await submit(page);
  check(response.status() === 422, `a missing department answers 422 (${response.status()})`);
  const err = await page.textContent('.field.bad .err');
  check(err.includes('部门'), 'the message stands beside the department field');
  check(await page.inputValue('#token') === env('CARD_CODE'), 'the card code is kept');
  check(await page.inputValue('#body') === body, 'the account is kept, byte for byte');
  check(await page.inputValue('#category') === 'verbal', 'the category is kept');
  check(await page.inputValue('#occurred') === '2026-10', 'the month is kept');
  check(await page.isChecked('input[name=listed][value=no]'), 'the listed answer is kept');
  await page.screenshot({ path: `${SHOTS}/reporter-error.png`, fullPage: true });

  await page.fill('#department', '县农业农村局');
  response = await submit(page);
  check(page.url() === `${BASE}/thanks`, `stored: redirected to /thanks (${page.url()})`);
  check((await page.textContent('main')).includes('已收到'), 'the thanks page says 已收到');
  await page.screenshot({ path: `${SHOTS}/reporter-thanks.png`, fullPage: true });

  check((await context.cookies()).length === 0, 'no cookie was set (P4)');
  check([...origins].every((o) => o === BASE), `no request left the site (${[...origins].join(', ')})`);
  await context.close();
}

async function warning(browser) {
  const { context, page } = await phone(browser);
  await page.goto(`${BASE}/`);
  const body = '我是东风村的会计，有事请打 138 1234 5678。镇里要求每天在群里报到。';
  await fillReport(page, { token: env('CARD_CODE'), department: '镇政府', body });
  let response = await submit(page);
  check(response.status() === 422, 'identifying text is warned about before storing (P7)');
  const marks = await page.$$eval('mark', (ms) => ms.map((m) => m.textContent));
  check(marks.some((m) => m.includes('138 1234 5678')), `the phone number is marked (${marks})`);
  check(marks.some((m) => m.includes('东风村')), 'the self-description is marked');
  check(await page.inputValue('#body') === body, 'the account is kept');
  await page.locator('#confirm-box').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/reporter-warning.png`, fullPage: true });
  await page.check('input[name=confirm]');
  response = await submit(page);
  check(page.url() === `${BASE}/thanks`, 'confirming stores the report anyway');
  await context.close();
}

async function desk(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
  const page = await context.newPage();
  const problems = [];
  page.on('dialog', async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on('console', (m) => { if (m.type() === 'error') problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));

  await page.goto(`${BASE}/staff/login`);
  await page.fill('#username', env('INVESTIGATOR_USER'));
  await page.fill('#password', env('INVESTIGATOR_PASSWORD'));
  await page.click('button[type=submit]');
  await page.waitForURL(`${BASE}/staff/reports`, { timeout: 15000 }).catch(async () => {
    throw new Error(`login did not reach the queue: ${page.url()}\n${await page.textContent('main')}`);
  });
  check(true, 'the investigator lands on the queue');
  await page.screenshot({ path: `${SHOTS}/desk-queue.png`, fullPage: true });
  const body = env('REPORT_BODY');
  const rows = page.locator('table.queue tbody tr');
  check(await rows.count() >= 1, 'the released report is in the queue');

  for (const expected of [body, env('MARKUP_BODY')]) {
    await page.goto(`${BASE}/staff/reports?tab=all`);
    const link = page.locator('table.queue tbody tr', { hasText: expected.slice(0, 12) }).locator('a').first();
    await Promise.all([page.waitForNavigation(), link.click()]);
    const shown = await page.textContent('#report-body');
    check(shown === expected, `the report reads exactly as filed (${expected.slice(0, 12)}…)`);
    if (expected === body) await page.screenshot({ path: `${SHOTS}/desk-report.png`, fullPage: true });
  }
  check(await page.locator('#report-body script, #report-body img').count() === 0, 'markup in a report stays text');

  // Triage, a case, its outcome and its publication on the public board.
  await page.goto(`${BASE}/staff/reports?tab=all`);
  const filed = page.locator('table.queue tbody tr', { hasText: body.slice(0, 12) }).locator('a').first();
  await Promise.all([page.waitForNavigation(), filed.click()]);
  await page.selectOption('#status', { label: '核查中' });
  await Promise.all([page.waitForNavigation(), page.click('form:has(#status) button[type=submit]')]);
  check((await page.locator('#status option:checked').textContent()) === '核查中', 'the status changes to 核查中');
  await page.fill('#new_case', '镇里要求开具已取消的证明');
  await Promise.all([page.waitForNavigation(), page.click('form:has(#new_case) button[type=submit]')]);
  const caseLink = page.locator('a[href^="/staff/cases/"]', { hasText: '查看事项' });
  check((await caseLink.count()) === 1, 'the report now belongs to a new case');
  await Promise.all([page.waitForNavigation(), caseLink.click()]);
  await page.fill('form.grid input[name=department]', '城关镇民政办');
  await page.selectOption('form.grid select[name=outcome]', { label: '叫停' });
  await page.fill('form.grid input[name=month]', '2026-11');
  await Promise.all([page.waitForNavigation(), page.click('form.grid button[type=submit]')]);
  check((await page.locator('form.grid select[name=outcome] option:checked').textContent()) === '叫停', 'the case outcome is 叫停');
  const publicText = '城关镇要求村里开具已取消的“生活困难证明”，已叫停。';
  await page.fill('textarea[name=public_text]', publicText);
  await Promise.all([page.waitForNavigation(), page.locator('form[action$="/publish"] button[type=submit]').first().click()]);
  check((await page.textContent('main')).includes('公示。'), 'the case is published');
  await page.screenshot({ path: `${SHOTS}/desk-case.png`, fullPage: true });
  await page.goto(`${BASE}/outcomes`);
  const board = await page.textContent('body');
  check(board.includes(publicText), 'the public board shows the text written for the public');
  check(!board.includes(body.slice(0, 12)), 'the board shows nothing of the report');
  await page.screenshot({ path: `${SHOTS}/outcomes.png`, fullPage: true });
  await page.goto(`${BASE}/staff/stats`);
  check(await page.locator('svg').count() >= 3, 'the statistics are drawn as SVG');
  await page.screenshot({ path: `${SHOTS}/desk-stats.png`, fullPage: true });
  check(problems.length === 0, `no dialog, console error or page error (${problems.join('; ')})`);
  await context.close();
}

/// An admin issues a batch in the console, downloads the printable sheet and prints it to
/// PDF; the codes are printed on stdout as `CODE …` lines for the Rust test to file with.
async function admin(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN', acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(`${BASE}/staff/login`);
  await page.fill('#username', env('ADMIN_USER'));
  await page.fill('#password', env('ADMIN_PASSWORD'));
  await page.click('button[type=submit]');
  await page.waitForURL(`${BASE}/staff/batches`, { timeout: 15000 });
  check(true, 'the admin lands on the batches page');
  await page.fill('input[name=count]', '12');
  await page.fill('input[name=label]', '城关镇第一批');
  await page.selectOption('select[name=format]', 'html');
  await page.screenshot({ path: `${SHOTS}/admin-batches.png`, fullPage: true });
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    page.click('form.grid button[type=submit]'),
  ]);
  const sheet = `${SHOTS}/admin-sheet.html`;
  await download.saveAs(sheet);
  check(download.suggestedFilename() === 'jianfu-batch-1.html', `the sheet downloads (${download.suggestedFilename()})`);
  const print = await context.newPage();
  await print.goto(`file://${sheet}`);
  const codes = await print.$$eval('.code', (els) => els.map((e) => e.textContent.trim()));
  check(codes.length === 12, `the sheet holds 12 cards (${codes.length})`);
  await print.pdf({ path: env('PDF_PATH'), format: 'A4', printBackground: true, preferCSSPageSize: true });
  check(true, 'the sheet printed to PDF');
  await page.goto(`${BASE}/staff/batches`);
  check(!(await page.content()).includes(codes[0]), 'the console never shows a code again');
  for (const c of codes) console.log(`CODE ${c}`);
  await context.close();
}

const flows = { reporter, warning, desk, admin };
const name = process.argv[2];
if (!flows[name]) {
  console.error(`usage: node flows.mjs ${Object.keys(flows).join('|')}`);
  process.exit(2);
}
const browser = await launch();
try {
  await flows[name](browser);
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
