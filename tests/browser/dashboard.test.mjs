// The dashboard's browser test: Debian's chromium, headless, driven by playwright-core.
//
// Run by tests/scenario/test_browser.py against a real two-node cluster and lkweb on node1:
//   node dashboard.test.mjs --url URL --admin-token T --guest-token G --operator-token O --tag web
//        --child db --slow slow --artifacts DIR
// It signs in with the admin token, sees TAG in service on node1, switches it over to node2
// with the button and the confirmation dialog, sees it in service on node2, then prints
// "KILL <tag> node2" and waits for a line on stdin (the pytest side kills the application's
// process by pid and answers "KILLED"), and sees the incident appear with its cause. It saves
// restores SLOW with its button (its restore waits for a gate: "GATE <tag>" on stdout, the
// pytest side opens it and answers "OPENED") and sees "restore in progress", turns its
// monitoring off and on again (each seen in its row), then saves
// screenshots at 1366x768 and 390x844 under DIR, signs in with the guest token and checks
// that no action button exists, and fails on any page error or console error of the
// dashboard (the only console error let through is the browser's own line for the expected
// 401 of the session probe before signing in).
import { chromium } from 'playwright-core';
import { createInterface } from 'node:readline';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const args = {};
for (let i = 2; i < process.argv.length; i += 2) {
    args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
for (const k of ['url', 'admin-token', 'guest-token', 'tag', 'artifacts']) {
    if (!args[k]) {
        console.error(`usage: node dashboard.test.mjs --url URL --admin-token T --guest-token G ` +
                      `--tag TAG [--child TAG] [--slow TAG] [--operator-token T] --artifacts DIR (missing --${k})`);
        process.exit(2);
    }
}
const URL = args.url;
const TAG = args.tag;
const CHILD = args.child || null;
const SLOW = args.slow || null;
const ART = args.artifacts;
const BOUND = 90000; /* generous: a loaded two-core machine */
mkdirSync(ART, { recursive: true });

const problems = [];
const stdinLines = createInterface({ input: process.stdin });
const lineQueue = [];
let lineWaiter = null;
stdinLines.on('line', (l) => {
    if (lineWaiter) {
        const w = lineWaiter;
        lineWaiter = null;
        w(l);
    } else {
        lineQueue.push(l);
    }
});
function nextLine(timeoutMs) {
    if (lineQueue.length) {
        return Promise.resolve(lineQueue.shift());
    }
    return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error('no answer on stdin')), timeoutMs);
        lineWaiter = (l) => {
            clearTimeout(t);
            resolve(l);
        };
    });
}

function step(text) {
    console.log(`STEP ${text}`);
}

/* Page errors and console errors of the dashboard fail the test. */
function watch(page, who) {
    let signedIn = false;
    page.on('pageerror', (e) => problems.push(`${who}: page error: ${e.message}`));
    page.on('console', (m) => {
        if (m.type() !== 'error') {
            return;
        }
        const text = m.text();
        if (!signedIn && /status of 401/.test(text)) {
            return; /* GET /api/v1/session before signing in: expected, handled */
        }
        problems.push(`${who}: console error: ${text} (${JSON.stringify(m.location())})`);
    });
    return () => {
        signedIn = true;
    };
}

function cell(tag, node) {
    return `[data-hierarchy="${TAG}"] tr[data-tag="${tag}"] td[data-node="${node}"]`;
}

async function waitState(page, tag, node, st, what) {
    await page.waitForSelector(`${cell(tag, node)}[data-state="${st}"]`, { timeout: BOUND })
            .catch(async (e) => {
                const now = await page.$$eval(`[data-hierarchy="${TAG}"] td[data-node]`,
                                              (tds) => tds.map((td) => `${td.closest('tr').dataset.tag}@${td.dataset.node}=${td.dataset.state}`));
                throw new Error(`${what}: ${tag} never showed ${st} on ${node} (cells: ${now.join(' ')}): ${e.message}`);
            });
}

async function signIn(page, token, who, shot) {
    const signedIn = watch(page, who);
    await page.goto(URL, { waitUntil: 'load' });
    await page.waitForSelector('#login:not([hidden])', { timeout: BOUND });
    if (shot) {
        await page.screenshot({ path: shot });
        console.log(`SCREENSHOT ${shot}`);
    }
    /* The login form is labelled: find the field by its label as a screen reader would. */
    await page.getByLabel('Access token').fill(token);
    signedIn();
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.waitForSelector('#main:not([hidden])', { timeout: BOUND });
    await page.waitForSelector(`[data-hierarchy="${TAG}"]`, { timeout: BOUND });
}

async function noHorizontalOverflow(page, what) {
    const o = await page.evaluate(() => ({ sw: document.documentElement.scrollWidth, w: window.innerWidth }));
    if (o.sw > o.w + 1) {
        problems.push(`${what}: the page is ${o.sw} px wide in a ${o.w} px window (only tables may scroll)`);
    }
}

/* The Restore button of SLOW (a resource out of service whose restore waits for a gate the
 * pytest side opens): the dialog runs, the hierarchy shows "restore in progress", then the
 * gate opens and the result and the state arrive. */
async function slowRestore(page) {
    step(`restore ${SLOW}: restore in progress, then in service`);
    await page.waitForSelector(`[data-hierarchy="${SLOW}"] td[data-node="node1"][data-state="OSU"]`,
                               { timeout: BOUND });
    await page.locator(`[data-hierarchy="${SLOW}"]`).getByRole('button', { name: 'Restore' }).click();
    const what = await page.textContent('#confirm-what');
    if (!what.startsWith(`Brings ${SLOW} in service`)) {
        problems.push(`the restore's confirmation says '${what}'`);
    }
    const cmd = (await page.textContent('#confirm-cmd')).trim();
    if (cmd !== `lkcli resource restore --tag ${SLOW}`) {
        problems.push(`the restore's confirmation shows '${cmd}'`);
    }
    await page.locator('dialog#confirm').getByRole('button', { name: 'Restore' }).click();
    await page.waitForSelector('dialog#confirm[data-phase="running"]', { timeout: BOUND });
    await page.waitForFunction((tag) => {
        const b = document.querySelector(`[data-hierarchy="${tag}"] .hier-head .busy`);
        return b && /restore in progress/.test(b.textContent);
    }, SLOW, { timeout: BOUND });
    console.log(`GATE ${SLOW}`);
    const answer = await nextLine(BOUND);
    if (answer.trim() !== 'OPENED') {
        throw new Error(`the test runner answered '${answer}' instead of OPENED`);
    }
    await page.waitForSelector('dialog#confirm[data-phase="done"], dialog#confirm[data-phase="failed"]',
                               { timeout: BOUND });
    const result = await page.textContent('#confirm-progress');
    if ((await page.getAttribute('dialog#confirm', 'data-phase')) !== 'done') {
        throw new Error(`the restore of ${SLOW} failed: ${result}`);
    }
    await page.locator('dialog#confirm').getByRole('button', { name: 'Close' }).click();
    await page.waitForSelector(`[data-hierarchy="${SLOW}"] td[data-node="node1"][data-state="ISP"]`,
                               { timeout: BOUND });
    await page.waitForFunction((tag) => !document.querySelector(`[data-hierarchy="${tag}"] .hier-head .busy`),
                               SLOW, { timeout: BOUND });
}

/* An admin's Monitor off, then on again, on SLOW: each confirmed, each seen in its row. */
async function monitorOffOn(page) {
    for (const [word, chip] of [['off', true], ['on', false]]) {
        step(`monitor ${word} for ${SLOW}`);
        await page.getByRole('button', { name: `Turn monitoring of ${SLOW} ${word}` }).click();
        const cmd = (await page.textContent('#confirm-cmd')).trim();
        if (cmd !== `lkcli resource config --tag ${SLOW} --monitor ${word}`) {
            problems.push(`monitor ${word}: the confirmation shows '${cmd}'`);
        }
        await page.locator('dialog#confirm').getByRole('button', { name: `Monitor ${word}` }).click();
        await page.waitForSelector('dialog#confirm[data-phase="done"], dialog#confirm[data-phase="failed"]',
                                   { timeout: BOUND });
        if ((await page.getAttribute('dialog#confirm', 'data-phase')) !== 'done') {
            throw new Error(`monitor ${word} failed: ${await page.textContent('#confirm-progress')}`);
        }
        await page.locator('dialog#confirm').getByRole('button', { name: 'Close' }).click();
        await page.waitForFunction(([tag, want]) => {
            const row = document.querySelector(`[data-hierarchy="${tag}"] tr[data-tag="${tag}"]`);
            return row && /monitor off/.test(row.querySelector('th').textContent) === want;
        }, [SLOW, chip], { timeout: BOUND });
    }
}

async function main() {
    const browser = await chromium.launch({
        executablePath: process.env.LK_CHROMIUM || '/usr/bin/chromium',
        args: ['--no-sandbox'],
        headless: true,
    });
    try {
        /* ---------------------------------------------------------------- admin, laptop */
        const laptop = await browser.newContext({ viewport: { width: 1366, height: 768 } });
        const page = await laptop.newPage();
        step('sign in as admin');
        await signIn(page, args['admin-token'], 'admin');
        const role = await page.textContent('#role');
        if (!/admin/.test(role)) {
            problems.push(`the header shows role '${role}', not admin`);
        }
        await page.waitForSelector('#live[data-live="yes"]', { timeout: BOUND });
        const where = await page.textContent('#where');
        if (!/node1/.test(where)) {
            problems.push(`the header does not name node1: '${where}'`);
        }
        /* LOUD: two nodes, quorum none, no fencing. */
        const banners = await page.textContent('#banners');
        if (!/quorum: none/i.test(banners) || !/no fencing/i.test(banners)) {
            problems.push(`the quorum none / no fencing banners are missing: '${banners}'`);
        }
        step(`${TAG} ISP on node1`);
        await waitState(page, TAG, 'node1', 'ISP', 'start');
        await waitState(page, TAG, 'node2', 'OSU', 'start');
        const badge = (await page.textContent(`${cell(TAG, 'node1')} .badge`)).trim();
        if (!/ISP/.test(badge) || !/in service/.test(badge)) {
            problems.push(`the badge says '${badge}': the state word must be written`);
        }
        if (CHILD) {
            /* Dependency order: the parent's row above the child's. */
            const order = await page.$$eval(`[data-hierarchy="${TAG}"] tbody tr[data-tag]`,
                                            (trs) => trs.map((t) => t.dataset.tag));
            if (order.indexOf(TAG) !== 0 || order.indexOf(CHILD) !== 1) {
                problems.push(`rows not in dependency order: ${order.join(', ')}`);
            }
        }
        const owner = await page.getAttribute(`[data-hierarchy="${TAG}"] [data-owner]`, 'data-owner');
        if (owner !== 'node1') {
            problems.push(`owner shown as '${owner}', not node1`);
        }

        step(`switch ${TAG} over to node2 with the button and its confirmation`);
        await page.getByRole('button', { name: 'Switch over to node2' }).click();
        const dialog = page.locator('dialog#confirm');
        await dialog.waitFor({ state: 'visible', timeout: BOUND });
        const what = await page.textContent('#confirm-what');
        const moved = CHILD ? `${TAG} and ${CHILD}` : TAG;
        if (!what.includes(`Moves ${moved} from node1 to node2`)) {
            problems.push(`the confirmation does not say what will happen: '${what}'`);
        }
        const cmd = await page.textContent('#confirm-cmd');
        if (cmd.trim() !== `lkcli resource restore --tag ${TAG} --node node2`) {
            problems.push(`the confirmation shows '${cmd}' as the lkcli command`);
        }
        await page.screenshot({ path: join(ART, 'dashboard-confirm-1366x768.png') });
        await dialog.getByRole('button', { name: 'Switch over to node2' }).click();
        await page.waitForSelector('dialog#confirm[data-phase="done"], dialog#confirm[data-phase="failed"]',
                                   { timeout: BOUND });
        const phase = await dialog.getAttribute('data-phase');
        const result = await page.textContent('#confirm-progress');
        if (phase !== 'done') {
            throw new Error(`the switchover failed: ${result}`);
        }
        await dialog.getByRole('button', { name: 'Close' }).click();
        step(`${TAG} ISP on node2`);
        await waitState(page, TAG, 'node2', 'ISP', 'after the switchover');
        await waitState(page, TAG, 'node1', 'OSU', 'after the switchover');
        if (CHILD) {
            await waitState(page, CHILD, 'node2', 'ISP', 'after the switchover');
        }

        /* ---------------------------------------------------------------- the incident */
        console.log(`KILL ${TAG} node2`);
        const answer = await nextLine(BOUND);
        if (answer.trim() !== 'KILLED') {
            throw new Error(`the test runner answered '${answer}' instead of KILLED`);
        }
        step('the incident appears with its cause');
        const rc = page.locator(`[data-incident="${TAG}"] .root-cause`);
        await page.waitForFunction(
                ([tag]) => {
                    const el = document.querySelector(`[data-incident="${tag}"] .root-cause`);
                    return el && /node2/.test(el.textContent) && /failed/.test(el.textContent);
                },
                [TAG], { timeout: BOUND });
        const cause = (await rc.textContent()).replace(/\s+/g, ' ').trim();
        step(`root cause shown: ${cause}`);
        if (!cause.includes(`node2: ${TAG}:`)) {
            problems.push(`the root cause does not name node2 and ${TAG}: '${cause}'`);
        }
        /* The live event stream shows the failure without a reload. */
        await page.waitForFunction(
                () => [...document.querySelectorAll('#events tbody tr')].some(
                        (tr) => /node2/.test(tr.textContent) && /ERROR/.test(tr.textContent)),
                null, { timeout: BOUND });
        /* Failed over back to node1. */
        await waitState(page, TAG, 'node1', 'ISP', 'after the failover');
        await page.waitForSelector(`[data-incident="${TAG}"] .timeline li`, { timeout: BOUND });
        /* The filters ask lkweb again: node2's errors only. */
        step('filter the events: node2, ERROR');
        await page.locator('#f-node').selectOption('node2');
        await page.locator('#f-sev').selectOption('ERROR');
        await page.waitForFunction(() => {
            const rows = [...document.querySelectorAll('#events tbody tr:not(.empty)')];
            return rows.length > 0 && rows.every((tr) => tr.cells[1].textContent === 'node2' &&
                                                         tr.cells[2].textContent === 'ERROR');
        }, null, { timeout: BOUND });
        await page.locator('#f-node').selectOption('');
        await page.locator('#f-sev').selectOption('');
        await page.waitForFunction(() => new Set([...document.querySelectorAll('#events tbody tr')]
                                                         .map((tr) => tr.cells[1] && tr.cells[1].textContent)).size > 1,
                                   null, { timeout: BOUND });
        if (SLOW) {
            await slowRestore(page);
            await monitorOffOn(page);
        }
        await noHorizontalOverflow(page, '1366x768');
        const shotLaptop = join(ART, 'dashboard-1366x768.png');
        await page.screenshot({ path: shotLaptop, fullPage: true });
        console.log(`SCREENSHOT ${shotLaptop}`);

        /* ---------------------------------------------------------------- phone width */
        /* A phone in dark mode: the other colour scheme is checked too. */
        const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true,
                                                 hasTouch: true, deviceScaleFactor: 2, colorScheme: 'dark' });
        const ppage = await phone.newPage();
        step('phone width 390x844');
        await signIn(ppage, args['admin-token'], 'admin, phone', join(ART, 'dashboard-login-390x844.png'));
        await waitState(ppage, TAG, 'node1', 'ISP', 'phone');
        await ppage.waitForSelector(`[data-incident="${TAG}"] .root-cause`, { timeout: BOUND });
        await noHorizontalOverflow(ppage, '390x844');
        const shotPhone = join(ART, 'dashboard-390x844.png');
        await ppage.screenshot({ path: shotPhone, fullPage: true });
        console.log(`SCREENSHOT ${shotPhone}`);
        const shotPhoneHier = join(ART, 'dashboard-390x844-hierarchy.png');
        await ppage.locator(`[data-hierarchy="${TAG}"]`).screenshot({ path: shotPhoneHier });
        console.log(`SCREENSHOT ${shotPhoneHier}`);
        await phone.close();

        /* ---------------------------------------------------------------- sign out */
        step('sign out');
        await page.getByRole('button', { name: 'Log out' }).click();
        await page.waitForSelector('#login:not([hidden])', { timeout: BOUND });
        await laptop.close();

        /* ---------------------------------------------------------------- operator */
        if (args['operator-token']) {
            const opCtx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
            const opage = await opCtx.newPage();
            step('sign in as operator: actions, but no monitor switch (admin only)');
            await signIn(opage, args['operator-token'], 'operator');
            await waitState(opage, TAG, 'node1', 'ISP', 'operator');
            const names = await opage.$$eval('button[data-action]', (bs) => bs.map((b) => b.dataset.action));
            for (const want of ['switchover', 'restore', 'remove', 'reset']) {
                if (!names.includes(want)) {
                    problems.push(`an operator has no ${want} button (has: ${names.join(', ')})`);
                }
            }
            if (names.includes('monitor')) {
                problems.push('an operator sees the monitor switch (admin only)');
            }
            await opCtx.close();
        }

        /* ---------------------------------------------------------------- guest */
        const guestCtx = await browser.newContext({ viewport: { width: 1366, height: 768 } });
        const gpage = await guestCtx.newPage();
        step('sign in as guest: no action buttons');
        await signIn(gpage, args['guest-token'], 'guest');
        await waitState(gpage, TAG, 'node1', 'ISP', 'guest');
        await gpage.waitForSelector('#live[data-live="yes"]', { timeout: BOUND });
        await gpage.waitForSelector('#events tbody tr:not(.empty)', { timeout: BOUND });
        const grole = await gpage.textContent('#role');
        if (!/guest/.test(grole)) {
            problems.push(`the guest's header shows role '${grole}'`);
        }
        const actionButtons = await gpage.$$eval('button', (bs) => bs.filter((b) => b.dataset.action ||
                /switch|restore|remove|reset|monitor|out of service/i.test(b.textContent)).map((b) => b.textContent));
        if (actionButtons.length) {
            problems.push(`a guest sees action buttons: ${actionButtons.join(', ')}`);
        }
        const shotGuest = join(ART, 'dashboard-guest-1366x768.png');
        await gpage.screenshot({ path: shotGuest, fullPage: true });
        console.log(`SCREENSHOT ${shotGuest}`);
        await guestCtx.close();
    } finally {
        await browser.close();
        stdinLines.close();
    }
}

main().then(() => {
    if (problems.length) {
        console.log(`FAIL ${problems.length} problem(s):`);
        for (const p of problems) {
            console.log(`  - ${p}`);
        }
        process.exit(1);
    }
    console.log('PASS');
    process.exit(0);
}).catch((e) => {
    console.log(`FAIL ${e.stack || e}`);
    for (const p of problems) {
        console.log(`  - ${p}`);
    }
    process.exit(1);
});
