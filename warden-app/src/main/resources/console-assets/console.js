// Live parts of the console: one server-sent-events stream per page; each "update" event asks
// htmx to refresh the page's #live region (hx-trigger="warden-update from:body").
(function () {
  if (!window.EventSource) { return; }
  function connect() {
    var es = new EventSource('/console/events');
    es.addEventListener('update', function () {
      if (window.htmx) { window.htmx.trigger(document.body, 'warden-update'); }
    });
    es.addEventListener('hello', function () { document.body.setAttribute('data-live', 'connected'); });
    es.onerror = function () {
      document.body.setAttribute('data-live', 'reconnecting');
    };
  }
  if (document.readyState === 'loading') { document.addEventListener('DOMContentLoaded', connect); } else { connect(); }
  // after an action, refresh at once rather than waiting for the ledger event
  document.addEventListener('htmx:afterRequest', function (e) {
    if (e.detail && e.detail.requestConfig && e.detail.requestConfig.verb !== 'get' && window.htmx) {
      window.htmx.trigger(document.body, 'warden-update');
    }
  });
})();
