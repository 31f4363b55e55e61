/* OpenKeeper's dashboard: one page over lkweb's HTTP API v1 (docs/WEB.md, docs/DASHBOARD.md).
 *
 * It owns nothing but the page: every figure it shows comes from lkd through lkweb
 * (GET /api/v1/status, /events, /resources/{tag}/why), and every change it makes is one
 * POST that lkd checks again (role, state). Live updates come from the server-sent events of
 * /api/v1/stream: `lkevent` (one event, added to the event table) and `changed` (refetch the
 * status). It never builds HTML from strings (every text goes through textContent), never
 * shows an action button to a guest, and never acts without the operator's confirmation in
 * the dialog that says what will happen and the equivalent lkcli command.
 */

const API = '/api/v1';
const SEVERITY_RANK = { DEBUG: 0, INFO: 1, NOTICE: 2, WARNING: 3, ERROR: 4, CRITICAL: 5, FATAL: 6 };
const STATE_WORDS = {
    ISP: 'in service',
    ISU: 'in service, unprotected',
    OSU: 'out of service',
    OSF: 'out of service, failed',
};
const EVENT_KEEP = 1000;

const state = {
    session: null, /* {role, name, csrf, node} */
    status: null,
    events: [], /* oldest first */
    eventKeys: new Set(),
    nextBefore: null,
    why: new Map(), /* root tag -> why data */
    whySig: new Map(), /* root tag -> signature of the states it was fetched for */
    timelineOpen: new Map(), /* root tag -> the operator opened or closed its timeline */
    stream: null,
    live: false,
    statusTimer: null,
    refreshPending: false,
    lastStates: null,
    busyAction: false,
};

/* ------------------------------------------------------------------ small helpers */

const $ = (id) => document.getElementById(id);

/* h('td', {class: 'x'}, 'text', child): an element; strings become text nodes. */
function h(tag, attrs, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
        if (v === undefined || v === null || v === false) {
            continue;
        }
        if (k === 'class') {
            el.className = v;
        } else if (k === 'text') {
            el.textContent = v;
        } else if (k.startsWith('on')) {
            el.addEventListener(k.slice(2), v);
        } else {
            el.setAttribute(k, v === true ? '' : String(v));
        }
    }
    for (const c of children.flat()) {
        if (c === undefined || c === null || c === false) {
            continue;
        }
        el.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return el;
}

function pad(n, w = 2) {
    return String(n).padStart(w, '0');
}

function fmtTime(ms, withDate) {
    if (!Number.isFinite(ms)) {
        return '';
    }
    const d = new Date(ms);
    const t = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
    const today = new Date();
    if (!withDate && d.toDateString() === today.toDateString()) {
        return t;
    }
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${t}`;
}

function fmtDuration(seconds) {
    const s = Number(seconds);
    if (!Number.isFinite(s) || s <= 0) {
        return `${seconds} s`;
    }
    if (s % 86400 === 0) {
        return `${s / 86400} d`;
    }
    if (s % 3600 === 0) {
        return `${s / 3600} h`;
    }
    if (s % 60 === 0) {
        return `${s / 60} min`;
    }
    return `${s} s`;
}

function fmtMs(ms) {
    if (ms === null || ms === undefined) {
        return 'never';
    }
    if (ms < 1000) {
        return `${ms} ms ago`;
    }
    if (ms < 120000) {
        return `${Math.round(ms / 1000)} s ago`;
    }
    return `${Math.round(ms / 60000)} min ago`;
}

/* "web, db and fs" */
function listWords(list) {
    /* Nodes not heard from come as {node, why} objects (lkd's "missing"), other lists as
     * strings. */
    const items = list.map((x) => (x && typeof x === 'object' ? `${x.node} (${x.why})` : String(x)));
    if (items.length <= 1) {
        return items.join('');
    }
    return `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`;
}

function announce(text) {
    const el = $('announce');
    el.append(h('p', {}, text));
    while (el.childNodes.length > 5) {
        el.firstChild.remove();
    }
}

function canAct() {
    const r = state.session && state.session.role;
    return r === 'operator' || r === 'admin';
}

function isAdmin() {
    return state.session && state.session.role === 'admin';
}

/* ------------------------------------------------------------------ the API */

class ApiError extends Error {
    constructor(status, message, code) {
        super(message);
        this.status = status;
        this.code = code;
    }
}

/* The requests in flight: signing out aborts them, so that none comes back refused by a
 * session that has just ended. */
const inflight = new Set();

async function api(path, options = {}) {
    const sessionPath = path === '/login' || path === '/session' || path === '/logout';
    if (!state.session && !sessionPath) {
        /* Signed out: no data request leaves any more (a late refresh or stream message). */
        throw new ApiError(401, 'signed out', 4);
    }
    const init = { method: options.method || 'GET', credentials: 'same-origin', headers: {} };
    if (init.method !== 'GET') {
        init.headers['Content-Type'] = 'application/json';
        const csrf = options.csrf || (state.session && state.session.csrf);
        if (csrf) {
            init.headers['X-CSRF-Token'] = csrf;
        }
        init.body = JSON.stringify(options.body || {});
    }
    const ctl = new AbortController();
    init.signal = ctl.signal;
    inflight.add(ctl);
    let res;
    let body = null;
    try {
        try {
            res = await fetch(API + path, init);
        } catch (e) {
            if (e && e.name === 'AbortError') {
                throw new ApiError(0, 'cancelled: signed out', 0);
            }
            throw new ApiError(0, 'the console server does not answer', 3);
        }
        try {
            body = await res.json();
        } catch (e) {
            body = null;
        }
    } finally {
        inflight.delete(ctl);
    }
    if (!res.ok) {
        const msg = body && typeof body.error === 'string' ? body.error : `HTTP ${res.status}`;
        const err = new ApiError(res.status, msg, body && body.code);
        if (res.status === 401 && path !== '/login' && state.session) {
            sessionEnded('Your session ended (expired or its token was revoked): sign in again.');
        }
        throw err;
    }
    return body || {};
}

/* ------------------------------------------------------------------ session */

/* A reply's payload: {"data": x} gives x (every success body of API v1). */
function unwrap(r) {
    return r && typeof r === 'object' && r.data !== undefined ? r.data : r;
}

async function start() {
    $('login-form').addEventListener('submit', onLogin);
    $('logout').addEventListener('click', onLogout);
    $('event-filters').addEventListener('change', reloadEvents);
    $('event-filters').addEventListener('submit', (e) => {
        e.preventDefault();
        reloadEvents();
    });
    $('older').addEventListener('click', loadOlder);
    $('confirm-cancel').addEventListener('click', () => $('confirm').close());
    let session = null;
    try {
        session = unwrap(await api('/session'));
    } catch (e) {
        session = null;
    }
    if (session && session.role) {
        enter(session);
    } else {
        showLogin('');
    }
}

function showLogin(message) {
    $('main').hidden = true;
    $('session').hidden = true;
    $('where').hidden = true;
    $('login').hidden = false;
    $('login-error').textContent = message || '';
    $('token').value = '';
    $('token').focus();
}

async function onLogin(e) {
    e.preventDefault();
    const token = $('token').value.trim();
    $('login-error').textContent = '';
    if (!token) {
        $('login-error').textContent = 'Paste a token first.';
        return;
    }
    try {
        const r = unwrap(await api('/login', { method: 'POST', body: { token } }));
        $('token').value = '';
        let session = r;
        try {
            session = Object.assign({}, r, unwrap(await api('/session')));
        } catch (err) {
            session = r;
        }
        enter(session);
    } catch (err) {
        $('login-error').textContent =
                err.status === 401 ? 'This token is not valid (unknown, revoked or mistyped).'
                                   : `Cannot sign in: ${err.message}`;
    }
}

async function onLogout() {
    /* Stop everything that asks first (the stream, the timer, the requests in flight), then
     * end the session on the server. */
    const csrf = state.session && state.session.csrf;
    sessionEnded('Signed out.');
    for (const ctl of inflight) {
        ctl.abort();
    }
    try {
        await api('/logout', { method: 'POST', csrf });
    } catch (e) {
        /* gone anyway */
    }
}

function sessionEnded(message) {
    state.session = null;
    if ($('confirm').open) {
        $('confirm').close();
    }
    if (state.stream) {
        state.stream.close();
        state.stream = null;
    }
    clearInterval(state.statusTimer);
    setLive(false, 'signed out');
    showLogin(message);
}

function enter(session) {
    state.session = session;
    state.events = [];
    state.eventKeys.clear();
    state.why.clear();
    state.whySig.clear();
    state.lastStates = null;
    $('login').hidden = true;
    $('main').hidden = false;
    $('session').hidden = false;
    const role = $('role');
    role.textContent = `${session.name ? session.name + ' · ' : ''}${session.role}`;
    role.dataset.role = session.role;
    role.title = canAct() ? 'You may act on resources' : 'Read only: guests see the cluster and act on nothing';
    document.body.dataset.role = session.role;
    refreshStatus();
    reloadEvents();
    openStream();
    clearInterval(state.statusTimer);
    /* The stream says when to refetch; this slow poll only covers a missed message. */
    state.statusTimer = setInterval(() => {
        if (!state.live) {
            openStream();
        }
        refreshStatus();
    }, 15000);
}

/* ------------------------------------------------------------------ live stream */

function setLive(live, text) {
    state.live = live;
    const el = $('live');
    el.dataset.live = live ? 'yes' : 'no';
    $('live-text').textContent = text || (live ? 'live' : 'disconnected');
}

function openStream() {
    if (!state.session) {
        return;
    }
    if (state.stream) {
        state.stream.close();
    }
    const es = new EventSource(`${API}/stream`, { withCredentials: true });
    state.stream = es;
    es.addEventListener('open', () => {
        setLive(true);
        refreshStatus();
    });
    es.addEventListener('error', () => {
        setLive(false, 'disconnected: reconnecting');
        if (es.readyState === EventSource.CLOSED) {
            state.stream = null;
            /* A 401 closes it for good: is the session still there? */
            api('/session').catch(() => {});
        }
    });
    es.addEventListener('lkevent', (m) => {
        let e;
        try {
            e = JSON.parse(m.data);
        } catch (err) {
            return;
        }
        if (e && e.event) {
            e = e.event;
        }
        if (addEvents([e], false)) {
            renderEvents();
        }
        if (e && e.tag && SEVERITY_RANK[e.severity] >= SEVERITY_RANK.WARNING) {
            scheduleRefresh();
        }
    });
    es.addEventListener('changed', scheduleRefresh);
}

function scheduleRefresh() {
    if (state.refreshPending) {
        return;
    }
    state.refreshPending = true;
    setTimeout(() => {
        state.refreshPending = false;
        refreshStatus();
    }, 250);
}

/* ------------------------------------------------------------------ status */

let statusInFlight = null;

async function refreshStatus() {
    if (!state.session) {
        return;
    }
    if (statusInFlight) {
        statusInFlight.again = true;
        return;
    }
    statusInFlight = { again: false };
    try {
        const r = await api('/status');
        state.status = r.data || r;
        state.unreachable = null;
        render();
        refreshEvents();
    } catch (e) {
        if (e.status === 401) {
            return;
        }
        state.unreachable = e.status === 503 || e.status === 504 || e.status === 0
                                    ? `lkd does not answer: ${e.message}`
                                    : `Cannot read the status: ${e.message}`;
        renderBanners();
    } finally {
        const again = statusInFlight.again;
        statusInFlight = null;
        if (again) {
            scheduleRefresh();
        }
    }
}

function resourcesByTag() {
    const m = new Map();
    for (const r of (state.status && state.status.resources) || []) {
        m.set(r.tag, r);
    }
    return m;
}

/* The tags of a hierarchy tree in dependency order (parents above children), with depth. */
function flatten(tree, depth = 0, out = [], seen = new Set()) {
    if (!tree || seen.has(tree.tag)) {
        return out;
    }
    seen.add(tree.tag);
    out.push({ tag: tree.tag, depth, tree });
    for (const c of tree.children || []) {
        flatten(c, depth + 1, out, seen);
    }
    return out;
}

/* Node names in display order: this node first, then the others in the cluster's order. */
function clusterNodeNames() {
    const c = state.status && state.status.cluster;
    const names = [];
    for (const n of (c && c.nodes) || []) {
        if (!n.witness) {
            names.push(n.name);
        }
    }
    if (!names.length && state.status) {
        names.push(state.status.node);
    }
    return names;
}

function nodeAlive(name) {
    const c = state.status && state.status.cluster;
    const n = ((c && c.nodes) || []).find((x) => x.name === name);
    return n ? n.state === 'ALIVE' : false;
}

/* {node: state} of a resource (status' per-node states; this node's own state otherwise). */
function perNode(res) {
    const out = {};
    if (res && Array.isArray(res.nodes) && res.nodes.length) {
        for (const n of res.nodes) {
            out[n.node] = { state: n.state, alive: n.alive !== false, priority: n.priority };
        }
    } else if (res && state.status) {
        out[state.status.node] = { state: res.state, alive: true, priority: 1 };
    }
    return out;
}

function render() {
    const s = state.status;
    if (!s) {
        return;
    }
    const where = $('where');
    where.hidden = false;
    const peers = ((s.cluster && s.cluster.nodes) || []).length;
    where.textContent = peers > 1 ? `cluster of ${peers} · this node: ${s.node}` : `node ${s.node}`;
    document.title = `OpenKeeper · ${s.node}`;
    $('foot').textContent = `lkd on ${s.node} · pid ${s.pid} · up ${fmtDuration(s.uptime_s)} · ` +
                            `updated ${fmtTime(Date.now())}`;
    renderBanners();
    renderNodes();
    renderHierarchies();
    announceChanges();
    updateFilterChoices();
}

/* aria-live: say which states changed since the last status. */
function announceChanges() {
    const now = new Map();
    for (const r of state.status.resources || []) {
        for (const [node, v] of Object.entries(perNode(r))) {
            now.set(`${r.tag}@${node}`, v.state);
        }
    }
    if (state.lastStates) {
        const changes = [];
        for (const [k, v] of now) {
            const before = state.lastStates.get(k);
            if (before && before !== v) {
                const [tag, node] = k.split('@');
                changes.push(`${tag} is now ${v} (${STATE_WORDS[v] || v}) on ${node}`);
            }
        }
        if (changes.length) {
            announce(changes.slice(0, 6).join('; '));
        }
    }
    state.lastStates = now;
}

/* ------------------------------------------------------------------ banners */

function banner(level, title, text, extra) {
    return h('div', { class: `banner ${level}`, role: level === 'danger' ? 'alert' : 'status' },
             h('strong', {}, title), text ? h('span', {}, ' ', text) : null, extra || null);
}

function renderBanners() {
    const box = $('banners');
    box.replaceChildren();
    if (state.unreachable) {
        box.append(banner('danger', 'Disconnected.', `${state.unreachable}. The figures below may be stale.`));
    }
    const s = state.status;
    if (!s) {
        return;
    }
    const c = s.cluster || {};
    const q = c.quorum || {};
    if (q.quorate === false) {
        box.append(banner('danger', 'Quorum lost.',
                          `This node sees ${q.votes} of ${q.voters} votes: it takes nothing over ` +
                                  'and may take its hierarchies out of service ' +
                                  '(quorum-loss-action).'));
    }
    if (q.mode === 'none' && !c.witness) {
        const members = (c.nodes || []).filter((n) => !n.witness).length;
        box.append(banner(
                members >= 2 ? 'danger' : 'warn', 'Quorum: none.',
                members >= 2 ? 'During a network partition every side may take the hierarchies ' +
                                       'over: they can run twice. Configure a witness ' +
                                       '(lkcli cluster config --witness ADDR:PORT) or a fence script.'
                             : 'No quorum is required (a single node).'));
    }
    const unfenced = (s.hierarchies || []).filter((t) => t.safety && /no fencing/i.test(t.safety));
    if (unfenced.length) {
        box.append(banner('danger', 'No fencing.',
                          `${listWords(unfenced.map((t) => t.tag))}: ${unfenced[0].safety.replace(/^no fencing:\s*/i, '')}.`));
    }
    for (const w of c.warnings || []) {
        if (/^quorum is none/.test(w)) {
            continue; /* said above */
        }
        box.append(banner('warn', 'Warning:', w));
    }
    if (s.store && s.store.writable === false) {
        box.append(banner('danger', 'Node database not writable:', s.store.why || 'changes are refused'));
    }
    if (s.guard && s.guard.fenced) {
        box.append(banner('danger', 'Fenced:', s.guard.why || 'the guard fenced this node'));
    }
    if (s.stopping) {
        box.append(banner('warn', 'Stopping:', `lkd on ${s.node} is shutting down.`));
    }
}

/* ------------------------------------------------------------------ nodes and paths */

function stateBadge(word, kind) {
    return h('span', { class: `badge ${kind || word}` }, word);
}

function renderNodes() {
    const c = state.status.cluster || {};
    const q = c.quorum || {};
    const witnesses = (c.nodes || []).filter((n) => n.witness).map((n) => n.name);
    const quorum = $('quorum');
    quorum.replaceChildren(
            h('dl', { class: 'facts' },
              h('div', {}, h('dt', {}, 'Quorum'),
                h('dd', {}, q.mode === 'none' ? 'none (not required)' : (q.mode || 'unknown'))),
              h('div', {}, h('dt', {}, 'Votes'), h('dd', {}, `${q.votes ?? '?'} of ${q.voters ?? '?'}`)),
              h('div', {}, h('dt', {}, 'Quorate'),
                h('dd', {}, stateBadge(q.quorate ? 'yes' : 'NO', q.quorate ? 'good' : 'bad'))),
              h('div', {}, h('dt', {}, 'Witness'),
                h('dd', {}, c.witness ? 'this node is a witness'
                                      : witnesses.length ? listWords(witnesses) : 'none configured')),
              h('div', {}, h('dt', {}, 'Joined'),
                h('dd', {}, c.settled === false ? 'waiting for peers\u2019 data' : 'yes'))));
    const tbody = $('nodes').tBodies[0];
    tbody.replaceChildren();
    for (const n of c.nodes || [{ name: state.status.node, state: 'ALIVE', self: true }]) {
        tbody.append(h('tr', {},
                       h('th', { scope: 'row' }, n.name, n.self ? h('span', { class: 'tagline' }, ' (this node)') : null),
                       h('td', {}, stateBadge(n.state, n.state === 'ALIVE' ? 'good' : 'bad')),
                       h('td', {}, n.witness ? 'witness' : 'member'),
                       h('td', {}, n.synced ? 'yes' : 'pending'),
                       h('td', {}, n.protocol ?? ''),
                       h('td', {}, n.version ?? '')));
    }
    const pbody = $('paths').tBodies[0];
    pbody.replaceChildren();
    let rows = 0;
    for (const p of c.peers || []) {
        const dropped = p.dropped || {};
        const total = Object.values(dropped).reduce((a, b) => a + (Number(b) || 0), 0);
        const why = Object.entries(dropped).filter(([, v]) => v > 0).map(([k, v]) => `${v} ${k}`);
        const droppedCell = h('td', { class: total ? 'warn-text' : '' },
                              total ? `${total}: ${why.join(', ')}` : 'none');
        const paths = p.paths && p.paths.length ? p.paths : [null];
        for (const path of paths) {
            rows++;
            pbody.append(h('tr', {},
                           h('th', { scope: 'row' }, p.name),
                           h('td', { class: 'mono' }, path ? path.address : 'no path'),
                           h('td', {}, path ? path.direction : ''),
                           h('td', {}, path ? stateBadge(path.state, path.state === 'ALIVE' ? 'good' : 'bad')
                                            : stateBadge(p.state, p.state === 'ALIVE' ? 'good' : 'bad')),
                           h('td', {}, path && path.protocol != null ? path.protocol : ''),
                           h('td', {}, path ? (path.encrypted ? 'yes' : 'NO') : ''),
                           h('td', { class: 'num' }, path ? `${path.frames_in} / ${path.frames_out}` : ''),
                           droppedCell.cloneNode(true),
                           h('td', { class: 'num' }, fmtMs(p.last_heard_ms))));
        }
    }
    if (!rows) {
        pbody.append(h('tr', {}, h('td', { colspan: 9, class: 'hint' },
                                   'No comm paths: this node runs alone.')));
    }
}

/* ------------------------------------------------------------------ hierarchies */

function depMaps() {
    const parents = new Map(); /* child -> [parents] */
    const children = new Map(); /* parent -> [children] */
    for (const d of (state.status && state.status.dependencies) || []) {
        if (!parents.has(d.child)) {
            parents.set(d.child, []);
        }
        parents.get(d.child).push(d.parent);
        if (!children.has(d.parent)) {
            children.set(d.parent, []);
        }
        children.get(d.parent).push(d.child);
    }
    return { parents, children };
}

function closure(map, tag) {
    const out = [];
    const seen = new Set([tag]);
    const todo = [...(map.get(tag) || [])];
    while (todo.length) {
        const t = todo.shift();
        if (seen.has(t)) {
            continue;
        }
        seen.add(t);
        out.push(t);
        todo.push(...(map.get(t) || []));
    }
    return out;
}

function localRecoveryText(res) {
    const st = res.settings || {};
    if (st['local-recovery'] === false || st['local-recovery'] === 'off') {
        return 'local recovery off';
    }
    const max = st['max-recoveries'];
    const win = st['recovery-window'];
    const used = res.local_recoveries ?? 0;
    if (max === undefined) {
        return `${used} local recoveries`;
    }
    let t = `${used} of ${max} local recoveries in ${fmtDuration(win)}`;
    if (Number(max) > 0 && used >= Number(max)) {
        t += ': the next failure fails over';
    }
    return t;
}

function budgetText(tree) {
    if (!tree.budget) {
        return null;
    }
    /* lkd's words: "1 of 1 failovers used in the last 6 h: the next failure leaves it out of
     * service". */
    return tree.budget;
}

function renderHierarchies() {
    const box = $('hierarchies');
    const trees = state.status.hierarchies || [];
    const byTag = resourcesByTag();
    const focus = document.activeElement && document.activeElement.dataset
                          ? document.activeElement.dataset.key : null;
    box.replaceChildren();
    if (!trees.length) {
        box.append(h('p', { class: 'card hint' },
                     'No resources are defined on this node. An administrator creates one with ',
                     h('code', {}, 'lkcli resource create gen --tag T --restore F --remove F'), '.'));
        return;
    }
    const allNodes = clusterNodeNames();
    for (const tree of trees) {
        box.append(renderHierarchy(tree, byTag, allNodes));
    }
    if (focus) {
        const el = box.querySelector(`[data-key="${CSS.escape(focus)}"]`);
        if (el) {
            el.focus();
        }
    }
    for (const tree of trees) {
        maybeFetchWhy(tree, byTag);
    }
}

function hierarchySignature(tree, byTag) {
    return flatten(tree).map(({ tag }) => {
        const r = byTag.get(tag);
        return `${tag}:${JSON.stringify(perNode(r))}:${r ? r.reason : ''}`;
    }).join('|');
}

function renderHierarchy(tree, byTag, allNodes) {
    const rows = flatten(tree);
    const root = byTag.get(tree.tag);
    const rootNodes = perNode(root);
    /* Columns: the nodes the hierarchy is defined on, in the cluster's order (priority as
     * a hint under the name). */
    const defined = new Set();
    for (const { tag } of rows) {
        for (const n of Object.keys(perNode(byTag.get(tag)))) {
            defined.add(n);
        }
    }
    const cols = allNodes.filter((n) => defined.has(n));
    for (const n of defined) {
        if (!cols.includes(n)) {
            cols.push(n);
        }
    }
    const owner = Object.entries(rootNodes).find(([, v]) => v.state === 'ISP' || v.state === 'ISU');
    const ownerName = tree.owner || (owner ? owner[0] : null);
    const busy = rows.map(({ tag }) => byTag.get(tag)).filter((r) => r && r.pending);
    const failed = rows.some(({ tag }) => Object.values(perNode(byTag.get(tag))).some((v) => v.state === 'OSF'));
    const headId = `h-${tree.tag}`;
    const sec = h('section', { class: `card hier${failed ? ' has-failed' : ''}`, 'aria-labelledby': headId,
                               'data-hierarchy': tree.tag });
    const facts = h('dl', { class: 'facts' },
                    h('div', {}, h('dt', {}, 'Owner'),
                      h('dd', { 'data-owner': ownerName || '' },
                        ownerName ? ownerName : 'nobody: out of service everywhere')),
                    tree.generation !== undefined
                            ? h('div', {}, h('dt', {}, 'Generation'), h('dd', {}, String(tree.generation)))
                            : null,
                    tree.owner_reason
                            ? h('div', {}, h('dt', {}, 'Last placement'), h('dd', { class: 'plain' }, tree.owner_reason))
                            : null,
                    h('div', {}, h('dt', {}, 'Failover budget'),
                      h('dd', {}, budgetText(tree) || 'not clustered (one node)')),
                    h('div', {}, h('dt', {}, 'Resources'), h('dd', {}, String(rows.length))));
    const title = h('div', { class: 'hier-head' },
                    h('h3', { id: headId }, tree.tag,
                      h('span', { class: 'tagline' },
                        rows.length > 1 ? ` with ${listWords(rows.slice(1).map((r) => r.tag))}` : '')),
                    busy.length ? h('span', { class: 'busy', role: 'status' },
                                    h('span', { class: 'spinner', 'aria-hidden': 'true' }),
                                    `${busy[0].pending.replace(/-/g, ' ')} in progress on ${busy[0].tag}`)
                                : null);
    sec.append(title, facts);
    if (tree.remove_failed_on && tree.remove_failed_on.length) {
        sec.append(banner('danger', 'Remove failed:',
                          `on ${listWords(tree.remove_failed_on)}: it may still run there.`));
    }
    if (canAct()) {
        sec.append(hierarchyActions(tree, rows, cols, rootNodes, ownerName));
    }
    /* The grid: rows = resources (parents above children), columns = nodes. */
    const table = h('table', { class: 'grid hgrid' },
                    h('caption', { class: 'visually-hidden' },
                      `Hierarchy ${tree.tag}: state of each resource on each node`));
    const headRow = h('tr', {}, h('th', { scope: 'col' }, 'Resource'));
    for (const n of cols) {
        const alive = nodeAlive(n);
        const prio = rootNodes[n] ? rootNodes[n].priority : null;
        headRow.append(h('th', { scope: 'col', class: 'nodecol' }, n,
                         h('span', { class: 'tagline' },
                           `${prio ? ` · priority ${prio}` : ''}${alive ? '' : ' · DEAD'}`)));
    }
    headRow.append(h('th', { scope: 'col' }, 'Local recoveries'));
    if (canAct()) {
        headRow.append(h('th', { scope: 'col' }, 'Actions'));
    }
    table.append(h('thead', {}, headRow));
    const tbody = h('tbody');
    for (const { tag, depth } of rows) {
        const r = byTag.get(tag);
        const pn = perNode(r);
        const tr = h('tr', { 'data-tag': tag });
        tr.append(h('th', { scope: 'row', class: `res d${Math.min(depth, 8)}` },
                    depth ? h('span', { class: 'tree', 'aria-hidden': 'true' }, '\u2514 ') : null,
                    tag,
                    r && r.settings && r.settings.monitor === false
                            ? h('span', { class: 'chip' }, 'monitor off') : null,
                    r && r.pending ? h('span', { class: 'chip busy-chip' }, `${r.pending.replace(/-/g, ' ')}\u2026`) : null));
        for (const n of cols) {
            const v = pn[n];
            if (!v) {
                tr.append(h('td', { class: 'cell', 'data-node': n },
                            h('span', { class: 'badge none' }, 'not defined')));
                continue;
            }
            const td = h('td', { class: 'cell', 'data-node': n, 'data-state': v.state },
                         h('span', { class: `badge ${v.state}`, title: STATE_WORDS[v.state] || '' },
                           h('span', { class: 'sym', 'aria-hidden': 'true' }, symbol(v.state)),
                           h('span', { class: 'word' }, v.state),
                           h('span', { class: 'long' }, ` ${STATE_WORDS[v.state] || ''}`)),
                         v.alive ? null : h('span', { class: 'tagline' }, ' (node dead, last known)'));
            tr.append(td);
        }
        tr.append(h('td', { class: 'small recov', 'data-label': 'Local recoveries' }, r ? localRecoveryText(r) : ''));
        if (canAct()) {
            tr.append(h('td', { class: 'actions', 'data-label': 'Actions' }, resourceActions(r, tag)));
        }
        tbody.append(tr);
        if (r && r.reason && (r.state === 'OSF' || r.stop_failed)) {
            tbody.append(h('tr', { class: 'reason' },
                           h('td', { colspan: cols.length + (canAct() ? 3 : 2) },
                             h('span', { class: 'hint' }, `${tag} on ${state.status.node}: ${r.reason}`))));
        }
    }
    table.append(tbody);
    sec.append(h('div', { class: 'scroll' }, table));
    sec.append(incidentPanel(tree));
    return sec;
}

function symbol(st) {
    return { ISP: '\u25cf', ISU: '\u25d0', OSU: '\u25cb', OSF: '\u2716' }[st] || '?';
}

/* ------------------------------------------------------------------ incidents */

/* Incidents are read eagerly only where there is one to show: a hierarchy with a failed
 * cell when the page first sees it, or any hierarchy whose states change while the page
 * watches; the others when the operator opens their panel. At most two reads at a time:
 * a page of many hierarchies must not flood lkd (its socket limits requests per user). */
const whyQueue = [];
let whyInFlight = 0;
const whyBusy = new Set(); /* tags queued or being read */
const WHY_PARALLEL = 2;

function maybeFetchWhy(tree, byTag) {
    const sig = hierarchySignature(tree, byTag);
    const before = state.whySig.get(tree.tag);
    if (before === sig) {
        return;
    }
    state.whySig.set(tree.tag, sig);
    if (before === undefined && !state.why.has(tree.tag) && !/:"OSF"/.test(sig)) {
        return; /* quiet so far: read when opened */
    }
    fetchWhy(tree);
}

function fetchWhy(tree) {
    if (!whyQueue.some((t) => t.tag === tree.tag)) {
        whyQueue.push(tree);
        whyBusy.add(tree.tag);
    }
    pumpWhy();
}

function pumpWhy() {
    while (whyInFlight < WHY_PARALLEL && whyQueue.length) {
        const tree = whyQueue.shift();
        whyInFlight++;
        api(`/resources/${encodeURIComponent(tree.tag)}/why`).then((r) => {
            state.why.set(tree.tag, unwrap(r));
        }).catch((e) => {
            if (e.status !== 401) {
                state.why.set(tree.tag, { error: e.message });
                state.whySig.delete(tree.tag);
            }
        }).finally(() => {
            whyInFlight--;
            whyBusy.delete(tree.tag);
            const old = document.querySelector(`[data-incident="${CSS.escape(tree.tag)}"]`);
            if (old && state.session) {
                old.replaceWith(incidentPanel(tree));
            }
            pumpWhy();
        });
    }
}

function incidentPanel(tree) {
    const why = state.why.get(tree.tag);
    const box = h('div', { class: 'incident', 'data-incident': tree.tag });
    box.append(h('h4', {}, 'Last incident'));
    if (!why) {
        if (whyBusy.has(tree.tag)) {
            box.append(h('p', { class: 'hint' }, 'Reading\u2026'));
        } else {
            const summary = h('summary', {}, 'Nothing failed while this page watched: read the last incident');
            const det = h('details', { class: 'timeline' }, summary);
            det.addEventListener('toggle', () => {
                if (det.open) {
                    det.append(h('p', { class: 'hint' }, 'Reading\u2026'));
                    fetchWhy(tree);
                }
            });
            box.append(det);
        }
        return box;
    }
    if (why.error) {
        box.append(h('p', { class: 'error' }, `Cannot read it: ${why.error}`));
        return box;
    }
    const events = Array.isArray(why.incident) ? why.incident : [];
    const rc = why.root_cause;
    if (!events.length && !rc) {
        box.append(h('p', { class: 'hint' }, 'No incident recorded: nothing failed.'));
        return box;
    }
    const when = events.length ? events[0].time_ms : null;
    if (rc) {
        box.append(h('p', { class: 'root-cause', 'data-root-cause': rc.tag || '' },
                     h('span', { class: 'label' }, 'Root cause:'), ' ',
                     h('span', {}, `${rc.node ? rc.node + ': ' : ''}${rc.tag ? rc.tag + ': ' : ''}${rc.message || rc.line}`),
                     rc.cause ? h('span', { class: 'hint' }, ` (${rc.cause})`) : null,
                     when ? h('span', { class: 'hint' }, ` \u00b7 ${fmtTime(when)}`) : null));
    }
    if (why.reason) {
        box.append(h('p', { class: 'small' }, `Now: ${why.state || ''} \u2014 ${why.reason}`));
    }
    if (why.missing && why.missing.length) {
        box.append(h('p', { class: 'small warn-text' },
                     `Not heard from ${listWords(why.missing)}: their part of the story is missing.`));
    }
    if (events.length) {
        const recent = when && Date.now() - when < 15 * 60 * 1000;
        const chosen = state.timelineOpen.get(tree.tag);
        const summary = h('summary', {}, `Timeline (${events.length} events, root cause first)`);
        const det = h('details', { class: 'timeline', open: (chosen ?? recent) ? true : null }, summary);
        /* The operator's choice (a click, Enter or Space on the summary) survives the next
         * status; the click is seen before the details toggles. */
        summary.addEventListener('click', () => state.timelineOpen.set(tree.tag, !det.open));
        const ol = h('ol', {});
        for (const e of events) {
            ol.append(h('li', { class: `sev-${(e.severity || '').toLowerCase()}` },
                        h('time', { datetime: new Date(e.time_ms).toISOString() }, fmtTime(e.time_ms)),
                        h('span', { class: 'who' }, `${e.node || ''}${e.tag ? ' \u00b7 ' + e.tag : ''}`),
                        h('span', { class: 'msg' }, e.message)));
        }
        det.append(ol);
        box.append(det);
    }
    return box;
}

/* ------------------------------------------------------------------ actions */

/* label: the button's words; aria: its full name when the words need their row (the
 * screen reader's "Restore db", not five "Restore"). */
function actionButton(label, key, onclick, extraClass, aria) {
    return h('button', { type: 'button', class: `act ${extraClass || ''}`, 'data-action': key.split(':')[0],
                         'data-key': key, 'aria-label': aria, 'aria-haspopup': 'dialog', onclick }, label);
}

function hierarchyActions(tree, rows, cols, rootNodes, ownerName) {
    const bar = h('div', { class: 'hier-actions', role: 'group', 'aria-label': `Actions on ${tree.tag}` });
    const tags = rows.map((r) => r.tag);
    for (const n of cols) {
        if (n === ownerName || !rootNodes[n] || !nodeAlive(n)) {
            continue; /* a dead node cannot take it: no button */
        }
        bar.append(actionButton(`Switch over to ${n}`, `switchover:${tree.tag}:${n}`, () => confirmAction({
            title: `Switch ${tree.tag} over to ${n}`,
            what: ownerName ? `Moves ${listWords(tags)} from ${ownerName} to ${n}: they stop on ${ownerName} ` +
                                      `(parents first), then start on ${n} (children first).`
                            : `Brings ${listWords(tags)} in service on ${n} (children first).`,
            cmd: `lkcli resource restore --tag ${tree.tag} --node ${n}`,
            go: `Switch over to ${n}`,
            path: `/resources/${encodeURIComponent(tree.tag)}/switchover`,
            body: { node: n },
            doing: `Switching ${tree.tag} over to ${n}\u2026`,
        }), 'primary'));
    }
    bar.append(actionButton('Take the hierarchy out of service', `removeh:${tree.tag}`, () => confirmAction({
        title: `Take ${tree.tag} out of service`,
        what: `Stops ${listWords(tags)}${ownerName ? ' on ' + ownerName : ''} (parents first). ` +
                      'Nothing takes it over: it stays out of service until someone restores it.',
        cmd: `lkcli resource remove --tag ${tree.tag} --hierarchy`,
        go: 'Take out of service',
        danger: true,
        path: `/resources/${encodeURIComponent(tree.tag)}/remove`,
        body: { hierarchy: true },
        doing: `Taking ${tree.tag} out of service\u2026`,
    }), 'danger'));
    return bar;
}

function resourceActions(r, tag) {
    if (!r) {
        return [];
    }
    const { parents, children } = depMaps();
    const needs = closure(children, tag);
    const needed = closure(parents, tag);
    const here = state.status.node;
    const out = [];
    out.push(actionButton('Restore', `restore:${tag}`, () => confirmAction({
        title: `Restore ${tag}`,
        what: `Brings ${tag} in service${needs.length ? `, after ${listWords(needs)}, which it depends on` : ''}` +
                      ` (on the node that holds its hierarchy, else on ${here}).`,
        cmd: `lkcli resource restore --tag ${tag}`,
        go: 'Restore',
        path: `/resources/${encodeURIComponent(tag)}/restore`,
        body: {},
        doing: `Restoring ${tag}\u2026`,
    }), '', `Restore ${tag}`));
    out.push(actionButton('Remove', `remove:${tag}`, () => confirmAction({
        title: `Remove ${tag}`,
        what: `Takes ${tag} out of service` +
                      `${needed.length ? `; first ${listWords(needed)}, which depend${needed.length > 1 ? '' : 's'} on it` : ''}.` +
                      ' Nothing takes it over.',
        cmd: `lkcli resource remove --tag ${tag}`,
        go: 'Remove',
        danger: true,
        path: `/resources/${encodeURIComponent(tag)}/remove`,
        body: {},
        doing: `Removing ${tag}\u2026`,
    }), 'danger', `Remove ${tag}`));
    out.push(actionButton('Reset', `reset:${tag}`, () => confirmAction({
        title: `Reset the counters of ${tag}`,
        what: `Clears the failure and local recovery counters of ${tag} and its hierarchy's ` +
                      'failover budget: the next failure is handled as the first.',
        cmd: `lkcli resource reset --tag ${tag}`,
        go: 'Reset',
        path: `/resources/${encodeURIComponent(tag)}/reset`,
        body: {},
        doing: `Resetting ${tag}\u2026`,
    }), '', `Reset the counters of ${tag}`));
    if (isAdmin()) {
        const on = !(r.settings && r.settings.monitor === false);
        out.push(actionButton(on ? 'Monitor off' : 'Monitor on', `monitor:${tag}`, () => confirmAction({
            title: `${on ? 'Stop' : 'Start'} monitoring ${tag}`,
            what: on ? `Stops the checks of ${tag} on every node: a failure of ${tag} is no longer noticed, ` +
                               'recovered or failed over.'
                     : `Starts the checks of ${tag} again: a failure is recovered or failed over.`,
            cmd: `lkcli resource config --tag ${tag} --monitor ${on ? 'off' : 'on'}`,
            go: on ? 'Monitor off' : 'Monitor on',
            danger: on,
            path: `/resources/${encodeURIComponent(tag)}/monitor`,
            body: { on: !on },
            doing: `${on ? 'Stopping' : 'Starting'} the checks of ${tag}\u2026`,
        }), '', `Turn monitoring of ${tag} ${on ? 'off' : 'on'}`));
    }
    return out;
}

let pendingAction = null;

function confirmAction(a) {
    const dlg = $('confirm');
    pendingAction = a;
    $('confirm-title').textContent = a.title;
    $('confirm-what').textContent = a.what;
    $('confirm-cmd').textContent = a.cmd;
    const go = $('confirm-go');
    go.textContent = a.go;
    go.className = a.danger ? 'danger' : 'primary';
    go.hidden = false;
    go.disabled = false;
    $('confirm-cancel').textContent = 'Cancel';
    $('confirm-cancel').disabled = false;
    const prog = $('confirm-progress');
    prog.hidden = true;
    prog.replaceChildren();
    dlg.dataset.phase = 'ask';
    dlg.showModal();
    $('confirm-cancel').focus();
}

async function runPending(e) {
    e.preventDefault();
    const a = pendingAction;
    if (!a || state.busyAction) {
        return;
    }
    state.busyAction = true;
    const dlg = $('confirm');
    const go = $('confirm-go');
    const cancel = $('confirm-cancel');
    const prog = $('confirm-progress');
    go.disabled = true;
    cancel.disabled = true;
    dlg.dataset.phase = 'running';
    prog.hidden = false;
    prog.replaceChildren(h('p', { class: 'busy' }, h('span', { class: 'spinner', 'aria-hidden': 'true' }), a.doing));
    dlg.setAttribute('aria-busy', 'true');
    try {
        const r = await api(a.path, { method: 'POST', body: a.body });
        const lines = Array.isArray(r.progress) ? r.progress : [];
        prog.replaceChildren(h('p', { class: 'ok', role: 'status' }, '\u2714 Done.'));
        if (lines.length) {
            prog.append(h('ul', { class: 'lines' }, lines.map((l) => h('li', {}, typeof l === 'string' ? l : JSON.stringify(l)))));
        }
        dlg.dataset.phase = 'done';
        announce(`${a.title}: done`);
    } catch (err) {
        prog.replaceChildren(h('p', { class: 'error', role: 'alert' },
                               `\u2716 Failed: ${err.message}${err.code !== undefined ? ` (exit ${err.code})` : ''}`));
        dlg.dataset.phase = 'failed';
        announce(`${a.title}: failed: ${err.message}`);
    } finally {
        dlg.removeAttribute('aria-busy');
        state.busyAction = false;
        pendingAction = null;
        go.hidden = true;
        cancel.disabled = false;
        cancel.textContent = 'Close';
        cancel.focus();
        refreshStatus();
    }
}

/* ------------------------------------------------------------------ events */

function eventKey(e) {
    return `${e.node}#${e.seq}#${e.time_ms}`;
}

/* Adds events (oldest first); true if any was new. */
function addEvents(list, older) {
    let added = false;
    const fresh = [];
    for (const e of list || []) {
        if (!e || typeof e !== 'object') {
            continue;
        }
        const k = eventKey(e);
        if (state.eventKeys.has(k)) {
            continue;
        }
        state.eventKeys.add(k);
        fresh.push(e);
        added = true;
    }
    if (older) {
        state.events = fresh.concat(state.events);
    } else {
        state.events = state.events.concat(fresh);
        state.events.sort((a, b) => (a.time_ms - b.time_ms) || String(a.node).localeCompare(String(b.node)) || (a.seq - b.seq));
    }
    while (state.events.length > EVENT_KEEP) {
        state.eventKeys.delete(eventKey(state.events.shift()));
    }
    return added;
}

function filters() {
    return {
        node: $('f-node').value,
        tag: $('f-tag').value,
        severity: $('f-sev').value,
        number: $('f-num').value.trim(),
    };
}

function matches(e, f) {
    if (f.node && e.node !== f.node) {
        return false;
    }
    if (f.tag && e.tag !== f.tag) {
        return false;
    }
    if (f.severity && e.severity !== f.severity) {
        return false;
    }
    if (f.number && String(e.number) !== f.number) {
        return false;
    }
    return true;
}

function eventsQuery(f, before) {
    const q = new URLSearchParams();
    q.set('limit', '200');
    for (const k of ['node', 'tag', 'severity', 'number']) {
        if (f[k]) {
            q.set(k, f[k]);
        }
    }
    if (before) {
        q.set('before', before);
    }
    return `/events?${q}`;
}

function unpackEvents(r) {
    const d = r.data !== undefined ? r.data : r;
    const list = Array.isArray(d) ? d : (d && Array.isArray(d.events) ? d.events : []);
    const next = (d && !Array.isArray(d) && d.next_before) || r.next_before || null;
    const missing = (d && !Array.isArray(d) && d.missing) || [];
    return { list, next, missing };
}

async function reloadEvents() {
    const f = filters();
    if (f.number && !/^[0-9]{1,6}$/.test(f.number)) {
        $('events-note').textContent = 'The event number is a whole number (like 1629).';
        return;
    }
    try {
        const r = await api(eventsQuery(f));
        const { list, next, missing } = unpackEvents(r);
        state.events = [];
        state.eventKeys.clear();
        addEvents(list, false);
        state.nextBefore = next;
        $('events-note').textContent = missing.length
                ? `Not heard from ${listWords(missing)}: their events are missing.` : '';
        renderEvents();
    } catch (e) {
        if (e.status !== 401) {
            $('events-note').textContent = `Cannot read the events: ${e.message}`;
        }
    }
}

/* The newest events again (every node's: the stream carries this node's only), merged into
 * the table; at most one request at a time and one every 2 s. */
let eventsInFlight = false;
let eventsLast = 0;
let eventsTimer = null;
function refreshEvents() {
    const wait = eventsLast + 2000 - Date.now();
    if (eventsInFlight || wait > 0) {
        if (!eventsTimer) {
            eventsTimer = setTimeout(() => {
                eventsTimer = null;
                refreshEvents();
            }, Math.max(wait, 500));
        }
        return;
    }
    eventsInFlight = true;
    eventsLast = Date.now();
    api(eventsQuery(filters())).then((r) => {
        if (addEvents(unpackEvents(r).list, false)) {
            renderEvents();
        }
    }).catch(() => {}).finally(() => {
        eventsInFlight = false;
    });
}

async function loadOlder() {
    if (!state.nextBefore) {
        return;
    }
    try {
        const r = await api(eventsQuery(filters(), state.nextBefore));
        const { list, next } = unpackEvents(r);
        addEvents(list, true);
        state.nextBefore = next;
        renderEvents();
    } catch (e) {
        $('events-note').textContent = `Cannot read older events: ${e.message}`;
    }
}

function renderEvents() {
    const f = filters();
    const tbody = $('events').tBodies[0];
    const shown = state.events.filter((e) => matches(e, f)).reverse().slice(0, 300);
    tbody.replaceChildren(...shown.map((e) => h('tr', { class: `sev-${(e.severity || '').toLowerCase()}` },
                                                 h('td', { class: 'mono nowrap' },
                                                   h('time', { datetime: new Date(e.time_ms).toISOString(),
                                                               title: fmtTime(e.time_ms, true) }, fmtTime(e.time_ms))),
                                                 h('td', {}, e.node || ''),
                                                 h('td', {}, h('span', { class: `sev ${e.severity}` }, e.severity)),
                                                 h('td', {}, e.tag || ''),
                                                 h('td', { class: 'num' }, e.number),
                                                 h('td', { class: 'msg' }, e.message,
                                                   e.detail ? h('span', { class: 'hint' }, ` \u2014 ${e.detail}`) : null))));
    if (!shown.length) {
        tbody.append(h('tr', { class: 'empty' }, h('td', { colspan: 6, class: 'hint' }, 'No event matches.')));
    }
    $('older').hidden = !state.nextBefore;
    updateFilterChoices();
}

function setChoices(select, values) {
    const have = [...select.options].map((o) => o.value).filter((v) => v);
    const want = [...new Set(values.filter((v) => v))].sort();
    if (select.value && !want.includes(select.value)) {
        want.push(select.value);
    }
    if (have.join('\n') === want.join('\n')) {
        return;
    }
    const cur = select.value;
    select.replaceChildren(h('option', { value: '' }, 'all'), ...want.map((v) => h('option', { value: v }, v)));
    select.value = cur;
}

function updateFilterChoices() {
    const nodes = clusterNodeNames().concat(state.events.map((e) => e.node));
    const tags = ((state.status && state.status.resources) || []).map((r) => r.tag)
                         .concat(state.events.map((e) => e.tag));
    setChoices($('f-node'), nodes);
    setChoices($('f-tag'), tags);
}

/* ------------------------------------------------------------------ go */

document.addEventListener('DOMContentLoaded', () => {
    $('confirm-form').addEventListener('submit', runPending);
    /* Escape closes the dialog, except while the action runs (its result is still to come). */
    $('confirm').addEventListener('cancel', (e) => {
        if (state.busyAction) {
            e.preventDefault();
        }
    });
    start();
});
