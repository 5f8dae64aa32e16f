// The responders' UI, progressively enhanced. Every page works without this script; with it:
// - the war room follows its incident live (Server-Sent Events from /app/incidents/{key}/events): when someone else
//   changes the incident, the war room is fetched again and swapped in place, unless you are typing in one of its
//   forms, in which case a note says it changed (your form keeps its version, so submitting it is refused as stale,
//   never applied over the change);
// - the declare form shows the classification verdict as you choose the criteria;
// - the update composer previews the Markdown exactly as the public page renders it;
// - keyboard shortcuts (press ? for the list).
(function () {
  'use strict';

  function $(sel, root) { return (root || document).querySelector(sel); }

  // Keyboard shortcuts ----------------------------------------------------------------------------------------
  var pending = '';
  document.addEventListener('keydown', function (ev) {
    var t = ev.target;
    if (ev.ctrlKey || ev.metaKey || ev.altKey) { return; }
    if (t && (t.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(t.tagName))) { return; }
    var k = ev.key;
    if (pending === 'g' && k === 'i') { pending = ''; location.href = '/app/incidents'; return; }
    pending = k === 'g' ? 'g' : '';
    if (k === '?') {
      var d = document.getElementById('shortcuts');
      if (d && d.showModal) { d.showModal(); ev.preventDefault(); }
      return;
    }
    if (k === 'n') { location.href = '/app/incidents/new'; return; }
    var target = null;
    if (k === '/') { target = $('[data-shortcut="/"]'); }
    if (k === 'a') { target = $('#actions-description'); }
    if (k === 'u') { target = $('[data-shortcut="u"]'); }
    if (k === 'm') { target = $('[data-shortcut="m"]'); }
    if (target) { ev.preventDefault(); target.focus(); }
  });

  // The cadence clock keeps counting on a page left open: "next update due in 12 min" turns to "update overdue by
  // 3 min" (in words and with a mark, not only in colour) without a reload. The server's text is the same.
  function minutes(ms) {
    var m = Math.round(ms / 60000);
    if (m < 1) { return 'under a minute'; }
    if (m >= 120) { return Math.floor(m / 60) + ' h ' + (m % 60) + ' min'; }
    return m + ' min';
  }
  function tickClocks() {
    var now = Date.now();
    Array.prototype.forEach.call(document.querySelectorAll('[data-due]'), function (el) {
      var due = Date.parse(el.getAttribute('data-due'));
      if (isNaN(due)) { return; }
      var over = now > due;
      el.className = over ? 'overdue' : 'due';
      el.setAttribute('data-testid', over ? 'overdue' : 'due');
      el.querySelector('.clock-icon').textContent = over ? '⚠ ' : '';
      el.querySelector('.clock-was').textContent = over ? 'was ' : '';
      el.querySelector('.clock-text').textContent = over ? 'update overdue by ' + minutes(now - due)
        : 'next update due in ' + minutes(due - now);
    });
  }
  window.mimTickClocks = tickClocks; // for the browser test, which moves the clock
  setInterval(tickClocks, 15000);

  // Live classification preview on the declare form --------------------------------------------------------------
  var declare = $('form[data-classify]');
  if (declare && window.fetch) {
    var verdict = document.getElementById('verdict');
    var timer = null;
    var refresh = function () {
      var q = new URLSearchParams(new FormData(declare));
      q.delete('csrf_token'); q.delete('title'); q.delete('description');
      fetch(declare.getAttribute('data-classify') + '?' + q.toString(), { credentials: 'same-origin' })
        .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
        .then(function (res) { render(res.ok ? res.j : null, res.ok ? '' : res.j.error); })
        .catch(function () {});
    };
    var render = function (v, msg) {
      verdict.textContent = '';
      if (!v) { var p = document.createElement('p'); p.className = 'muted'; p.textContent = msg; verdict.appendChild(p); return; }
      var head = document.createElement('p');
      head.className = 'verdict-kind verdict--' + v.kind;
      head.setAttribute('data-testid', 'verdict-kind');
      var strong = document.createElement('strong');
      strong.textContent = v.kind === 'major' ? 'Major incident' : 'Standard incident';
      head.appendChild(strong);
      head.appendChild(document.createTextNode(' · priority ' + v.priority + ' (impact ' + v.impact + ')'));
      verdict.appendChild(head);
      var why = document.createElement('p'); why.textContent = v.reason; verdict.appendChild(why);
      var ul = document.createElement('ul'); ul.className = 'criteria-list';
      v.criteria.forEach(function (c) {
        var li = document.createElement('li');
        var mark = document.createElement('span');
        mark.className = c.met ? 'met' : 'unmet';
        mark.textContent = c.met ? '✓ met ' : '✗ not met ';
        li.appendChild(mark);
        var name = document.createElement('strong'); name.textContent = c.name; li.appendChild(name);
        li.appendChild(document.createTextNode(': ' + c.reason));
        ul.appendChild(li);
      });
      verdict.appendChild(ul);
    };
    declare.addEventListener('change', refresh);
    declare.addEventListener('input', function () { clearTimeout(timer); timer = setTimeout(refresh, 250); });
  }

  // Markdown preview in the update composer ---------------------------------------------------------------------
  function wirePreview(root) {
    var body = $('textarea[data-preview]', root);
    if (!body || !window.fetch) { return; }
    var out = document.getElementById(body.getAttribute('data-preview'));
    var csrf = $('input[name="csrf_token"]', body.form);
    var timer = null;
    body.addEventListener('input', function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var f = new URLSearchParams();
        f.set('csrf_token', csrf ? csrf.value : '');
        f.set('body', body.value);
        fetch('/app/markdown', { method: 'POST', body: f, credentials: 'same-origin' })
          .then(function (r) { return r.json(); })
          // The server's renderer sanitises: this is exactly the HTML the public page will show.
          .then(function (j) { out.innerHTML = j.html; })
          .catch(function () {});
      }, 200);
    });
  }

  // Live war room and incident list ---------------------------------------------------------------------------
  // The element with data-live names its stream; on "changed" the page is fetched again and that element swapped.
  var room = $('[data-live]');
  wirePreview(room || document);
  if (!room || !window.EventSource || !window.DOMParser || !window.fetch) { return; }
  var note = function () { return document.getElementById('live-note'); };
  var dirty = false;
  document.addEventListener('input', function (ev) { if (room.contains(ev.target)) { dirty = true; } });
  var reload = function () {
    if (dirty || (document.activeElement && room.contains(document.activeElement) &&
        /^(INPUT|TEXTAREA|SELECT)$/.test(document.activeElement.tagName))) {
      var n = note();
      if (n) { n.textContent = 'Someone changed this incident. Reload to see it; a form you submit now will be refused as stale.'; }
      return;
    }
    // The war room names its own address: after a refused form the location is the form's (POST-only) one.
    var href = room.getAttribute('data-href') || (location.pathname + location.search);
    fetch(href, { credentials: 'same-origin', headers: { 'Accept': 'text/html' } })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var doc = new DOMParser().parseFromString(html, 'text/html');
        var fresh = doc.querySelector('[data-live]');
        if (!fresh) { return; }
        var y = window.scrollY;
        room.replaceWith(fresh);
        room = fresh;
        window.scrollTo(0, y);
        wirePreview(room);
        tickClocks();
        var n = note();
        if (n && room.getAttribute('data-version')) { n.textContent = 'Updated live (version ' + room.getAttribute('data-version') + ').'; }
      })
      .catch(function () {});
  };
  var es = new EventSource(room.getAttribute('data-live'));
  es.addEventListener('changed', reload);
  document.addEventListener('submit', function () { es.close(); });
})();
