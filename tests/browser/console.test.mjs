// End-to-end test of deckd's web console in a real browser (Debian's Chromium, driven by
// playwright-core), against the real binary, together with the add-on's wire protocol.
//
// The whole flow runs once per viewport (desktop 1280x800, phone 390x844), each time on a
// fresh server with an empty data directory:
//   1. first boot: / leads to the setup page; the setup token makes "admin", signed in
//   2. admin makes an invite link; alice signs up with it in another browser
//      (and admin creates bob with the "Create an account" form)
//   3. over the add-on protocol: alice publishes the §9.3 deck, bob logs in
//   4. alice's open review queue shows bob's suggestion live (SSE), without a reload
//   5. the suggestion shows word diffs; alice accepts the tag and one field, denies the
//      other field; the last decision closes it as approved
//   6. a subscriber's /pullChanges carries exactly the accepted changes
//   7. the administrator's box dashboard: its charts load under the CSP; "Back up now"
//      runs in the background and the finished backup is listed
//   8. alice runs her deck: a changelog, a renamed and an added field reach the next pull
//   9. the deck's statistics: the switch turns them on (the add-on's pull says so); two
//      uploads show as tables and charts
// Every page visited is screenshotted into results/ as <viewport>-<nn>-<page>.png.
// Everything is checked through the page (locators, waits), never in the database.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

import { Deckd, DECKD_BIN } from './lib/deckd.mjs';
import {
  Addon, DEMO_NAME, DEMO_UUID, FIRST_PULL_TS, allNotes, note, rootDeck, submitBody, tinyDeck,
} from './lib/wire.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const RESULTS = path.join(HERE, 'results');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 1, isMobile: true, hasTouch: true },
};

const PASSWORDS = { admin: 'admin-correct-horse', alice: 'alice-correct-horse', bob: 'bob-correct-horse' };

// Bob's suggestion on note AbCdEf1234: both fields and one new tag.
const GUID = 'AbCdEf1234';
const OLD_FRONT = 'What is the capital of France?';
const OLD_BACK = 'Paris';
const NEW_FRONT = 'Which city is the capital of France?';
const NEW_BACK = 'Paris, on the Seine';
const NEW_TAG = 'capitals';
const COMMIT_TEXT = 'Clearer question and a fuller answer';

let browser;

before(async () => {
  rmSync(RESULTS, { recursive: true, force: true });
  mkdirSync(RESULTS, { recursive: true });
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // --no-sandbox: CI runs as root. The rest keeps Chromium off the network.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});

after(async () => {
  await browser?.close();
});

/** Text of `locator` is exactly `text` (trimmed); waits for it. */
async function waitForText(locator, text) {
  const exact = new RegExp(`^\\s*${text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s*$`);
  await locator.filter({ hasText: exact }).first().waitFor();
}

/**
 * Layout faults a reader sees, found in the rendered page: a page wider than the screen,
 * and ordinary words split across two lines (e.g. "Withdraw" as "Wit/hdr/aw").
 */
function layoutFaults() {
  const faults = [];
  if (document.documentElement.scrollWidth > window.innerWidth + 1) {
    faults.push(`the page is ${document.documentElement.scrollWidth}px wide on a ${window.innerWidth}px screen`);
  }
  const split = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!el || el.closest('code, pre, textarea, script, style') || !el.checkVisibility()) continue;
    for (const m of n.data.matchAll(/[A-Za-z]{2,}/g)) {
      const range = document.createRange();
      range.setStart(n, m.index);
      range.setEnd(n, m.index + m[0].length);
      const lines = new Set([...range.getClientRects()].filter((r) => r.width > 0).map((r) => Math.round(r.top)));
      if (lines.size > 1) split.push(`"${m[0]}" (<${el.tagName.toLowerCase()}>) on ${lines.size} lines`);
    }
  }
  if (split.length) faults.push(`words split across lines: ${split.join(', ')}`);
  return faults;
}

/** The demo deck's image, never uploaded here: its preview on the deck page is a 404. */
const MISSING_MEDIA = /\/console\/decks\/[a-z-]+\/media\?name=red1x1\.png$/;

const accountLink = (page) => page.locator('header nav a[href="/console/account"]');
const reviewCount = (page) => page.locator('header [data-count-total]');

for (const [vp, contextOptions] of Object.entries(VIEWPORTS)) {
  const { width, height } = contextOptions.viewport;

  test(`console review flow at ${vp} size (${width}x${height})`, { timeout: 180_000 }, async (t) => {
    const server = await Deckd.start(path.join(RESULTS, `${vp}-deckd.log`));
    const base = server.base;
    const addon = new Addon(base);
    const contexts = [];
    const problems = [];
    const layout = [];
    const diffLayout = [];
    let failed = false;

    /** A page in a browser context of its own (its own cookies: one user). */
    async function newUserPage(who) {
      const ctx = await browser.newContext(contextOptions);
      ctx.setDefaultTimeout(15_000);
      contexts.push(ctx);
      const page = await ctx.newPage();
      page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
      page.on('console', (m) => {
        // A file that failed to load is reported with its address by the listener below.
        if (m.type() === 'error' && !m.location().url.endsWith('/favicon.ico')
            && !m.text().startsWith('Failed to load resource')) {
          problems.push(`${who}: console error at ${page.url()}: ${m.text()}`);
        }
      });
      page.on('response', (r) => {
        const kind = r.request().resourceType();
        if (r.status() >= 400 && kind !== 'document' && !MISSING_MEDIA.test(r.url())) {
          problems.push(`${who}: ${kind} ${r.url()} answered ${r.status()} on ${page.url()}`);
        }
      });
      return page;
    }

    /** Screenshot of a page visited; its layout is checked on the way (see layoutFaults). */
    async function shot(page, name) {
      for (const fault of await page.evaluate(layoutFaults)) layout.push(`${name} (${new URL(page.url()).pathname}): ${fault}`);
      await page.screenshot({ path: path.join(RESULTS, `${vp}-${name}.png`), fullPage: true });
    }

    /** One step as a subtest; after a failure the rest are skipped and every open page is captured. */
    async function step(name, fn) {
      await t.test(name, async (st) => {
        if (failed) {
          st.skip('an earlier step failed');
          return;
        }
        try {
          await fn();
        } catch (e) {
          failed = true;
          let n = 0;
          for (const ctx of contexts) {
            for (const page of ctx.pages()) {
              n += 1;
              await page
                .screenshot({ path: path.join(RESULTS, `${vp}-FAILED-${n}.png`), fullPage: true })
                .catch(() => {});
              st.diagnostic(`page ${n} was at ${page.url()} (results/${vp}-FAILED-${n}.png)`);
            }
          }
          st.diagnostic(`deckd log tail (results/${vp}-deckd.log):`);
          for (const line of server.logTail(20).split('\n')) st.diagnostic(line);
          throw e;
        }
      });
    }

    /** A check of what the flow collected on the way; runs even after a failed step. */
    async function check(name, fn) {
      await t.test(name, fn);
    }

    let admin; let alice; let inviteLink; let aliceToken; let bobToken; let hash; let publishedOther;

    try {
      await step('1. first boot: / leads to setup; the setup token creates the signed-in administrator', async () => {
        admin = await newUserPage('admin');
        const res = await admin.goto(`${base}/`);
        assert.equal(new URL(admin.url()).pathname, '/console/setup', 'GET / must redirect to the setup page');
        assert.ok(res.request().redirectedFrom(), 'GET / was redirected');
        await admin.getByRole('heading', { name: 'Set up this deckd box' }).waitFor();
        // Before setup no page of the console is reachable: they all lead back here.
        await admin.goto(`${base}/console/login`);
        assert.equal(new URL(admin.url()).pathname, '/console/setup');

        const form = admin.locator('form[action="/console/setup"]');
        await form.getByLabel('Setup token').fill(server.setupToken());
        await form.getByLabel("Administrator's username").fill('admin');
        await form.getByLabel('Password').fill(PASSWORDS.admin);
        await shot(admin, '01-setup');
        await form.getByRole('button', { name: 'Create the administrator' }).click();
        await admin.waitForURL(`${base}/console/admin/users`);
        await waitForText(accountLink(admin), 'admin');
        await admin.locator('header nav a[href="/console/admin/users"]').waitFor();
        await admin.locator('tr[data-user="admin"] .pill', { hasText: 'admin' }).waitFor();
        await shot(admin, '02-admin-users');
      });

      await step('2. an invite link made on the admin page signs alice up in another browser', async () => {
        await admin.locator('main a[href="/console/admin/invites"]').click();
        await admin.waitForURL(`${base}/console/admin/invites`);
        await admin.getByRole('heading', { name: 'Invite links' }).waitFor();
        await admin.getByRole('button', { name: 'Make an invite link' }).click();
        const link = admin.locator('#invite-link');
        await link.waitFor();
        inviteLink = (await link.textContent()).trim();
        assert.match(inviteLink, new RegExp(`^${base}/console/invite/\\S+$`), 'the invite link points at this server');
        await shot(admin, '03-invites');

        alice = await newUserPage('alice');
        await alice.goto(inviteLink);
        await alice.getByRole('heading', { name: 'Create your account' }).waitFor();
        const form = alice.locator('main form');
        await form.getByLabel('Username').fill('alice');
        await form.getByLabel('Password').fill(PASSWORDS.alice);
        await shot(alice, '04-signup');
        await form.getByRole('button', { name: 'Create account' }).click();
        await alice.waitForURL(`${base}/console/account`);
        await waitForText(accountLink(alice), 'alice');
        await waitForText(alice.locator('main h1'), 'alice');
        await alice.locator('main .pill', { hasText: 'this one' }).waitFor();
        assert.equal(await alice.locator('header nav a[href="/console/admin/users"]').count(), 0,
          'alice is no administrator');
        await shot(alice, '05-account');

        // The invite is used up, and the admin's list says by whom.
        await admin.goto(`${base}/console/admin/invites`);
        await admin.locator('main table tr', { hasText: 'alice' }).waitFor();
      });

      await step('2b. the administrator creates bob with the "Create an account" form', async () => {
        await admin.goto(`${base}/console/admin/users`);
        const form = admin.locator('form[action="/console/admin/users"]');
        await form.getByLabel('Username').fill('bob');
        await form.getByLabel('Password').fill(PASSWORDS.bob);
        await form.getByRole('button', { name: 'Create' }).click();
        await admin.waitForURL((u) => u.pathname === '/console/admin/users' && u.searchParams.get('done') === 'created');
        await waitForText(admin.getByRole('status'), 'bob can now sign in.');
        await admin.locator('tr[data-user="bob"]').waitFor();
        await admin.locator('tr[data-user="alice"]').waitFor();
        await shot(admin, '06-admin-users-created');
      });

      await step('3. over the add-on protocol: alice logs in and publishes a deck, bob logs in', async () => {
        aliceToken = await addon.login('alice', PASSWORDS.alice);
        hash = await addon.publish(aliceToken, tinyDeck());
        bobToken = await addon.login('bob', PASSWORDS.bob);
        // A subscriber sees the published note as it is.
        const [entry] = await addon.pull(hash, FIRST_PULL_TS);
        const n = allNotes(entry.deck).find((x) => x.guid === GUID);
        assert.deepEqual(n.fields, [OLD_FRONT, OLD_BACK]);
        publishedOther = allNotes(entry.deck).find((x) => x.guid === 'XyZ9876543');
        assert.ok(publishedOther, 'the second note was published');
      });

      await step("4. bob's suggestion appears in alice's open review queue without a reload", async () => {
        // The page's event stream must be open before bob submits, or the event is missed.
        const events = alice.waitForResponse((r) => new URL(r.url()).pathname === '/console/events');
        await alice.goto(`${base}/console/review`);
        assert.equal((await events).status(), 200, 'the SSE stream /console/events opened');
        await alice.getByRole('heading', { name: 'Suggestions to review' }).waitFor();
        await alice.locator('nav.filters a', { hasText: DEMO_NAME }).waitFor();
        await waitForText(alice.locator(`[data-count-deck="${hash}"]`), '0');
        await waitForText(reviewCount(alice), '0');
        await alice.locator('#queue-empty').waitFor();
        assert.equal(await alice.locator('#queue-list li[data-commit]').count(), 0);
        await shot(alice, '07-queue-before');
        await alice.evaluate(() => { window.deckdTestNoReload = true; });

        const edited = note(GUID, [NEW_FRONT, NEW_BACK], ['geo', NEW_TAG], 1718900000001);
        await addon.submit(bobToken, submitBody({
          remoteDeck: hash,
          deckPath: DEMO_NAME,
          newName: DEMO_NAME,
          deck: rootDeck(DEMO_NAME, DEMO_UUID, 'Tiny demo deck', [edited]),
          rationale: 2,
          commitText: COMMIT_TEXT,
          forceOverwrite: false,
        }));

        await waitForText(reviewCount(alice), '1');
        await waitForText(alice.locator(`[data-count-deck="${hash}"]`), '1');
        const item = alice.locator('#queue-list li[data-commit]');
        await item.waitFor();
        assert.equal(await item.count(), 1);
        const text = await item.textContent();
        assert.match(text, /by bob/);
        assert.match(text, new RegExp(COMMIT_TEXT));
        assert.equal(await alice.locator('#queue-empty').count(), 0);
        assert.equal(await alice.evaluate(() => window.deckdTestNoReload), true,
          'the queue page was updated in place, not reloaded');
        await shot(alice, '08-queue-live');
      });

      await step('5. the suggestion shows word diffs; per-change decisions close it as approved', async () => {
        await alice.locator('#queue-list li[data-commit] a').click();
        await alice.waitForURL(/\/console\/review\/\d+$/);
        await waitForText(alice.locator('#status'), 'pending');
        await alice.getByRole('heading', { name: /suggestion #\d+/ }).waitFor();

        const fields = alice.locator('[data-field]');
        assert.equal(await fields.count(), 2, 'two field changes');
        const row = (name) => alice.locator('[data-field]').filter({
          has: alice.locator('.actions > strong', { hasText: new RegExp(`^${name}$`) }),
        });
        const front = row('Front');
        const back = row('Back');
        await waitForText(front.locator('.diff del'), 'What');
        await waitForText(front.locator('.diff ins'), 'Which city');
        await waitForText(back.locator('.diff del'), OLD_BACK);
        await waitForText(back.locator('.diff ins'), NEW_BACK);
        const tag = alice.locator('[data-tag]');
        assert.equal(await tag.count(), 1, 'one tag change');
        await waitForText(tag.locator('ins'), `+ ${NEW_TAG}`);
        // A word diff reads as one sentence: the removed and the added words share a line.
        const del = await front.locator('.diff del').first().boundingBox();
        const ins = await front.locator('.diff ins').first().boundingBox();
        if (Math.abs(del.y - ins.y) > 2) {
          diffLayout.push(`the Front diff shows <del>What</del> at y=${del.y} and <ins>Which city</ins> at y=${ins.y}: `
            + 'removed, added and unchanged words each get a line of their own instead of reading inline');
        }
        await shot(alice, '09-suggestion');
        // The edit page of a suggested field, looked at and left unsaved.
        const suggestionUrl = alice.url();
        await back.locator('a[href$="/edit"]').click();
        await alice.getByRole('heading', { name: 'Edit the suggested field' }).waitFor();
        await shot(alice, '09b-edit-field');
        await alice.goto(suggestionUrl);
        await waitForText(alice.locator('#status'), 'pending');

        const accept = (r) => r.locator('button[formaction$="/accept"]');
        const deny = (r) => r.locator('button[formaction$="/deny"]');
        // Each decision posts, and the page comes back without the decided change.
        await accept(tag).click();
        await tag.waitFor({ state: 'detached' });
        await waitForText(alice.locator('#status'), 'pending');
        await accept(front).click();
        await front.waitFor({ state: 'detached' });
        await waitForText(alice.locator('#status'), 'pending');
        assert.equal(await back.count(), 1, 'the Back change still waits');
        await deny(back).click();
        await back.waitFor({ state: 'detached' });

        // That was the last change: the suggestion is closed, approved (something was accepted).
        await waitForText(alice.locator('#status'), 'approved');
        assert.equal(await alice.locator('main [formaction$="/accept"], main [formaction$="/deny"], main form[action$="/approve"]').count(), 0,
          'a closed suggestion offers no decisions');
        assert.equal(await alice.getByRole('heading', { name: 'Decide the whole suggestion' }).count(), 0);
        await waitForText(reviewCount(alice), '0');
        await shot(alice, '10-decided');

        await alice.locator('main a', { hasText: 'All suggestions' }).click();
        await alice.waitForURL(`${base}/console/review`);
        await alice.locator('#queue-empty').waitFor();
        await waitForText(alice.locator(`[data-count-deck="${hash}"]`), '0');
        await shot(alice, '11-queue-after');
      });

      await step("5b. a notetype suggestion shows its template's and styling's source as diffs", async () => {
        const deck = rootDeck(DEMO_NAME, DEMO_UUID, 'Tiny demo deck',
          [note(GUID, [NEW_FRONT, OLD_BACK], ['geo', NEW_TAG], 1718900000001)]);
        deck.note_models[0].tmpls[0].qfmt = '{{Front}} <i>think of the Seine</i>';
        deck.note_models[0].css = '.card { font-family: georgia; font-size: 22px; text-align: center; }';
        await addon.submit(bobToken, submitBody({
          remoteDeck: hash,
          deckPath: DEMO_NAME,
          newName: DEMO_NAME,
          deck,
          rationale: 2,
          commitText: 'A hint on the front and a serif font',
          forceOverwrite: false,
        }));
        await alice.goto(`${base}/console/review`);
        await alice.locator('#queue-list li[data-commit] a').click();
        await alice.waitForURL(/\/console\/review\/\d+$/);
        const change = alice.locator('section[data-notetype]');
        await change.waitFor();
        const sources = change.locator('pre.source');
        assert.equal(await sources.count(), 2, "the template's front and the styling");
        await waitForText(sources.nth(0).locator('ins').last(), 'Seine</i>');
        await waitForText(sources.nth(1).locator('del').first(), 'arial;');
        await waitForText(sources.nth(1).locator('ins').first(), 'georgia;');
        assert.equal(await alice.locator('section[data-notetype] i').count(), 0,
          'the suggested markup is shown as text, never rendered');
        await shot(alice, '11b-notetype-suggestion');
        await change.locator('button[formaction$="/deny"]').click();
        await waitForText(alice.locator('#status'), 'denied');
      });

      await step('6. a subscriber pull carries the accepted changes and not the denied one', async () => {
        const entries = await addon.pull(hash, FIRST_PULL_TS);
        assert.equal(entries.length, 1, `one entry expected: ${JSON.stringify(entries)}`);
        assert.equal(entries[0].deck_hash, hash);
        const notes = allNotes(entries[0].deck);
        const n = notes.find((x) => x.guid === GUID);
        assert.ok(n, `note ${GUID} in the pull`);
        assert.deepEqual(n.fields, [NEW_FRONT, OLD_BACK], 'Front accepted, Back denied');
        assert.deepEqual([...n.tags].sort(), ['capitals', 'geo'], 'the added tag was accepted');
        // The other note, if sent again at all, is as it was published (fields as stored, cleaned).
        const other = notes.find((x) => x.guid === 'XyZ9876543');
        if (other) assert.deepEqual(other, publishedOther, 'the other note is untouched');
      });

      await step("7. the administrator's box dashboard shows its charts and backs up in the background", async () => {
        await admin.goto(`${base}/console/account`);
        await admin.locator('header nav a[href="/console/admin/box"]').click();
        await admin.waitForURL(`${base}/console/admin/box`);
        await admin.getByRole('heading', { name: 'Box', exact: true }).waitFor();
        for (const name of ['Resources', 'Last 24 hours', 'Requests', 'Backups', 'Media']) {
          await admin.getByRole('heading', { name, exact: true }).waitFor();
        }
        // Every chart is an SVG image the CSP lets the browser draw.
        const charts = admin.locator('main img');
        assert.equal(await charts.count(), 6, 'five resource charts and the requests chart');
        await admin.waitForFunction(() => [...document.querySelectorAll('main img')]
          .every((i) => i.complete && i.naturalWidth > 0));
        await admin.locator('tr[data-media="alice"]').waitFor();
        await shot(admin, '12-box');

        await admin.getByRole('button', { name: 'Back up now' }).click();
        await admin.waitForURL((u) => u.pathname === '/console/admin/box' && u.searchParams.get('backup') === 'started');
        // The page reloads itself while the backup runs; the finished backup is listed.
        await admin.locator('tr[data-backup]').first().waitFor({ timeout: 60_000 });
        await admin.getByRole('button', { name: 'Back up now' }).waitFor();
        await waitForText(admin.locator('tr[data-backup] td').nth(3), 'yes');
        await admin.locator('#backup-last .pill', { hasText: 'ok' }).waitFor();
        await shot(admin, '13-box-backed-up');
        const chart = await admin.request.get(`${base}/console/admin/box/chart/cpu.svg`);
        assert.equal(chart.headers()['content-type'], 'image/svg+xml');
        assert.match(await chart.text(), /warning at 80 %/);
      });

      await step('8. alice runs her deck: a changelog, a renamed and an added field; the next pull carries both', async () => {
        await alice.goto(`${base}/console/review`);
        await alice.locator('header nav a[href="/console/decks"]').click();
        await alice.waitForURL(`${base}/console/decks`);
        await alice.getByRole('heading', { name: 'My decks' }).waitFor();
        await shot(alice, '14-decks');
        await alice.locator('main a', { hasText: DEMO_NAME }).first().click();
        await alice.locator('h1', { hasText: DEMO_NAME }).waitFor();
        await alice.locator('article.note').first().waitFor();
        await shot(alice, '15-deck');

        await alice.locator('summary', { hasText: 'Post a changelog' }).click();
        await alice.locator('textarea[name="message"]').fill('Back is now called Answer; a new Source field.');
        await alice.getByRole('button', { name: 'Post', exact: true }).click();
        await alice.locator('.notice', { hasText: 'changelog is posted' }).waitFor();

        await alice.locator('main a[href*="/notetypes/"]').first().click();
        await alice.locator('h1', { hasText: 'Notetype' }).waitFor();
        await shot(alice, '16-notetype');
        await alice.locator('input[name="f1.name"]').fill('Answer');
        await alice.locator('input[name="new.name"]').fill('Source');
        await alice.getByRole('button', { name: 'Save the notetype' }).click();
        await alice.locator('.notice', { hasText: 'Saved' }).waitFor();
        assert.equal(await alice.locator('input[name="f1.name"]').inputValue(), 'Answer');
        assert.equal(await alice.locator('input[name="f2.name"]').inputValue(), 'Source');

        const [entry] = await addon.pull(hash, FIRST_PULL_TS);
        const model = entry.deck.note_models[0];
        assert.deepEqual(model.flds.map((f) => f.name), ['Front', 'Answer', 'Source']);
        assert.match(model.tmpls[0].afmt, /\{\{Answer\}\}/, 'the template follows the rename');
        const n = allNotes(entry.deck).find((x) => x.guid === GUID);
        assert.deepEqual(n.fields, [NEW_FRONT, OLD_BACK, ''], 'content kept, the new field empty');
        assert.match(entry.changelog, /Back is now called Answer/);

        await alice.goto(`${base}/console/decks/${hash}/settings`);
        await alice.locator('h1', { hasText: 'Settings of' }).waitFor();
        await shot(alice, '17-settings');
        await alice.goto(`${base}/console/decks/${hash}/notes/${GUID}`);
        await alice.getByRole('heading', { name: 'History' }).waitFor();
        await shot(alice, '18-note');
      });

      await step("9. the deck's statistics: off with a switch, then two subscribers' figures as charts and tables", async () => {
        await alice.goto(`${base}/console/decks/${hash}`);
        await alice.locator('main a', { hasText: 'Statistics' }).click();
        await alice.waitForURL(`${base}/console/decks/${hash}/stats`);
        await alice.locator('#stats-off').waitFor();
        await shot(alice, '19-stats-off');
        await alice.getByRole('button', { name: 'Turn statistics on' }).click();
        await alice.waitForURL((u) => u.pathname === `/console/decks/${hash}/stats` && u.searchParams.get('done') === 'on');
        await alice.locator('#no-figures').waitFor();
        const [entry] = await addon.pull(hash, FIRST_PULL_TS);
        assert.equal(entry.stats_enabled, true, 'the add-on learns that the deck asks for statistics');

        await addon.subscribe(bobToken, hash);
        await addon.uploadStats(bobToken, hash, { [DEMO_NAME]: {
          [GUID]: { retention: 62, lapses: 5, reps: 14 }, XyZ9876543: { retention: 91, lapses: 0, reps: 9 } } });
        await addon.uploadStats(aliceToken, hash, { [DEMO_NAME]: {
          [GUID]: { retention: 48, lapses: 7, reps: 16 }, XyZ9876543: { retention: 95, lapses: 1, reps: 8 } } });
        await alice.goto(`${base}/console/decks/${hash}/stats`);
        await waitForText(alice.locator('#reporters'), '2');
        await waitForText(alice.locator('#notes-reported'), '2');
        await waitForText(alice.locator('#subscribers-now'), '1');
        const hardest = alice.locator('#hardest tr[data-guid]');
        assert.deepEqual(await hardest.evaluateAll((rows) => rows.map((r) => r.dataset.guid)), [GUID, 'XyZ9876543'],
          'the note with the lowest retention first');
        await waitForText(hardest.first().locator('td').nth(1), '55.0 %');
        // Every chart is an SVG image the CSP lets the browser draw.
        const charts = alice.locator('main img.chart');
        assert.equal(await charts.count(), 6, 'subdecks, hardest notes, two spreads, subscribers, suggestions');
        await alice.waitForFunction(() => [...document.querySelectorAll('main img.chart')]
          .every((i) => i.complete && i.naturalWidth > 0));
        await alice.locator('#weeks').evaluate((t) => { t.closest('details').open = true; });
        await shot(alice, '20-stats');
      });

      await check('the pages raised no script errors and broke no content-security rule', async () => {
        assert.deepEqual(problems, []);
      });

      await check('word diffs read inline, within the sentence', async () => {
        assert.deepEqual(diffLayout, []);
      });

      await check(`every page fits the ${width}px screen and keeps its words whole`, async () => {
        assert.deepEqual(layout, []);
      });
    } finally {
      for (const ctx of contexts) await ctx.close().catch(() => {});
      await server.stop();
    }

    const shots = readdirSync(RESULTS).filter((f) => f.startsWith(`${vp}-`) && f.endsWith('.png'));
    t.diagnostic(`${shots.length} screenshots in ${RESULTS} (binary ${DECKD_BIN})`);
  });
}
