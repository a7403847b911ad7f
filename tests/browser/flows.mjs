// Headless-Chromium flows for jianfu, run by tests/api/browser.rs against a real server.
// Usage: node flows.mjs reporter|warning|desk|admin|triage|phones|history|axe|firstRun|firstRead|districtsFile|districtsRead
// (settings come from the environment)
import { chromium } from 'playwright-core';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

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

/// `backForwardCache`: keep Chromium's back/forward cache on, as in a real browser (the
/// driver turns it off by default) — the history flow needs the real behaviour.
async function launch({ backForwardCache = false } = {}) {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    ignoreDefaultArgs: backForwardCache ? ['--disable-back-forward-cache'] : [],
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
  await page.check('input[name=category][value=verbal]');
  await page.selectOption('#channel', 'chat_group');
  await page.fill('#department', department);
  await page.fill('#occurred', '2026-10');
  await page.check('input[name=listed][value=no]');
  await page.fill('#body', body);
  // The card code comes last, as the printed card says.
  await page.fill('#token', token);
}

async function submit(page) {
  const [response] = await Promise.all([
    page.waitForNavigation(),
    page.click('button.send'),
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
  const err = await page.textContent('#f-department .err');
  check(err.includes('部门'), 'the message stands beside the department field');
  check(await page.getAttribute('#department', 'aria-invalid') === 'true', 'the field is marked invalid');
  check(await page.getAttribute('#department', 'aria-describedby') === 'department-err', 'the message describes the field');
  check(await page.getAttribute('#problems a', 'href') === '#f-department', 'the problem list links to the field');
  check(await page.inputValue('#token') === env('CARD_CODE'), 'the card code is kept');
  check(await page.inputValue('#body') === body, 'the account is kept, byte for byte');
  check(await page.isChecked('input[name=category][value=verbal]'), 'the category is kept');
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
  const box = page.locator('#confirm-box');
  check(await box.locator('input[name=confirm]').count() === 1, 'the confirmation is in the warning box');
  const [boxAt, send] = [await box.boundingBox(), await page.locator('button.send').boundingBox()];
  check(send.y - (boxAt.y + boxAt.height) < 60, 'the warning box stands right above 提交');
  await box.scrollIntoViewIfNeeded();
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
  await Promise.all([page.waitForNavigation(), page.click('#save-triage')]);
  check((await page.locator('#status option:checked').textContent()) === '核查中', 'the status changes to 核查中');
  await page.fill('#new_case', '镇里要求开具已取消的证明');
  await Promise.all([page.waitForNavigation(), page.click('#save-triage')]);
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

// ---------------------------------------------------------------------------------------
// The desk at 1280×800 and 1366×768 (issue 13): one triage form, filters that survive the
// round trip, a refused publication that keeps its text, confirmations before irreversible
// actions, charts and columns that read at desk sizes.

const DESKS = [{ width: 1280, height: 800 }, { width: 1366, height: 768 }];

async function clickAndWait(page, selector) {
  const [response] = await Promise.all([page.waitForNavigation(), page.click(selector)]);
  return response;
}

/// The queue's rows as report ids.
async function queueIds(page) {
  return page.$$eval('table.queue tbody tr td:first-child a', (as) => as.map((a) => a.textContent.trim()));
}

/// Measured at the current viewport: chart labels at 14 px or more and clear of the bars,
/// and the queue's category column at least ten characters wide.
function chartProblems() {
  const problems = [];
  for (const svg of document.querySelectorAll('.chart svg')) {
    const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
    const bar = svg.querySelector('rect');
    for (const t of svg.querySelectorAll('text[x="0"]')) {
      const size = parseFloat(t.getAttribute('font-size')) * scale;
      if (size < 14 - 0.01) problems.push(`“${t.textContent}” at ${size.toFixed(1)} px`);
      const box = t.getBBox();
      if (bar && box.x + box.width > bar.x.baseVal.value) problems.push(`“${t.textContent}” runs into its bar`);
    }
  }
  return problems;
}

function columnProblems() {
  const problems = [];
  for (const td of document.querySelectorAll('table.queue td.category')) {
    const style = getComputedStyle(td);
    const room = td.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
    const chars = room / parseFloat(style.fontSize);
    if (chars < 10) problems.push(`the category column holds ${chars.toFixed(1)} characters a line`);
  }
  return problems;
}

async function triage(browser) {
  const context = await browser.newContext({ viewport: DESKS[0], locale: 'zh-CN' });
  const page = await context.newPage();
  const problems = [];
  // The refused publication's 422 is expected; Chromium logs every 4xx as a console error.
  page.on('console', (m) => { if (m.type() === 'error' && !m.text().includes('status of 422')) problems.push(`console: ${m.text()}`); });
  page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
  const violations = [];
  const audit = async (name) => violations.push(...(await axeViolations(page, name)).map((v) => `${name}: ${v}`));
  await signIn(page, env('INVESTIGATOR_USER'), env('INVESTIGATOR_PASSWORD'), '/staff/reports');

  // A filtered queue on the 全部 tab.
  await page.goto(`${BASE}/staff/reports?tab=all`);
  await page.selectOption('form.filters select[name=category]', 'certificate');
  await clickAndWait(page, 'form.filters button:not([name])');
  const filtered = await queueIds(page);
  check(filtered.length === 2, `the category filter narrows the queue to two reports (${filtered.length})`);
  await page.screenshot({ path: `${SHOTS}/desk-queue-filtered-1280.png` });

  // Open one, change its status and name a new case, one press.
  await clickAndWait(page, `table.queue a[href="/staff/reports/${filtered[0]}"]`);
  await page.selectOption('#status', { label: '核查中' });
  await page.fill('#new_case', '要求开具已取消的证明');
  await clickAndWait(page, '#save-triage');
  const saved = (await page.textContent('.saved')).trim();
  check(saved === '已保存：状态、所属事项。', `the page says what was saved (${saved})`);
  check((await page.locator('#status option:checked').textContent()) === '核查中', 'the status is saved');
  check((await page.locator('#case_id option:checked').textContent()).includes('要求开具已取消的证明'), 'and the case too');
  await page.screenshot({ path: `${SHOTS}/desk-triage-saved-1280.png` });
  await audit('report page after a save');

  // "← 返回队列": the same tab, the same filter, the same rows.
  await clickAndWait(page, 'a:has-text("← 返回队列")');
  check(await page.inputValue('form.filters select[name=category]') === 'certificate', 'back in the queue, the filter is still set');
  check(JSON.stringify(await queueIds(page)) === JSON.stringify(filtered), 'and the same reports are listed');
  check((await page.textContent('.tabs a.current')).includes('全部'), 'on the same tab');
  // The browser's Back does the same.
  await clickAndWait(page, `table.queue a[href="/staff/reports/${filtered[1]}"]`);
  await goBack(page);
  await page.waitForLoadState('load');
  check(await page.inputValue('form.filters select[name=category]') === 'certificate' && (await queueIds(page)).length === 2,
    'Back from a report also finds the filtered queue');

  // The case, its reports in the queue, and a publication refused on a stale page.
  await page.goto(`${BASE}/staff/reports/${filtered[0]}`);
  await clickAndWait(page, 'a:has-text("查看事项")');
  const casePath = new URL(page.url()).pathname;
  check(await page.locator('#publish').count() === 0 && await page.locator('#publish-later').isVisible(),
    'no publish button while the outcome is 尚无结论');
  await clickAndWait(page, 'a:has-text("在队列中查看")');
  check(JSON.stringify(await queueIds(page)) === JSON.stringify([filtered[0]]), "在队列中查看 lists the case's report");
  check((await page.textContent('#case-scope')).includes('要求开具已取消的证明'), 'and says which case');
  await audit('queue narrowed to a case');
  await page.goto(`${BASE}${casePath}`);
  await page.selectOption('form.grid select[name=outcome]', { label: '叫停' });
  await clickAndWait(page, 'form.grid button[type=submit]');
  check((await page.textContent('.saved')).includes('事项信息已保存'), 'the case page says it saved');
  check(await page.locator('#publish').isVisible(), 'with the outcome 叫停 the publish button is offered');
  // A colleague sets the outcome back meanwhile, in another window.
  const other = await context.newPage();
  await other.goto(`${BASE}${casePath}`);
  await other.selectOption('form.grid select[name=outcome]', { label: '尚无结论' });
  await Promise.all([other.waitForNavigation(), other.click('form.grid button[type=submit]')]);
  await other.close();
  const text = '城关镇要求村里开具已取消的“生活困难证明”，已叫停。\n改由部门自行核实。';
  await page.fill('#public_text', text);
  const refused = await clickAndWait(page, '#publish');
  check(refused.status() === 422, `the stale publication is refused (${refused.status()})`);
  check(await page.inputValue('#public_text') === text, 'the typed text is kept, byte for byte');
  check((await page.textContent('#publish-error')).includes('叫停'), 'with the reason beside it');
  await page.locator('#publish-error').scrollIntoViewIfNeeded();
  await page.screenshot({ path: `${SHOTS}/desk-publish-refused-1280.png` });
  await audit('refused publication');
  await page.selectOption('#publish-outcome', 'stopped');
  await clickAndWait(page, '#publish');
  check((await page.textContent('.saved')).includes('已保存并公示'), 'choosing the outcome there publishes');
  await page.goto(`${BASE}/outcomes`);
  check((await page.textContent('body')).includes('改由部门自行核实'), 'the board shows it');

  // Withdrawing asks first; 取消 changes nothing.
  await page.goto(`${BASE}${casePath}`);
  await clickAndWait(page, 'button[name=withdraw]');
  check((await page.textContent('h1')).includes('撤回'), 'withdrawing asks on a page of its own');
  await page.screenshot({ path: `${SHOTS}/desk-withdraw-confirm-1280.png` });
  await audit('withdraw confirmation');
  await clickAndWait(page, 'a.cancel');
  check((await page.textContent('main')).includes('公示。') && await page.locator('button[name=withdraw]').count() === 1, '取消 leaves it published');
  await clickAndWait(page, 'button[name=withdraw]');
  await clickAndWait(page, '#confirm');
  check((await page.textContent('.saved')).includes('已撤回公示'), 'confirmed, it is withdrawn');
  await page.goto(`${BASE}/outcomes`);
  check(!(await page.textContent('body')).includes('改由部门自行核实'), 'and gone from the board');

  // Desk sizes: charts and columns.
  for (const size of DESKS) {
    await page.setViewportSize(size);
    const label = `${size.width}×${size.height}`;
    await page.goto(`${BASE}/staff/stats`);
    const charts = await page.evaluate(chartProblems);
    check(charts.length === 0, `${label}: chart labels at 14 px or more, clear of the bars${charts.length ? '\n  ' + charts.slice(0, 5).join('\n  ') : ''}`);
    await page.screenshot({ path: `${SHOTS}/desk-stats-${size.width}.png` });
    await page.goto(`${BASE}/staff/reports?tab=all`);
    if (await page.locator('form.filters button[name=clear]').count()) await clickAndWait(page, 'form.filters button[name=clear]');
    const columns = await page.evaluate(columnProblems);
    check(columns.length === 0, `${label}: the category column keeps its lines${columns.length ? '\n  ' + columns.join('\n  ') : ''}`);
    await page.screenshot({ path: `${SHOTS}/desk-queue-${size.width}.png` });
    await page.goto(`${BASE}/staff/reports/${filtered[0]}`);
    await page.screenshot({ path: `${SHOTS}/desk-report-${size.width}.png` });
  }
  await context.close();

  // The admin's revocation asks first too.
  const admin = await browser.newContext({ viewport: DESKS[0], locale: 'zh-CN' });
  const apage = await admin.newPage();
  await signIn(apage, env('ADMIN_USER'), env('ADMIN_PASSWORD'), '/staff/batches');
  const revoke = `form[action="/staff/batches/${env('REVOKE_BATCH')}/revoke"] button`;
  await clickAndWait(apage, revoke);
  check((await apage.textContent('h1')).includes('作废'), 'revoking a batch asks on a page of its own');
  await apage.screenshot({ path: `${SHOTS}/admin-revoke-confirm-1280.png` });
  violations.push(...(await axeViolations(apage, 'revoke confirmation')).map((v) => `revoke confirmation: ${v}`));
  await clickAndWait(apage, 'a.cancel');
  check(await apage.locator(revoke).count() === 1, '取消 revokes nothing');
  await clickAndWait(apage, revoke);
  await clickAndWait(apage, '#confirm');
  check((await apage.textContent('.saved')).includes('已作废'), 'confirmed, the batch is revoked');
  await admin.close();
  check(violations.length === 0, `no WCAG 2.1 AA violation on the new desk pages${violations.length ? ':\n  ' + violations.join('\n  ') : ''}`);
  check(problems.length === 0, `no console error or page error (${problems.join('; ')})`);
}


// ---------------------------------------------------------------------------------------
// Phones (issue 13): large text, shared phones, every reporter page.

const CARDS = () => env('CARD_CODES').split(',');

/// WeChat's large font, emulated as WeChat does it on iOS: its in-app browser injects
/// `body { -webkit-text-size-adjust: N% !important }` into every page. Chromium applies that
/// while computing styles, so every font size is multiplied (px included) while lengths in
/// px and rem stay, the viewport keeps its width and media queries do not change — which is
/// also what Android WeChat's text zoom does to text. CSS `zoom` would instead scale every
/// length like a browser's page zoom (that case is the 180 px viewport in the matrix below),
/// and Chromium's default-font-size setting would leave every px font unscaled.
/// (CSS_OVERRIDE=path tries a stylesheet from disk without rebuilding the server.)
async function largeText(context, percent) {
  const override = process.env.CSS_OVERRIDE;
  if (percent === 100 && !override) return;
  await context.route('**/static/site.css', async (route) => {
    const response = await route.fetch();
    const css = override ? readFileSync(override, 'utf8') : await response.text();
    const large = percent === 100 ? '' : `\nbody{-webkit-text-size-adjust:${percent}%!important}`;
    await route.fulfill({ response, body: css + large });
  });
}

async function phoneAt(browser, { width, height, scale = 100, js = false, dpr = 2 }) {
  const context = await browser.newContext({
    viewport: { width, height }, deviceScaleFactor: dpr, isMobile: true, hasTouch: true,
    javaScriptEnabled: js, userAgent: WECHAT_UA, locale: 'zh-CN',
  });
  await largeText(context, scale);
  const page = await context.newPage();
  return { context, page };
}

/// Everything the layout promise asks, measured in the page (page JavaScript may be off:
/// this runs from the driver). Returns a list of problems, empty when the page is fine.
function layoutProblems() {
  const problems = [];
  const vw = document.documentElement.clientWidth;
  const describe = (e) => `${e.tagName.toLowerCase()}${e.id ? '#' + e.id : ''}${e.className && typeof e.className === 'string' ? '.' + e.className.trim().replace(/\s+/g, '.') : ''} “${(e.innerText || e.value || e.getAttribute('aria-label') || '').trim().slice(0, 24)}”`;
  // Rendered and not inside a closed <details> (whose content keeps a layout box).
  const shown = (e) => { const r = e.getBoundingClientRect(); return r.width > 0 && r.height > 0 && e.checkVisibility({ visibilityProperty: true, contentVisibilityAuto: true }); };
  if (document.documentElement.scrollWidth > vw) problems.push(`the page scrolls sideways (${document.documentElement.scrollWidth} > ${vw})`);
  for (const e of document.body.querySelectorAll('*')) {
    if (!shown(e)) continue;
    const r = e.getBoundingClientRect();
    if (r.left < -0.5 || r.right > vw + 0.5) problems.push(`${describe(e)} reaches outside the screen (${Math.round(r.left)}…${Math.round(r.right)})`);
    // Text cut inside its own box (a field, a button, a clipped block).
    const style = getComputedStyle(e);
    const clips = ['INPUT', 'TEXTAREA', 'BUTTON'].includes(e.tagName) || (style.overflowX !== 'visible');
    if (clips && e.scrollWidth > e.clientWidth + 1 && e.type !== 'radio' && e.type !== 'checkbox') problems.push(`${describe(e)} cuts its text (${e.scrollWidth} > ${e.clientWidth})`);
  }
  // A native select shows its chosen option on one line: measure that line.
  const canvas = document.createElement('canvas').getContext('2d');
  for (const sel of document.querySelectorAll('select')) {
    if (!shown(sel) || getComputedStyle(sel).appearance === 'base-select') continue;
    const style = getComputedStyle(sel);
    canvas.font = `${style.fontWeight} ${style.fontSize} ${style.fontFamily}`;
    const text = sel.selectedOptions[0] ? sel.selectedOptions[0].text : '';
    const room = sel.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight) - 20;
    if (canvas.measureText(text).width > room) problems.push(`select#${sel.id} cuts its choice “${text}”`);
  }
  // Tap targets: 44 × 44 CSS px at least. A radio or checkbox counts by its label.
  const targets = document.querySelectorAll('a[href], button, summary, select, textarea, input:not([type=hidden])');
  // A link inside a sentence is exempt where it is no taller than its line (WCAG 2.5.8's
  // inline exception), as long as the text is at 200%: there every line is ≥ 44 px.
  const inSentence = (a) => a.tagName === 'A' && getComputedStyle(a).display === 'inline' && ['P', 'LI', 'DD'].includes(a.parentElement.tagName) && a.parentElement.textContent.trim() !== a.textContent.trim();
  const large = parseFloat(getComputedStyle(document.body).fontSize) >= 32;
  for (const t of targets) {
    const target = (t.type === 'radio' || t.type === 'checkbox') ? t.closest('label') : t;
    if (!target || !shown(target) || (!large && inSentence(target))) continue;
    const r = target.getBoundingClientRect();
    if (r.height < 44 - 0.5 || r.width < 44 - 0.5) problems.push(`tap target ${describe(target)} is ${Math.round(r.width)}×${Math.round(r.height)}`);
  }
  return problems;
}

/// WCAG 1.4.11: field borders and the focus ring against what is behind them, at least 3:1.
function contrastProblems() {
  const parse = (c) => { const m = c.match(/[\d.]+/g).map(Number); return { rgb: m.slice(0, 3), a: m.length > 3 ? m[3] : 1 }; };
  const lum = ([r, g, b]) => { const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; }; return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const ratio = (x, y) => { const [a, b] = [lum(x), lum(y)].sort((p, q) => q - p); return (a + 0.05) / (b + 0.05); };
  const behind = (e) => { for (let n = e.parentElement; n; n = n.parentElement) { const c = parse(getComputedStyle(n).backgroundColor); if (c.a > 0.5) return c.rgb; } return [255, 255, 255]; };
  const problems = [];
  for (const f of document.querySelectorAll('input:not([type=hidden]):not([type=radio]):not([type=checkbox]), select, textarea')) {
    if (f.getBoundingClientRect().width === 0) continue;
    const style = getComputedStyle(f);
    const r = ratio(parse(style.borderTopColor).rgb, behind(f));
    if (r < 3) problems.push(`the border of #${f.id} has ${r.toFixed(2)}:1`);
    f.focus();
    const focused = getComputedStyle(f);
    const ring = parse(focused.outlineColor).rgb;
    const width = parseFloat(focused.outlineWidth);
    if (focused.outlineStyle === 'none' || width < 2) problems.push(`#${f.id} shows no focus ring`);
    else if (ratio(ring, behind(f)) < 3) problems.push(`the focus ring of #${f.id} has ${ratio(ring, behind(f)).toFixed(2)}:1`);
    f.blur();
  }
  return problems;
}

/// Every reporter page, reached as a reporter would, with the card codes given.
function reporterPages(page, cards) {
  const send = () => submit(page);
  const fullCode = cards.spare;
  const list = [
    ['entry', () => page.goto(`${BASE}/`)],
    ['error', async () => {
      await page.goto(`${BASE}/`);
      await page.check('input[name=category][value=apps]');
      await page.selectOption('#channel', 'chat_group');
      await page.fill('#occurred', '2026-10');
      if (await page.locator('#certificate').count()) await page.selectOption('#certificate', { index: await page.locator('#certificate option').count() - 1 });
      await page.fill('#body', env('REPORT_BODY'));
      await page.fill('#token', fullCode);
      return send();
    }],
    ['calm', async () => { await page.goto(`${BASE}/`); await page.fill('#token', fullCode); return send(); }],
    ['warning', async () => {
      await page.goto(`${BASE}/`);
      await fillReport(page, { token: fullCode, department: '镇政府', body: '我是东风村的会计，有事请打 138 1234 5678，或加 wx：dongfeng_kuaiji。' });
      return send();
    }],
    ['refused', async () => { await page.goto(`${BASE}/`); await fillReport(page, { token: cards.used, department: '县民政局', body: env('REPORT_BODY') }); return send(); }],
    ['thanks', () => page.goto(`${BASE}/thanks`)],
    ['outcomes', () => page.goto(`${BASE}/outcomes`)],
    ['missing', () => page.goto(`${BASE}/no-such-page`)],
  ];
  return list;
}

const EXPECTED_STATUS = { entry: 200, error: 422, calm: 422, warning: 422, refused: 403, thanks: 200, outcomes: 200, missing: 404 };

/// Bytes of every response a page load brings (HTML, CSS, icon, script).
async function weigh(page, go) {
  const sizes = [];
  const onResponse = async (r) => { try { sizes.push((await r.body()).length); } catch { /* a redirect has no body */ } };
  page.on('response', onResponse);
  await go();
  await page.waitForLoadState('networkidle');
  page.off('response', onResponse);
  return sizes.reduce((a, b) => a + b, 0);
}

async function phones(browser) {
  const [used, spare] = CARDS();
  // SPEC §4: the entry page weighs ≤ 30 KB in all; so does the 422 page with its script.
  for (const js of [false, true]) {
    const { context, page } = await phoneAt(browser, { width: 360, height: 640, js });
    const entry = await weigh(page, () => page.goto(`${BASE}/`));
    const again = await weigh(page, async () => { await page.fill('#token', spare); await submit(page); });
    check(entry <= 30 * 1024 && again <= 30 * 1024,
      `JavaScript ${js ? 'on' : 'off'}: the entry page weighs ${entry} bytes in all, the page that answers a POST ${again} (≤ ${30 * 1024})`);
    await context.close();
  }
  // The matrix: two phones, three text sizes; and a 180 px wide viewport at four device
  // pixels per CSS pixel, which is what a 360 px phone shows at 200% page zoom (the way
  // Chrome on Android now applies the system's font size).
  const matrix = [];
  for (const [width, height] of [[360, 640], [390, 844]]) for (const scale of [100, 150, 200]) matrix.push({ width, height, scale });
  matrix.push({ width: 180, height: 320, scale: 100, dpr: 4, label: '360×640 at 200% page zoom' });
  for (const m of matrix) {
    const label = m.label || `${m.width}×${m.height}, text ${m.scale}%`;
    const { context, page } = await phoneAt(browser, m);
    const list = reporterPages(page, { used, spare });
    const full = m.width === 360 && m.scale === 200;
    for (const [name, go] of list) {
      // Every page at 360×640 and text 200%; the form pages in the rest of the matrix.
      if (!full && !['entry', 'error', 'warning'].includes(name)) continue;
      const response = await go();
      check(response.status() === EXPECTED_STATUS[name], `${label}: ${name} answers ${EXPECTED_STATUS[name]} (${response.status()})`);
      // The emulation took: body text is 16 px times the text size.
      const body = await page.evaluate(() => parseFloat(getComputedStyle(document.body).fontSize));
      check(body === 16 * m.scale / 100, `${label}: ${name}: text at ${m.scale}% (${body}px)`);
      const problems = await page.evaluate(layoutProblems);
      check(problems.length === 0, `${label}: ${name}: nothing cut off or too small${problems.length ? '\n  ' + problems.join('\n  ') : ''}`);
      if (full) {
        // Looked at by a person: README, Screenshots.
        if (name === 'warning') await page.$eval('#confirm-box .choice', (e) => e.scrollIntoView({ block: 'center' }));
        await page.screenshot({ path: `${SHOTS}/reporter-${name}-200.png` });
        const contrast = await page.evaluate(contrastProblems);
        check(contrast.length === 0, `${name}: borders and focus ring ≥ 3:1${contrast.length ? '\n  ' + contrast.join('\n  ') : ''}`);
      }
      if (await page.locator('#token').count()) {
        // A full code; in a monospace font every character is as wide as W.
        await page.fill('#token', 'WWWW-WWWW-WWWW-WWWW-WWWW');
        const code = await page.$eval('#token', (e) => ({ scroll: e.scrollWidth, client: e.clientWidth, size: parseFloat(getComputedStyle(e).fontSize) }));
        check(code.scroll <= code.client && code.size >= 16 / (m.dpr === 4 ? 2 : 1),
          `${label}: ${name}: the whole code shows (${code.scroll} ≤ ${code.client} px at ${code.size}px)`);
        if (full && name === 'entry') {
          await page.fill('#token', spare);
          await page.locator('#f-token').scrollIntoViewIfNeeded();
          await page.screenshot({ path: `${SHOTS}/reporter-code-200.png` });
        }
      }
    }
    await context.close();
  }
}

/// What a page shows of a report: its text and every field's value.
async function visibleReport(page) {
  return page.evaluate(() => {
    const fields = [...document.querySelectorAll('input, textarea, select')]
      .filter((e) => (e.type === 'radio' || e.type === 'checkbox') ? e.checked : e.value && e.tagName !== 'SELECT' || e.tagName === 'SELECT' && e.selectedIndex > 0)
      .map((e) => `${e.name}=${e.value}`);
    return { url: location.href, text: document.body ? document.body.innerText : '', fields };
  }).catch(() => ({ url: page.url(), text: '', fields: [] }));
}

/// Back, as the phone's Back button: what came of it, in words. Chromium sometimes swaps the
/// page's renderer just after a navigation, and Playwright then says "Not attached to an
/// active page" without pressing Back at all (seen on a loaded machine): that — and only
/// that — is tried again.
async function goBack(page) {
  for (let attempt = 0; ; attempt++) {
    try {
      const response = await page.goBack({ waitUntil: 'commit' });
      return response ? `answered ${response.status()}` : 'no navigation';
    } catch (e) {
      const message = e.message.split('\n')[0];
      if (attempt < 3 && /Not attached to an active page/.test(message)) {
        await page.waitForTimeout(200);
        continue;
      }
      return `error: ${message}`;
    }
  }
}

async function history(browser) {
  const cards = CARDS();
  const body = '共用手机测试：镇里要求每天在群里报到，独特标记子丑寅卯。';
  const department = '独特部门辰巳午未';
  for (const js of [false, true]) {
    const mode = js ? 'JavaScript on' : 'JavaScript off';
    const context = await browser.newContext({
      viewport: { width: 360, height: 640 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true,
      javaScriptEnabled: js, userAgent: WECHAT_UA, locale: 'zh-CN',
    });
    const page = await context.newPage();
    const posts = [];
    page.on('request', (r) => { if (r.method() === 'POST') posts.push(r.url()); });
    const noStore = [];
    page.on('response', (r) => { if (r.url().startsWith(BASE) && !/no-store/.test(r.headers()['cache-control'] || '')) noStore.push(r.url()); });
    const leaks = async (what) => {
      const shown = await visibleReport(page);
      const leaked = [body.slice(0, 8), department, '子丑寅卯'].filter((t) => shown.text.includes(t) || shown.fields.some((f) => f.includes(t)));
      check(leaked.length === 0 && shown.fields.length === 0,
        `${mode}: ${what} shows nothing of the report (${shown.url}; fields: ${shown.fields.join(' ') || 'none'}${leaked.length ? '; text: ' + leaked.join(', ') : ''})`);
      return shown;
    };
    // Enter in the code field sends nothing, however much of the form is filled.
    await page.goto(`${BASE}/`);
    await page.fill('#token', cards[0]);
    await page.press('#token', 'Enter');
    await page.fill('#department', department);
    await page.press('#department', 'Enter');
    await page.waitForTimeout(300);
    check(posts.length === 0 && page.url() === `${BASE}/`, `${mode}: Enter in a one-line field submits nothing (${posts.length} posts)`);

    // A filing straight from the entry page, then Back and Forward.
    await fillReport(page, { token: cards[js ? 2 : 0], department, body });
    await submit(page);
    check(page.url() === `${BASE}/thanks`, `${mode}: filed`);
    await goBack(page);
    await page.waitForLoadState('domcontentloaded').catch(() => {});
    await page.waitForTimeout(300);
    await leaks('Back after a filing');
    await page.goForward({ waitUntil: 'commit' });
    await page.waitForTimeout(300);
    await leaks('Forward again');

    // An error, the fix, the filing, then Back twice.
    await page.goto(`${BASE}/`);
    await fillReport(page, { token: cards[js ? 3 : 1], department: '', body });
    let response = await submit(page);
    check(response.status() === 422, `${mode}: a missing department answers 422`);
    await page.fill('#department', department);
    await submit(page);
    check(page.url() === `${BASE}/thanks`, `${mode}: filed after the fix`);
    const wentBack = await goBack(page);
    await page.waitForTimeout(500);
    const back = await leaks('Back after error → fix → filing');
    if (js) {
      check(back.url === `${BASE}/`, `${mode}: that Back shows the empty form at / (${back.url}; Back: ${wentBack})`);
    } else {
      // Without the script the entry is the POST that answered 422: Chromium asks before
      // sending it again (SECURITY.md says what confirming would do).
      check(back.url.startsWith('chrome-error://'), `${mode}: that Back asks to confirm a resubmission (${back.url})`);
    }
    await goBack(page);
    await page.waitForTimeout(500);
    await leaks('a second Back');
    check(noStore.length === 0, `${mode}: every response says Cache-Control: no-store (${noStore.join(', ')})`);
    await context.close();
  }
}

/// axe-core (pinned in package-lock.json): no WCAG 2.1 A/AA violation on every reporter page
/// at 360×640 with text at 200% and on every staff page, as the investigator and the admin.
/// axe-core's WCAG 2.1 A/AA violations on the page as it is, one line each.
async function axeViolations(page, name) {
  const require = createRequire(import.meta.url);
  const source = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
  await page.evaluate(source);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
    resultTypes: ['violations'],
  }));
  if (result.passes.length === 0) throw new Error(`axe checked nothing on ${name}`);
  const found = result.violations.map((v) => `${v.id} (${v.nodes.length}): ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join('; ')}`);
  check(true, `axe ${name}: ${found.length ? found.join(' | ') : 'no violation'}`);
  return found;
}

async function axe(browser) {
  const failures = [];
  const audit = async (page, name) => {
    const found = await axeViolations(page, name);
    if (found.length) failures.push(`${name}: ${found.join(' | ')}`);
  };
  // axe itself is JavaScript: the pages run it with script on; they are the same pages
  // (form.js only listens for events).
  const [used, spare] = CARDS();
  const { context, page } = await phoneAt(browser, { width: 360, height: 640, scale: 200, js: true });
  const list = reporterPages(page, { used, spare });
  for (const [name, go] of list) { await go(); await audit(page, `reporter ${name}`); }
  await context.close();

  for (const [user, password, paths] of [
    [env('INVESTIGATOR_USER'), env('INVESTIGATOR_PASSWORD'), ['/staff/reports', '/staff/reports?tab=all', 'REPORT', '/staff/cases', 'CASE', '/staff/stats', '/staff/team', '/staff/totp', '/staff/password']],
    [env('ADMIN_USER'), env('ADMIN_PASSWORD'), ['/staff/batches', '/staff/accounts', '/staff/desks', '/staff/lists', '/staff/lists/departments', '/staff/audit', '/staff/settings', '/staff/totp', '/staff/password']],
  ]) {
    const desk = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'zh-CN' });
    const staff = await desk.newPage();
    await staff.goto(`${BASE}/staff/login`);
    await audit(staff, 'staff login');
    await staff.fill('#username', user);
    await staff.fill('#password', password);
    await Promise.all([staff.waitForNavigation(), staff.click('button[type=submit]')]);
    for (let path of paths) {
      if (path === 'REPORT') {
        await staff.goto(`${BASE}/staff/reports?tab=all`);
        path = await staff.locator('table.queue tbody tr a').first().getAttribute('href');
      }
      if (path === 'CASE') {
        // Case ids are random: the first case on the desk's cases page.
        await staff.goto(`${BASE}/staff/cases`);
        path = await staff.locator('a[href^="/staff/cases/"]').first().getAttribute('href');
      }
      const response = await staff.goto(`${BASE}${path}`);
      check(response.status() === 200, `${user} opens ${path} (${response.status()})`);
      await audit(staff, `${user} ${path}`);
    }
    await desk.close();
  }
  check(failures.length === 0, `no WCAG 2.1 AA violation anywhere${failures.length ? ':\n  ' + failures.join('\n  ') : ''}`);
}

// ---------------------------------------------------------------------------------------
// The first run as the people who do it (issue 10, P5): the admin on their own computer, the
// head of the desk on theirs, a second investigator on a third. The admin never sees a
// recovery code or sets an investigator's password; a grant needs the fingerprint group
// that the recipient reads out.

async function desktop(browser) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, locale: 'zh-CN' });
  return { context, page: await context.newPage() };
}

async function signIn(page, user, password, landing) {
  await page.goto(`${BASE}/staff/login`);
  await page.fill('#username', user);
  await page.fill('#password', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  check(page.url().startsWith(`${BASE}${landing}`), `${user} signs in (${page.url()})`);
}

async function enrol(page, link, password) {
  await page.goto(link);
  await page.fill('#password', password);
  await page.fill('#password2', password);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  check((await page.textContent('h1')).includes('密码已设置'), `enrolled at ${link.slice(0, BASE.length + 14)}…`);
}

async function firstRun(browser) {
  const head = { user: env('INVESTIGATOR_USER'), password: env('INVESTIGATOR_PASSWORD') };
  // The admin opens the setup link the server printed.
  const admin = await desktop(browser);
  await admin.page.goto(env('SETUP_URL'));
  await admin.page.fill('#admin_username', env('ADMIN_USER'));
  await admin.page.fill('#admin_password', env('ADMIN_PASSWORD'));
  await admin.page.fill('#admin_password2', env('ADMIN_PASSWORD'));
  await admin.page.fill('#investigator_username', head.user);
  check(await admin.page.locator('input[name=investigator_password]').count() === 0, 'the setup page asks for no investigator password');
  await Promise.all([admin.page.waitForNavigation(), admin.page.click('button[type=submit]')]);
  const headLink = (await admin.page.textContent('#enrol-link')).trim();
  check(headLink.includes('/staff/enrol/'), 'the admin is handed the head of the desk\'s link');
  check(await admin.page.locator('#recovery-code').count() === 0, 'the admin is shown no recovery code');
  await admin.page.screenshot({ path: `${SHOTS}/first-run-admin.png`, fullPage: true });

  // The head of the desk, on their own computer.
  const desk1 = await desktop(browser);
  await enrol(desk1.page, headLink, head.password);
  const code = (await desk1.page.textContent('#recovery-code')).trim();
  check(/^[0-9A-F]{4}(-[0-9A-F]{4}){7}$/.test(code), 'the head of the desk alone sees the recovery code');
  await desk1.page.screenshot({ path: `${SHOTS}/first-run-recovery.png`, fullPage: true });

  // The admin invites a second investigator; whatever is typed, no password is set.
  await signIn(admin.page, env('ADMIN_USER'), env('ADMIN_PASSWORD'), '/staff/batches');
  await admin.page.goto(`${BASE}/staff/accounts`);
  await admin.page.fill('form.grid input[name=username]', 'desk2');
  await admin.page.selectOption('form.grid select[name=role]', 'investigator');
  await Promise.all([admin.page.waitForNavigation(), admin.page.click('form.grid button[type=submit]')]);
  const link2 = (await admin.page.textContent('#enrol-link')).trim();
  await admin.page.screenshot({ path: `${SHOTS}/first-run-invite.png`, fullPage: true });
  for (const path of ['/staff/accounts', '/staff/audit', '/staff/batches']) {
    await admin.page.goto(`${BASE}${path}`);
    check(!(await admin.page.content()).includes(code), `no recovery code on the admin's ${path}`);
  }

  // The second investigator enrols and reads out their fingerprint's first group.
  const desk2 = await desktop(browser);
  await enrol(desk2.page, link2, 'desk2 own password');
  await signIn(desk2.page, 'desk2', 'desk2 own password', '/staff/');
  await desk2.page.goto(`${BASE}/staff/team`);
  const group = (await desk2.page.textContent('#my-fingerprint')).trim().slice(0, 4);
  await desk2.page.screenshot({ path: `${SHOTS}/first-run-fingerprint.png`, fullPage: true });

  // The head types it and grants; a wrong group would be refused.
  await signIn(desk1.page, head.user, head.password, '/staff/reports');
  await desk1.page.goto(`${BASE}/staff/team`);
  const row = desk1.page.locator('tr', { hasText: 'desk2' });
  await row.locator('input[name=fingerprint]').fill(group === 'ZZZZ' ? 'YYYY' : 'ZZZZ');
  await Promise.all([desk1.page.waitForNavigation(), row.locator('button[type=submit]').click()]);
  check((await desk1.page.textContent('main')).includes('指纹不一致'), 'a wrong fingerprint group is refused');
  await desk1.page.locator('tr', { hasText: 'desk2' }).locator('input[name=fingerprint]').fill(group);
  await desk1.page.screenshot({ path: `${SHOTS}/first-run-grant.png`, fullPage: true });
  await Promise.all([desk1.page.waitForNavigation(), desk1.page.locator('tr', { hasText: 'desk2' }).locator('button[type=submit]').click()]);
  check((await desk1.page.textContent('main')).includes('已为 desk2 授权'), 'the head grants desk2 after the check');
  for (const c of [admin, desk1, desk2]) await c.context.close();
}

/// After a report is released: the second investigator signs in again and reads it.
async function firstRead(browser) {
  const desk2 = await desktop(browser);
  await signIn(desk2.page, 'desk2', 'desk2 own password', '/staff/reports');
  const link = desk2.page.locator('table.queue tbody tr a').first();
  await Promise.all([desk2.page.waitForNavigation(), link.click()]);
  check((await desk2.page.textContent('#report-body')) === env('REPORT_BODY'), 'desk2 reads the released report');
  await desk2.page.screenshot({ path: `${SHOTS}/first-run-read.png`, fullPage: true });
  await desk2.context.close();
}

/// P11 on a phone: at 360×640 with text at 200% and JavaScript off, a reporter files one
/// report to a district and, separately, one for the city desk only. The form's district
/// fields fit and are large enough to tap.
async function districtsFile(browser) {
  const [toDistrict, cityOnly] = CARDS();
  const district = env('DISTRICT_CODE');
  const { context, page } = await phoneAt(browser, { width: 360, height: 640, scale: 200 });
  for (const [card, onlyCity, body] of [[toDistrict, false, env('DISTRICT_BODY')], [cityOnly, true, env('CITY_ONLY_BODY')]]) {
    await page.goto(`${BASE}/`);
    await fillReport(page, { token: card, department: '区农业农村局', body });
    await page.selectOption('#desk', district);
    if (onlyCity) await page.check('input[name=city_only]');
    const problems = await page.evaluate(layoutProblems);
    check(problems.length === 0, `the form with the district fields fits at 360×640, text 200%${problems.length ? '\n  ' + problems.join('\n  ') : ''}`);
    if (onlyCity) {
      await page.locator('#f-desk').scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${SHOTS}/reporter-district-200.png` });
    }
    const response = await submit(page);
    check(response.status() === 200 && page.url() === `${BASE}/thanks`, `filed ${onlyCity ? 'for the city desk only' : 'to the district'}`);
  }
  await context.close();
}

/// P11 at the desks: the district investigator sees only the report filed to the district;
/// the city investigator sees both, the city-only one marked; the public board shows each
/// desk's record, on a phone too.
async function districtsRead(browser) {
  const districtBody = env('DISTRICT_BODY');
  const cityOnlyBody = env('CITY_ONLY_BODY');
  const district = await desktop(browser);
  await signIn(district.page, env('DISTRICT_USER'), env('DISTRICT_PASSWORD'), '/staff/reports');
  let text = await district.page.textContent('main');
  check(text.includes(districtBody.slice(0, 20)), 'the district desk reads the report filed to it');
  check(!text.includes(cityOnlyBody.slice(0, 10)), 'the district desk has nothing of the city-only report');
  check(await district.page.locator('table.queue tbody tr').count() === 1, 'the district queue holds one report');
  await district.page.screenshot({ path: `${SHOTS}/district-queue.png`, fullPage: true });
  const city = await desktop(browser);
  await signIn(city.page, env('INVESTIGATOR_USER'), env('INVESTIGATOR_PASSWORD'), '/staff/reports');
  text = await city.page.textContent('main');
  check(text.includes(districtBody.slice(0, 20)) && text.includes(cityOnlyBody.slice(0, 20)), 'the city desk reads both');
  const marked = city.page.locator('table.queue tbody tr', { hasText: cityOnlyBody.slice(0, 20) });
  check((await marked.textContent()).includes('只交市里'), 'the city-only report is marked in the city queue');
  await city.page.screenshot({ path: `${SHOTS}/city-queue.png`, fullPage: true });
  // axe-core on the pages the desks change: the city's queue and report page, the form with
  // the district fields, the board.
  const failures = [];
  const audit = async (page, name) => {
    const found = await axeViolations(page, name);
    if (found.length) failures.push(`${name}: ${found.join(' | ')}`);
  };
  await audit(city.page, 'the city queue');
  await Promise.all([city.page.waitForNavigation(), marked.locator('a').first().click()]);
  await audit(city.page, 'a city-only report at the city desk');
  // P5, P11: the city desk's page of district desks, where it approves them.
  await city.page.goto(`${BASE}/staff/districts`);
  check((await city.page.textContent('main')).includes('已核准，接收'), 'the city desk sees the district desk approved');
  await audit(city.page, 'the district desks at the city desk');
  await city.page.screenshot({ path: `${SHOTS}/city-districts.png`, fullPage: true });
  const scripted = await phoneAt(browser, { width: 360, height: 640, scale: 200, js: true });
  for (const path of ['/', '/outcomes']) {
    await scripted.page.goto(`${BASE}${path}`);
    await audit(scripted.page, `reporter ${path} with district desks`);
  }
  await scripted.context.close();
  check(failures.length === 0, `no WCAG 2.1 AA violation on the desks' pages${failures.length ? ':\n  ' + failures.join('\n  ') : ''}`);
  const { context, page } = await phoneAt(browser, { width: 360, height: 640, scale: 200 });
  await page.goto(`${BASE}/outcomes`);
  const board = await page.textContent('main');
  check(board.includes(env('DISTRICT_NAME')), 'the board shows the district desk\'s record');
  const problems = await page.evaluate(layoutProblems);
  check(problems.length === 0, `the board fits at 360×640, text 200%${problems.length ? '\n  ' + problems.join('\n  ') : ''}`);
  await page.screenshot({ path: `${SHOTS}/board-200.png`, fullPage: true });
  for (const c of [district, city, { context }]) await c.context.close();
}

const flows = { reporter, warning, desk, admin, triage, phones, history, axe, firstRun, firstRead, districtsFile, districtsRead };
const name = process.argv[2];
if (!flows[name]) {
  console.error(`usage: node flows.mjs ${Object.keys(flows).join('|')}`);
  process.exit(2);
}
const browser = await launch({ backForwardCache: name === 'history' });
try {
  await flows[name](browser);
} catch (e) {
  console.error(e.stack || String(e));
  process.exitCode = 1;
} finally {
  await browser.close();
}
