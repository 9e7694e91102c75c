// The durable web page: the executions of the local service and the timeline of one, drawn from
// the same HTTP API the `durable` command uses (under /ui/api, authenticated by the page's cookie).
'use strict';

(() => {
  const API = '/ui/api';
  const VERSION = '2025-12-01';
  const ROW = 30; // px, as --row in app.css
  const OVERSCAN = 10;
  const POLL_MS = 2000;
  const STATUSES = ['RUNNING', 'SUCCEEDED', 'FAILED', 'TIMED_OUT', 'STOPPED'];
  const enc = encodeURIComponent;

  // ---- small helpers -------------------------------------------------------------------------

  /** An element with attributes (`text` sets its text, `on*` a listener) and children. */
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === 'text') node.textContent = value;
      else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? '' : String(value));
    }
    for (const child of children.flat(2)) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /** Replaces the children of `node` (arrays flattened, null and false left out). */
  function fill(node, ...children) {
    node.replaceChildren(...children.flat(2).filter((c) => c !== null && c !== undefined && c !== false));
  }

  /** Calls the API; the parsed JSON answer, or throws an Error with the service's message. */
  async function api(path, options = {}) {
    const method = options.method || 'GET';
    const headers = {};
    // Every change carries the header a page of another origin cannot send (see web/mod.rs).
    if (method !== 'GET') headers['x-durable-ui'] = '1';
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(API + path, { method, headers, body: options.body, credentials: 'same-origin', cache: 'no-store' });
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { data = text; }
    if (!response.ok) {
      const message = (data && data.message) || `HTTP ${response.status}`;
      throw new Error(response.status === 403 ? `${message} (reopen the URL durable serve printed)` : message);
    }
    return data;
  }

  function localTime(seconds) {
    if (typeof seconds !== 'number') return '';
    return new Date(seconds * 1000).toLocaleString(undefined, {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit',
    });
  }

  function clock(seconds) {
    if (typeof seconds !== 'number') return '';
    return new Date(seconds * 1000).toLocaleTimeString(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
  }

  /** A duration in seconds, short: 0.25s, 12.5s, 2m05s, 3h07m, 2d04h. */
  function duration(seconds) {
    if (typeof seconds !== 'number' || !isFinite(seconds)) return '';
    const s = Math.max(0, seconds);
    if (s < 60) return `${parseFloat(s.toFixed(2))}s`;
    const whole = Math.floor(s);
    const two = (n) => String(n).padStart(2, '0');
    const [d, h, m, r] = [Math.floor(whole / 86400), Math.floor(whole / 3600) % 24, Math.floor(whole / 60) % 60, whole % 60];
    if (d > 0) return `${d}d${two(h)}h`;
    if (h > 0) return `${h}h${two(m)}m`;
    return `${m}m${two(r)}s`;
  }

  /** The last part of an ARN or a long id, cut to 8 characters. */
  function shortId(id) {
    const tail = String(id || '').split('/').pop();
    return tail.length > 8 ? `${tail.slice(0, 8)}…` : tail;
  }

  /** A shortened id and a button that copies the whole of it. */
  function idWithCopy(id, what) {
    const button = el('button', {
      class: 'small copy', type: 'button', title: `copy the ${what}`, 'aria-label': `copy the ${what}`, text: 'copy',
      onclick: async () => {
        try { await navigator.clipboard.writeText(id); button.textContent = 'copied'; } catch (_) { button.textContent = 'select it'; }
        setTimeout(() => { button.textContent = 'copy'; }, 1500);
      },
    });
    return el('span', { class: 'idcopy' }, el('span', { class: 'id', title: id }, shortId(id)), ' ', button);
  }

  /** JSON text pretty-printed; other text as it is. */
  function pretty(text) {
    if (text === undefined || text === null) return '';
    if (typeof text !== 'string') return JSON.stringify(text, null, 2);
    try { return JSON.stringify(JSON.parse(text), null, 2); } catch (_) { return text; }
  }

  const functionOf = (arn) => String(arn).split('/durable-execution/')[0].split(':function:').pop().split(':')[0];
  const execHref = (arn) => `#/x/${enc(arn)}`;

  // ---- routing and polling ---------------------------------------------------------------------

  const main = document.getElementById('main');
  const live = document.getElementById('live');
  let pollTimer = null;
  let view = null; // { refresh: async () => void }

  function schedule() {
    clearTimeout(pollTimer);
    pollTimer = setTimeout(async () => {
      if (!view) return;
      // A finished execution no longer changes: its page stops asking.
      if (view.finished && view.finished()) { live.textContent = 'finished: not updating'; return; }
      try { await view.refresh(); live.textContent = `updated ${clock(Date.now() / 1000)}`; } catch (e) { live.textContent = `not updated: ${e.message}`; }
      schedule();
    }, POLL_MS);
  }

  async function route() {
    clearTimeout(pollTimer);
    const hash = location.hash || '#/';
    const match = hash.match(/^#\/x\/(.+)$/);
    main.replaceChildren();
    view = match ? executionView(decodeURIComponent(match[1])) : listView();
    try { await view.refresh(); } catch (e) { main.append(el('p', { class: 'message', role: 'alert', text: e.message })); }
    schedule();
  }

  // ---- the executions -------------------------------------------------------------------------

  const filters = { fn: '', status: '' };

  function listView() {
    const fnSelect = el('select', { id: 'f-function', onchange: () => { filters.fn = fnSelect.value; view.refresh(); } }, el('option', { value: '', text: 'all' }));
    const statusSelect = el('select', { id: 'f-status', onchange: () => { filters.status = statusSelect.value; view.refresh(); } },
      el('option', { value: '', text: 'all' }), STATUSES.map((s) => el('option', { value: s, text: s.toLowerCase().replace('_', ' ') })));
    statusSelect.value = filters.status;
    const tbody = el('tbody');
    const empty = el('p', { class: 'empty', hidden: true });
    main.append(el('section', { class: 'list' },
      el('h1', { text: 'Executions' }),
      el('div', { class: 'filters' }, el('label', {}, 'Function ', fnSelect), el('label', {}, 'Status ', statusSelect)),
      el('div', { class: 'table-wrap' }, el('table', { id: 'executions' },
        el('thead', {}, el('tr', {}, ['Execution', 'Function', 'Status', 'Started', 'Duration'].map((h) => el('th', { scope: 'col', text: h })))),
        tbody)),
      empty));
    document.title = 'durable: executions';

    return {
      async refresh() {
        const { Functions: names = [] } = await api('/functions');
        const known = new Set([...fnSelect.options].map((o) => o.value));
        for (const name of names) if (!known.has(name)) fnSelect.append(el('option', { value: name, text: name }));
        fnSelect.value = filters.fn;
        const chosen = filters.fn ? [filters.fn] : names;
        const query = `?ReverseOrder=true&MaxItems=1000${filters.status ? `&Statuses=${filters.status}` : ''}`;
        const pages = await Promise.all(chosen.map((name) => api(`/${VERSION}/functions/${enc(name)}/durable-executions${query}`)));
        const executions = pages.flatMap((page) => page.DurableExecutions || []);
        executions.sort((a, b) => (b.StartTimestamp || 0) - (a.StartTimestamp || 0));
        const now = Date.now() / 1000;
        tbody.replaceChildren(...executions.map((x) => el('tr', { 'data-arn': x.DurableExecutionArn, 'data-status': x.Status },
          el('td', {}, el('a', { href: execHref(x.DurableExecutionArn), class: 'exec-link', text: x.DurableExecutionName || shortId(x.DurableExecutionArn) }), ' ', idWithCopy(x.DurableExecutionArn, 'execution ARN')),
          el('td', { text: functionOf(x.FunctionArn || x.DurableExecutionArn) }),
          el('td', {}, el('span', { class: `badge ${x.Status}`, text: x.Status.toLowerCase().replace('_', ' ') })),
          el('td', { text: localTime(x.StartTimestamp) }),
          el('td', { class: 'num', text: duration((x.EndTimestamp || now) - x.StartTimestamp) + (x.EndTimestamp ? '' : ' …') }))));
        empty.hidden = executions.length > 0;
        empty.textContent = 'No executions yet: invoke a function (durable invoke NAME) and it shows here.';
      },
    };
  }

  // ---- one execution ---------------------------------------------------------------------------

  function executionView(arn) {
    const parts = {
      name: el('span', { id: 'exec-name' }),
      status: el('span', { id: 'exec-status', class: 'badge' }),
      facts: el('dl', { class: 'facts' }),
      stop: el('button', { id: 'stop', class: 'danger', type: 'button', text: 'Stop', hidden: true }),
      message: el('p', { id: 'message', class: 'message', role: 'status' }),
      summary: el('p', { id: 'tl-summary', class: 'id' }),
      viewport: el('div', { class: 'tl-viewport', tabindex: '0', 'aria-label': 'operations, scroll for more' }),
      detail: el('div', { id: 'op-detail', class: 'panel', hidden: true }),
      callback: el('div', { id: 'callback-panel', class: 'panel', hidden: true }),
      input: el('pre', { id: 'exec-input' }),
      result: el('pre', { id: 'exec-result' }),
      error: el('pre', { id: 'exec-error' }),
      events: el('tbody'),
      more: el('button', { id: 'events-more', class: 'more', type: 'button', text: 'more events', hidden: true }),
    };
    const spacer = el('div', { class: 'tl-spacer' });
    parts.viewport.append(spacer);
    const legend = el('div', { class: 'legend', 'aria-hidden': 'true' },
      ['running', 'waiting', 'retrying', 'succeeded', 'failed'].map((s) => el('span', {}, el('i', { class: `seg-key ${s}` }), s)));
    main.append(el('section', { class: 'exec' },
      el('nav', {}, el('a', { href: '#/', text: '← executions' })),
      el('h1', {}, parts.name, parts.status),
      parts.facts,
      el('div', { class: 'actions' }, parts.stop),
      parts.message,
      el('h2', { text: 'Timeline' }), parts.summary, legend,
      el('div', { class: 'timeline', id: 'timeline', role: 'table', 'aria-label': 'operations' },
        el('div', { class: 'tl-head', role: 'row' }, ['Operation', 'Type', 'Status', 'Time'].map((h) => el('div', { role: 'columnheader', text: h }))),
        parts.viewport),
      parts.detail, parts.callback,
      el('h2', { text: 'Input' }), parts.input,
      el('h2', { text: 'Result' }), parts.result,
      el('div', { id: 'error-block', hidden: true }, el('h2', { text: 'Error' }), parts.error),
      el('h2', { text: 'History events' }),
      el('div', { class: 'table-wrap' }, el('table', { id: 'events' },
        el('thead', {}, el('tr', {}, ['#', 'Time', 'Event', 'Operation', 'Details'].map((h) => el('th', { scope: 'col', text: h })))),
        parts.events)),
      parts.more));

    let execution = null;
    let timeline = { rows: [] };
    let selected = null;
    let eventsMarker = null;
    let eventsStatus = null;
    const byId = () => new Map(timeline.rows.map((r) => [r.id, r]));

    parts.stop.addEventListener('click', async () => {
      if (!window.confirm('Stop this execution? It ends as STOPPED and its code does not run again.')) return;
      try {
        await api(`/${VERSION}/durable-executions/${enc(arn)}/stop`, { method: 'POST', body: '' });
        say('stopped', true);
        await refresh();
      } catch (e) { say(`cannot stop: ${e.message}`); }
    });
    parts.more.addEventListener('click', () => loadEvents(false));
    parts.viewport.addEventListener('scroll', () => requestAnimationFrame(drawRows));

    function say(text, ok) { parts.message.textContent = text; parts.message.classList.toggle('ok', !!ok); }

    // The time axis: from the execution's start to its end, or to now while it runs.
    function scale() {
      const origin = timeline.origin ?? execution?.StartTimestamp ?? 0;
      let last = timeline.end ?? Math.max(timeline.latest ?? origin, execution?.Status === 'RUNNING' ? Date.now() / 1000 : 0);
      for (const row of timeline.rows) if (typeof row.wake === 'number') last = Math.max(last, row.wake);
      const span = Math.max(last - origin, 1e-3);
      return { origin, last, at: (t) => ((t - origin) / span) * 100 };
    }

    function statusText(row) {
      let text = row.status.replace('_', ' ');
      if (row.error) text += ` (${row.error})`;
      if (row.attempts > 1) text += `, ${row.attempts} tries`;
      if (row.status === 'waiting' && typeof row.wake === 'number') text += `, wakes ${clock(row.wake)}`;
      return text;
    }

    function segmentLabel(row, seg, n, end) {
      let text = row.segments.length > 1 ? `attempt ${n + 1}: ${seg.status.replace('_', ' ')}` : seg.status.replace('_', ' ');
      if (seg.error) text += ` with ${seg.error}`;
      if (seg.message) text += `: ${seg.message}`;
      text += `, ${clock(seg.start)}, ${duration(end - seg.start)}`;
      return text;
    }

    function rowElement(row, index, sc) {
      const nameButton = el('button', {
        class: 'op-name', type: 'button', title: `${row.name} (${row.id})`, text: row.name,
        onclick: () => { selected = row.id; drawRows(); drawDetail(); },
      });
      const name = el('div', { class: 'op-cell', role: 'cell' }, nameButton);
      name.style.paddingLeft = `${8 + 14 * Math.min(row.depth, 12)}px`;
      if (row.callback_id && row.status === 'waiting') {
        name.append(el('span', { class: 'row-actions' },
          el('button', { class: 'small cb-succeed', type: 'button', 'data-callback': row.callback_id, text: 'succeed', onclick: () => openCallback(row, 'succeed') }),
          el('button', { class: 'small cb-fail', type: 'button', 'data-callback': row.callback_id, text: 'fail', onclick: () => openCallback(row, 'fail') })));
      }
      if (row.target) name.append(' ', el('a', { class: 'invoke-target', href: execHref(row.target), title: row.target, text: `→ ${row.function || 'target'}` }));
      const bars = el('div', { class: 'bars', role: 'cell' });
      const now = sc.last;
      row.segments.forEach((seg, n) => {
        if (typeof seg.start !== 'number') return;
        const end = typeof seg.end === 'number' ? seg.end : now;
        const label = segmentLabel(row, seg, n, end);
        const bar = el('span', { class: `seg ${seg.status}${row.kind === 'Wait' ? ' wait' : ''}`, tabindex: '0', role: 'img', title: label, 'aria-label': label });
        // A bar at the very end still shows: it starts no later than 2px before the edge.
        bar.style.left = `min(${sc.at(seg.start)}%, 100% - 2px)`;
        bar.style.width = `${Math.max(sc.at(end) - sc.at(seg.start), 0)}%`;
        bars.append(bar);
      });
      if (typeof row.wake === 'number' && row.status === 'waiting') {
        const mark = el('span', { class: 'wake', title: `wakes at ${localTime(row.wake)}` });
        mark.style.left = `min(${sc.at(row.wake)}%, 100% - 2px)`;
        bars.append(mark);
      }
      const line = el('div', { class: `tl-row${row.id === selected ? ' selected' : ''}`, role: 'row', 'data-id': row.id, 'data-index': index },
        name,
        el('div', { class: 'op-kind', role: 'cell', text: row.kind }),
        el('div', { class: `op-status ${row.status}`, role: 'cell', title: statusText(row), text: statusText(row) }),
        bars);
      line.style.top = `${index * ROW}px`;
      return line;
    }

    // Only the rows in view (and a few around) are in the page: a 10,000-operation execution
    // costs what 40 rows cost.
    function drawRows() {
      const rows = timeline.rows;
      spacer.style.height = `${rows.length * ROW}px`;
      const top = parts.viewport.scrollTop;
      const height = parts.viewport.clientHeight || 600;
      const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
      const last = Math.min(rows.length, Math.ceil((top + height) / ROW) + OVERSCAN);
      const sc = scale();
      const lines = [];
      for (let i = first; i < last; i++) lines.push(rowElement(rows[i], i, sc));
      // Redrawn rows are new elements: keyboard focus moves to the same control of the same row.
      const focused = document.activeElement;
      const row = spacer.contains(focused) ? focused.closest('.tl-row') : null;
      const same = row && [...row.querySelectorAll('button, a, [tabindex]')].indexOf(focused);
      spacer.replaceChildren(...lines);
      if (row) {
        const again = lines.find((line) => line.dataset.id === row.dataset.id);
        const target = again && again.querySelectorAll('button, a, [tabindex]')[same];
        if (target) target.focus();
      }
    }

    function drawDetail() {
      const row = byId().get(selected);
      if (!row) { parts.detail.hidden = true; return; }
      const attempts = row.segments.map((seg, n) => el('li', {}, segmentLabel(row, seg, n, typeof seg.end === 'number' ? seg.end : Date.now() / 1000)));
      fill(parts.detail,
        el('h3', {}, `${row.name} `, el('span', { class: 'op-kind', text: row.kind })),
        el('dl', { class: 'facts' },
          el('dt', { text: 'Id' }), el('dd', {}, idWithCopy(row.id, 'operation id')),
          el('dt', { text: 'Status' }), el('dd', { text: statusText(row) }),
          el('dt', { text: 'Started' }), el('dd', { text: localTime(row.start) }),
          row.message ? [el('dt', { text: 'Error' }), el('dd', { text: `${row.error || ''}: ${row.message}` })] : null,
          typeof row.wake === 'number' ? [el('dt', { text: 'Wakes' }), el('dd', { text: localTime(row.wake) })] : null,
          row.callback_id ? [el('dt', { text: 'Callback id' }), el('dd', {}, idWithCopy(row.callback_id, 'callback id'))] : null,
          row.target ? [el('dt', { text: 'Invokes' }), el('dd', {}, el('a', { href: execHref(row.target), text: row.target }))] : null),
        attempts.length ? el('ol', { class: 'attempts' }, attempts) : null);
      parts.detail.hidden = false;
    }

    function openCallback(row, action) {
      const payload = el('textarea', { id: 'cb-payload', 'aria-label': 'result (JSON)', placeholder: '"approved" or {"ok": true}' });
      const errorType = el('input', { id: 'cb-error-type', 'aria-label': 'error type', value: 'Rejected' });
      const errorMessage = el('input', { id: 'cb-error-message', 'aria-label': 'error message' });
      const note = el('p', { id: 'cb-message', class: 'message', role: 'alert' });
      const send = el('button', { id: 'cb-send', class: 'primary', type: 'button', text: action === 'succeed' ? 'Send result' : 'Send failure' });
      const cancel = el('button', { id: 'cb-cancel', type: 'button', text: 'Cancel', onclick: () => { parts.callback.hidden = true; } });
      send.addEventListener('click', async () => {
        let body;
        if (action === 'succeed') {
          const text = payload.value.trim();
          try { JSON.parse(text); } catch (e) { note.textContent = `the result must be JSON (a string needs quotes, like "yes"): ${e.message}`; payload.focus(); return; }
          body = text;
        } else {
          if (!errorType.value.trim()) { note.textContent = 'give the error a type, like Rejected'; errorType.focus(); return; }
          body = JSON.stringify({ ErrorType: errorType.value.trim(), ErrorMessage: errorMessage.value });
        }
        send.disabled = true;
        try {
          await api(`/${VERSION}/durable-execution-callbacks/${enc(row.callback_id)}/${action}`, { method: 'POST', body });
          parts.callback.hidden = true;
          say(`callback ${row.name}: ${action === 'succeed' ? 'result sent' : 'failure sent'}`, true);
          await refresh();
        } catch (e) { note.textContent = `not sent: ${e.message}`; } finally { send.disabled = false; }
      });
      fill(parts.callback,
        el('h3', { text: `${action === 'succeed' ? 'Succeed' : 'Fail'} callback ${row.name}` }),
        action === 'succeed'
          ? [el('label', { for: 'cb-payload', text: 'Result (JSON)' }), payload]
          : [el('label', { for: 'cb-error-type', text: 'Error type' }), errorType, el('label', { for: 'cb-error-message', text: 'Error message' }), errorMessage],
        note, el('div', { class: 'buttons' }, send, cancel));
      parts.callback.hidden = false;
      (action === 'succeed' ? payload : errorType).focus();
    }

    function eventDetails(event) {
      const details = event[`${event.EventType}Details`] || {};
      const error = details.Error && (details.Error.Payload || details.Error);
      if (error && error.ErrorType) return `${error.ErrorType}${error.ErrorMessage ? `: ${error.ErrorMessage}` : ''}`;
      const payload = (details.Result && details.Result.Payload) || (details.Input && details.Input.Payload);
      if (payload) return payload.length > 80 ? `${payload.slice(0, 79)}…` : payload;
      if (typeof details.ScheduledEndTimestamp === 'number') return `wakes ${clock(details.ScheduledEndTimestamp)}`;
      if (details.CallbackId) return `callback ${shortId(details.CallbackId)}`;
      return '';
    }

    async function loadEvents(fresh) {
      if (fresh) { eventsMarker = null; parts.events.replaceChildren(); }
      const marker = eventsMarker ? `&Marker=${enc(eventsMarker)}` : '';
      const page = await api(`/${VERSION}/durable-executions/${enc(arn)}/history?MaxItems=100&IncludeExecutionData=true${marker}`);
      const names = byId();
      parts.events.append(...(page.Events || []).map((e) => el('tr', {},
        el('td', { class: 'num', text: e.EventId }),
        el('td', { text: clock(e.EventTimestamp), title: localTime(e.EventTimestamp) }),
        el('td', { text: e.EventType }),
        el('td', {}, e.Id ? [(names.get(e.Id) || {}).name || e.Name || '', ' ', el('span', { class: 'id', title: e.Id, text: shortId(e.Id) })] : ''),
        el('td', { class: 'mono', text: eventDetails(e) }))));
      eventsMarker = page.NextMarker || null;
      parts.more.hidden = !eventsMarker;
    }

    async function refresh() {
      const t0 = performance.now();
      const [got, folded] = await Promise.all([
        api(`/${VERSION}/durable-executions/${enc(arn)}`),
        api(`/timeline/${enc(arn)}`),
      ]);
      const t1 = performance.now();
      execution = got;
      timeline = folded;
      document.title = `durable: ${got.DurableExecutionName || shortId(arn)}`;
      parts.name.textContent = got.DurableExecutionName || shortId(arn);
      parts.status.textContent = got.Status.toLowerCase().replace('_', ' ');
      parts.status.className = `badge ${got.Status}`;
      parts.status.dataset.status = got.Status;
      const end = got.EndTimestamp;
      parts.facts.replaceChildren(
        el('dt', { text: 'Function' }), el('dd', { text: functionOf(got.FunctionArn || arn) }),
        el('dt', { text: 'ARN' }), el('dd', {}, idWithCopy(arn, 'execution ARN')),
        el('dt', { text: 'Started' }), el('dd', { text: localTime(got.StartTimestamp) }),
        el('dt', { text: end ? 'Ended' : 'Running for' }),
        el('dd', { text: end ? `${localTime(end)} (after ${duration(end - got.StartTimestamp)})` : duration(Date.now() / 1000 - got.StartTimestamp) }));
      parts.stop.hidden = got.Status !== 'RUNNING';
      parts.input.textContent = pretty(got.InputPayload);
      parts.result.textContent = got.Result !== undefined ? pretty(got.Result) : got.Status === 'RUNNING' ? '(not finished)' : '(none)';
      document.getElementById('error-block').hidden = !got.Error;
      parts.error.textContent = got.Error ? pretty(got.Error) : '';
      parts.summary.textContent = `${timeline.rows.length} operations, ${timeline.invocations} invocations`;
      drawRows();
      if (selected) drawDetail();
      void parts.viewport.offsetHeight; // the rows laid out before the time is taken
      const t2 = performance.now();
      document.body.dataset.timelineFetchMs = (t1 - t0).toFixed(1);
      document.body.dataset.timelineRenderMs = (t2 - t1).toFixed(1);
      document.body.dataset.timelineRows = String(timeline.rows.length);
      if (eventsStatus !== got.Status) { eventsStatus = got.Status; await loadEvents(true); }
    }

    return { refresh, finished: () => !!execution && execution.Status !== 'RUNNING' };
  }

  window.addEventListener('hashchange', route);
  route();
})();
