// Browser tests of the Concord dashboard: playwright-core drives Debian chromium against a
// real `concord demo` (SQLite, the in-process queue, simulated platforms). Screenshots of
// every page are saved in `artifacts/`.
//
// CONCORD_BIN: the `concord` binary (default ../../target/debug/concord);
// CONCORD_DASHBOARD_DIR: the built dashboard (default ../../frontend/dist).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium } from 'playwright-core';

const here = new URL('.', import.meta.url).pathname;
const bin = process.env.CONCORD_BIN ?? resolve(here, '../../target/debug/concord');
const dashboard = process.env.CONCORD_DASHBOARD_DIR ?? resolve(here, '../../frontend/dist');
const artifacts = resolve(here, 'artifacts');
const port = 20000 + Math.floor(Math.random() * 20000);
const base = `http://127.0.0.1:${port}`;
const sim = (i) => `http://127.0.0.1:${port + i}`; // 1 Shopify, 2 WooCommerce, 3 Square, 4 Lightspeed
const DEMO = { email: 'demo@concord.test', password: 'concord-demo' };
const agency = { email: `agency-${port}@concord.test`, password: 'agency-password-1', org: 'Northern Lights Media' };

let demo, dataDir, browser;

before(async () => {
  mkdirSync(artifacts, { recursive: true });
  dataDir = mkdtempSync(join(tmpdir(), 'concord-demo-'));
  demo = spawn(bin, ['demo', '--port', String(port), '--data-dir', dataDir, '--no-traffic',
    '--dashboard-dir', dashboard], { stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  demo.stderr.on('data', (d) => { output += d; });
  await new Promise((ready, fail) => {
    const timer = setTimeout(() => fail(new Error(`the demo did not start:\n${output}`)), 120_000);
    demo.stdout.on('data', (d) => {
      output += d;
      if (output.includes('Concord demo is running')) { clearTimeout(timer); ready(); }
    });
    demo.on('exit', (code) => fail(new Error(`the demo exited with ${code}:\n${output}`)));
  });
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
  demo?.kill('SIGINT');
  await new Promise((done) => (demo?.exitCode !== null ? done() : demo.on('exit', done)));
  rmSync(dataDir, { recursive: true, force: true });
});

/** A new browser context signed in as `who` through the sign-in form. */
async function signIn(who) {
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const page = await context.newPage();
  const started = Date.now();
  await page.goto(`${base}/`);
  await page.getByLabel('Email').waitFor();
  const interactive = Date.now() - started;
  await page.getByLabel('Email').fill(who.email);
  await page.getByLabel('Password').fill(who.password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('navigation', { name: 'Main' }).waitFor();
  return { context, page, interactive };
}

async function open(page, name) {
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true }).click();
  await page.getByRole('heading', { level: 1, name }).waitFor();
  await page.waitForFunction(() => !document.querySelector('main')?.textContent?.includes('Loading…'));
}

/** The CSRF token of the page's session, for API calls made beside the UI. */
async function csrf(page) {
  const me = await (await page.request.get(`${base}/api/v1/me`)).json();
  return me.csrf_token;
}

async function simStock(i, sku) {
  const r = await fetch(`${sim(i)}/_sim/stock?sku=${sku}`);
  return (await r.json()).quantity;
}

test('a newcomer signs up and connects a simulated platform by OAuth', async () => {
  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto(`${base}/`);
  await page.getByRole('tab', { name: 'Sign up' }).click();
  await page.getByLabel('Email').fill(agency.email);
  await page.getByLabel('Password').fill(agency.password);
  await page.getByLabel('Organization').fill(agency.org);
  await page.getByRole('button', { name: 'Create account' }).click();
  await page.getByRole('heading', { level: 1, name: 'Connections' }).waitFor();
  await page.getByText('No platform is connected yet').waitFor();
  const form = page.getByRole('form', { name: 'Connect a platform' });
  await form.getByLabel('Platform', { exact: true }).selectOption('shopify');
  await form.getByLabel('Name', { exact: true }).fill('Web shop');
  await form.getByLabel('Store address (API base URL)').fill(sim(1));
  await form.getByRole('button', { name: 'Continue to the platform' }).click();
  // The platform approves and sends the browser back to Concord's callback, then here.
  await page.waitForURL(/\/connections\/con_.*connected=1/);
  const row = page.getByRole('row', { name: /Web shop/ });
  await row.getByText('active').waitFor();
  await page.screenshot({ path: join(artifacts, 'connections-after-oauth.png'), fullPage: true });
  await context.close();
});

test('the demo shop: every page renders, and a sale on a simulator shows live', async () => {
  const { context, page, interactive } = await signIn(DEMO);
  console.log(`time to interactive (sign-in form usable): ${interactive} ms`);
  await open(page, 'Inventory');
  await page.getByLabel('Search').fill('CRR-0001-DVD');
  const cell = page.locator('td[data-sku="CRR-0001-DVD"][data-channel="Outlet site (WooCommerce)"]');
  await page.waitForFunction(() => document.querySelectorAll('table.inventory tbody tr').length === 1);
  const before = Number.parseInt(await cell.innerText(), 10);
  assert.ok(before > 0, `the demo sells CRR-0001-DVD (${before})`);
  const sold = await fetch(`${sim(1)}/_sim/sale`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ sku: 'CRR-0001-DVD', quantity: 1 }),
  });
  assert.equal(sold.status, 200);
  const soldAt = Date.now();
  // The table changes without a reload (the live stream).
  await page.waitForFunction(
    ([sel, want]) => Number.parseInt(document.querySelector(sel)?.textContent ?? '', 10) === want,
    ['td[data-sku="CRR-0001-DVD"][data-channel="Outlet site (WooCommerce)"]', before - 1],
    { timeout: 10_000 },
  );
  console.log(`sale on Shopify shown in the WooCommerce column after ${Date.now() - soldAt} ms`);
  // Every other simulator shows the new figure.
  for (const i of [2, 3]) {
    for (let tries = 0; (await simStock(i, 'CRR-0001-DVD')) !== before - 1; tries++) {
      assert.ok(tries < 100, `simulator ${i} never showed ${before - 1}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  console.log(`every simulator with webhooks showed it ${Date.now() - soldAt} ms after the sale`);
  // Lightspeed Retail has no webhooks and a write budget of one per ten seconds: it follows
  // on its next write.
  for (let tries = 0; (await simStock(4, 'CRR-0001-DVD')) !== before - 1; tries++) {
    assert.ok(tries < 600, 'Lightspeed never showed the sale');
    await new Promise((r) => setTimeout(r, 100));
  }
  console.log(`Lightspeed showed it ${Date.now() - soldAt} ms after the sale`);
  // And it stays right: no echo of Concord's own writes moves any figure again.
  await new Promise((r) => setTimeout(r, 3000));
  for (const i of [1, 2, 3, 4]) {
    assert.equal(await simStock(i, 'CRR-0001-DVD'), before - 1, `simulator ${i} after 3 s`);
  }
  await page.screenshot({ path: join(artifacts, 'inventory-after-sale.png'), fullPage: true });
  for (const name of ['Portfolio', 'Connections', 'Inventory', 'Orders', 'Activity', 'Compliance', 'Analytics', 'Settings']) {
    await open(page, name);
    await page.screenshot({ path: join(artifacts, `${name.toLowerCase()}.png`), fullPage: true });
  }
  await context.close();
});

test('a compliance officer reads everything and can write nothing', async () => {
  const owner = await signIn(DEMO);
  const me = await (await owner.page.request.get(`${base}/api/v1/me`)).json();
  const tenant = me.memberships[0].tenant_id;
  const officer = { email: `officer-${port}@concord.test`, password: 'officer-password-1' };
  const invited = await owner.page.request.post(`${base}/api/v1/tenants/${tenant}/invitations`, {
    data: { email: officer.email, role: 'compliance_officer' },
    headers: { 'X-CSRF-Token': await csrf(owner.page) },
  });
  assert.equal(invited.status(), 201, await invited.text());
  const { accept_token } = await invited.json();
  const accepted = await fetch(`${base}/api/v1/invitations/accept`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: accept_token, password: officer.password }),
  });
  assert.equal(accepted.status, 200, await accepted.text());
  await owner.context.close();

  const { context, page } = await signIn(officer);
  await page.locator('header .who', { hasText: 'compliance officer' }).waitFor();
  await open(page, 'Inventory');
  await page.getByRole('button', { name: 'CRR-0001-DVD' }).click();
  await page.getByRole('heading', { name: /Ledger history/ }).waitFor();
  assert.equal(await page.getByRole('form', { name: 'Manual adjustment' }).count(), 0);
  await open(page, 'Connections');
  assert.equal(await page.getByRole('button', { name: 'Disconnect' }).count(), 0);
  assert.equal(await page.getByRole('form', { name: 'Connect a platform' }).count(), 0);
  await open(page, 'Settings');
  assert.ok(await page.getByRole('form', { name: 'Organization settings' }).getByLabel('Name').isDisabled());
  await page.screenshot({ path: join(artifacts, 'settings-compliance-officer.png'), fullPage: true });
  // The API refuses too.
  const rows = await (await page.request.get(`${base}/api/v1/tenants/${tenant}/inventory?search=CRR-0001-DVD`)).json();
  const locations = await (await page.request.get(`${base}/api/v1/tenants/${tenant}/locations`)).json();
  const refused = await page.request.post(`${base}/api/v1/tenants/${tenant}/skus/${rows.items[0].sku_id}/adjustments`, {
    data: { location_id: locations[0].id, reason: 'adjustment', quantity: -1, note: 'should not land' },
    headers: { 'X-CSRF-Token': await csrf(page) },
  });
  assert.equal(refused.status(), 403);
  await context.close();
});

test('an agency switches between its organizations', async () => {
  const { context, page } = await signIn(agency);
  await open(page, 'Portfolio');
  await page.getByRole('form', { name: 'New organization' }).getByLabel('Name').fill('Harbour Street Video');
  await page.getByRole('button', { name: 'Create organization' }).click();
  const switcher = page.getByRole('combobox', { name: 'Organization' });
  await page.waitForFunction(() => document.querySelectorAll('select[aria-label=Organization] option').length === 2);
  await page.getByRole('row', { name: /Harbour Street Video/ }).waitFor();
  await page.screenshot({ path: join(artifacts, 'portfolio-agency.png'), fullPage: true });
  // The new organization is selected and has no connection; the first one has the shop.
  await open(page, 'Connections');
  await page.getByText('No platform is connected yet').waitFor();
  await switcher.selectOption({ label: agency.org });
  await page.getByRole('row', { name: /Web shop/ }).waitFor();
  await switcher.selectOption({ label: 'Harbour Street Video' });
  await page.getByText('No platform is connected yet').waitFor();
  await context.close();
});
