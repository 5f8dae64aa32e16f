// The status page's live updates and local times. Progressive: without this script the page is complete, with its
// times in the page's zone, and a reload shows what changed.
//
// - Every <time datetime> that holds an instant is shown in the viewer's zone, with the zone named; the page's own
//   text stays in its title.
// - An EventSource on /events hears when the page changed; the page is then fetched again (a conditional request,
//   so mostly a 304) and its <main> and footer are swapped in place, keeping focus, scroll position and open
//   <details>, and the change is announced in a polite live region.
(function () {
  'use strict';

  var main = document.getElementById('main');
  if (!main || !window.fetch || !window.DOMParser || !window.Intl) {
    return;
  }
  var root = document.documentElement;
  var footer = document.querySelector('footer.site-footer');
  // What the server sent for <main> and the footer, before times are localised: a fetch that brings the same is no
  // change, and nothing is touched.
  var shown = serverHTML(main, footer);

  function serverHTML(m, f) {
    return m.innerHTML + '\u0000' + (f ? f.innerHTML : '');
  }

  // Local times ------------------------------------------------------------------------------------------------

  var instant = /T\d\d:\d\d/; // a date alone (an uptime day) has no zone to convert
  var format;
  try {
    format = new Intl.DateTimeFormat(undefined, {
      day: 'numeric', month: 'long', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short'
    });
  } catch (e) {
    format = null;
  }

  function localizeTimes(scope) {
    if (!format) {
      return;
    }
    var times = scope.querySelectorAll('time[datetime]');
    for (var i = 0; i < times.length; i++) {
      var el = times[i];
      var value = el.getAttribute('datetime');
      if (!instant.test(value)) {
        continue;
      }
      var when = new Date(value);
      if (isNaN(when.getTime())) {
        continue;
      }
      if (!el.title) {
        el.title = el.textContent.trim(); // the page's zone, on hover
      }
      el.textContent = format.format(when);
      el.setAttribute('data-local', '');
    }
  }

  localizeTimes(document);

  // Live updates -----------------------------------------------------------------------------------------------

  // The live region lives outside <main>, so swapping the page never removes it.
  var notice = document.createElement('div');
  notice.className = 'visually-hidden';
  notice.setAttribute('role', 'status');
  notice.setAttribute('aria-live', 'polite');
  notice.setAttribute('data-testid', 'live-notice');
  document.body.appendChild(notice);

  var lastTag = null; // the page's tag as the last event named it
  var tries = 0;
  var busy = false;
  var again = false;

  function announce(text) {
    notice.textContent = '';
    // A new text node, a moment later, is announced even when it repeats the last one.
    setTimeout(function () { notice.textContent = text; }, 100);
  }

  // anchor is the first element with an id whose top is in view, with where it is, so the reader's place survives
  // content growing above it.
  function anchor() {
    if (window.scrollY <= 0) {
      return null; // at the top, the top is what the reader should see: a new incident appears there
    }
    var els = main.querySelectorAll('[id]');
    for (var i = 0; i < els.length; i++) {
      var top = els[i].getBoundingClientRect().top;
      if (top >= 0) {
        return { id: els[i].id, top: top };
      }
    }
    return null;
  }

  // focusSelector finds el again in the swapped page: by its id, its link, or as the summary of an incident.
  function focusSelector(el) {
    if (!window.CSS || !CSS.escape) {
      return null;
    }
    if (el.id) {
      return '#' + CSS.escape(el.id);
    }
    var href = el.getAttribute('href');
    if (href) {
      return 'a[href="' + CSS.escape(href) + '"]';
    }
    var owner = el.closest('[id]');
    if (el.tagName === 'SUMMARY' && owner && owner !== main) {
      return '#' + CSS.escape(owner.id) + ' summary';
    }
    return null;
  }

  function swap(doc) {
    var next = doc.getElementById('main');
    if (!next) {
      return false;
    }
    var nextFooter = doc.querySelector('footer.site-footer');
    var html = serverHTML(next, nextFooter);
    if (html === shown) {
      return false;
    }
    var focused = document.activeElement;
    var focusInside = focused && main.contains(focused);
    var focusAt = focusInside && focused !== main ? focusSelector(focused) : null;
    var place = anchor();
    var open = [];
    var details = main.querySelectorAll('details[open]');
    for (var i = 0; i < details.length; i++) {
      var owner = details[i].closest('[id]');
      if (owner) {
        open.push(owner.id);
      }
    }

    main.innerHTML = next.innerHTML;
    if (footer && nextFooter) {
      footer.innerHTML = nextFooter.innerHTML;
    }
    shown = html;

    for (var j = 0; j < open.length; j++) {
      var el = document.getElementById(open[j]);
      var d = el && el.querySelector('details');
      if (d) {
        d.open = true;
      }
    }
    localizeTimes(main);
    if (footer) {
      localizeTimes(footer);
    }
    if (place) {
      var same = document.getElementById(place.id);
      if (same) {
        window.scrollBy(0, same.getBoundingClientRect().top - place.top);
      }
    }
    if (focusInside) {
      // Focus was in content that has been replaced: give it back to the same element, or to <main> itself
      // (tabindex=-1), never to <body>.
      var target = focusAt && main.querySelector(focusAt);
      (target || main).focus({ preventScroll: true });
    }
    return true;
  }

  function statusText() {
    var el = main.querySelector('[data-testid="overall-status-text"]');
    return el ? el.textContent.trim() : '';
  }

  // The page's entity tag as the event names it: a proxy may weaken it (W/), and the gzip variant ends in -gz.
  function plainTag(tag) {
    return tag ? tag.replace(/^W\//, '').replace(/-gz"$/, '"') : null;
  }

  // refresh fetches the page and swaps it in when it changed. When what came back is not the page the last event
  // named (a cache in between still had the old one, or the fetch failed), it tries again a few times, later each
  // time.
  function refresh() {
    if (busy) {
      again = true;
      return;
    }
    busy = true;
    var url = location.pathname + location.search;
    fetch(url, { cache: 'no-cache', credentials: 'same-origin', headers: { Accept: 'text/html' } })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error('status page answered ' + resp.status);
        }
        var tag = plainTag(resp.headers.get('ETag'));
        return resp.text().then(function (text) { return { text: text, tag: tag }; });
      })
      .then(function (got) {
        var doc = new DOMParser().parseFromString(got.text, 'text/html');
        if (swap(doc)) {
          var time = format ? new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' })
            .format(new Date()) : '';
          announce('Status updated' + (time ? ' at ' + time : '') + ': ' + statusText() + '.');
          root.setAttribute('data-live-updated', String(Date.now()));
        }
        // Events name the tag of "/"; another page (a permalink) has its own.
        if (location.pathname === '/' && got.tag && lastTag && got.tag !== lastTag) {
          retryLater();
        } else {
          tries = 0;
        }
      })
      .catch(retryLater)
      .then(function () {
        busy = false;
        if (again) {
          again = false;
          refresh();
        }
      });
  }

  function retryLater() {
    if (tries < 4) {
      tries++;
      setTimeout(refresh, 1500 * tries);
    }
  }

  // Pages that hold a form (subscribing, managing a subscription) are not live: swapping them would throw away what
  // the reader typed or the answer to what they just sent.
  if (!window.EventSource || document.querySelector('main form')) {
    return;
  }
  var delay = 30000;

  function connect() {
    var source = new EventSource('/events');
    source.addEventListener('open', function () {
      delay = 30000;
      root.setAttribute('data-live', 'open');
    });
    source.addEventListener('status', function (e) {
      var tag;
      try {
        tag = JSON.parse(e.data).etag;
      } catch (err) {
        return;
      }
      if (tag === lastTag) {
        return;
      }
      lastTag = tag;
      tries = 0;
      refresh();
    });
    source.addEventListener('error', function () {
      root.setAttribute('data-live', 'reconnecting');
      if (source.readyState === EventSource.CLOSED) {
        // Refused (too many clients, or no live updates here): the browser gives up, so try again later, spread out.
        source.close();
        setTimeout(connect, delay / 2 + Math.random() * delay);
        delay = Math.min(delay * 2, 600000);
      }
    });
  }

  connect();
})();
