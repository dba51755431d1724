/* Durable HTTP delivery for the cmi5, xAPI and LTI runtimes (building sites lose the network): a localStorage
 * outbox sent in order, retried with backoff; statements PUT with their own id, so a retry's 204/409 counts as sent. */
(function (root) {
  "use strict";
  var S = root.SMEB;
  var XAPI_VERSION = "1.0.3";
  var KEEPALIVE_BUDGET = 60000; // browsers allow 64 KiB of keepalive bodies in flight

  /**
   * @param {string} key  localStorage key of this outbox (one per endpoint).
   * @param {function(): Object} headers  the headers to send now (auth may change between sessions).
   */
  function Outbox(key, headers) {
    this.key = key;
    this.headers = headers;
    this.busy = false;
    this.attempt = 0;
    this.timer = null;
    this.memory = [];
    this.dead = [];
    this.inflight = null; // rid being sent by flush
    this.handedOver = {}; // rids sent by flushUnloading
    this.batch = null; // Lrs: items -> one request
    // Called with (item, parsed JSON body) when an item pushed with `reply: true` is accepted (the LTI tool's verdicts).
    this.onReply = null;
    var self = this;
    root.addEventListener("online", function () { self.attempt = 0; self.flush(); });
  }

  Outbox.prototype.load = function () {
    try { return JSON.parse(root.localStorage.getItem(this.key)) || []; } catch (err) { return this.memory; }
  };

  Outbox.prototype.store = function (items) {
    this.memory = items;
    try { root.localStorage.setItem(this.key, JSON.stringify(items)); } catch (err) { /* blocked or full: memory only */ }
  };

  /** Queue a request; `coalesce` replaces an earlier queued request with the same coalesce key (state documents). */
  Outbox.prototype.push = function (item, keepalive) {
    var items = this.load();
    if (item.coalesce) items = items.filter(function (x) { return x.coalesce !== item.coalesce; });
    items.push(item);
    this.store(items);
    return this.flush(keepalive);
  };

  Outbox.prototype.pending = function () { return this.load().length; };

  /** pagehide: hand everything queued to the browser at once with fetch keepalive (sendBeacon cannot send the
   * Authorization header); docs/player.md "Closing the page". Statements as one batch, newest first into the
   * budget; items stay queued until acknowledged. */
  Outbox.prototype.flushUnloading = function () {
    var self = this, budget = KEEPALIVE_BUDGET, sends = [];
    var items = self.load().filter(function (x) { return x.rid !== self.inflight && !self.handedOver[x.rid]; });
    var chosen = [];
    for (var i = items.length - 1; i >= 0; i--) {
      var n = S.core.utf8Length(items[i].body || "") + 1;
      if (n > budget) continue;
      budget -= n;
      if (self.batch && items[i].batch) chosen.unshift(items[i]); else sends.push({ items: [items[i]], request: items[i] });
    }
    sends.reverse(); // queue order
    if (chosen.length) sends.unshift({ items: chosen, request: self.batch(chosen) });
    return Promise.all(sends.map(function (send) {
      var rids = send.items.map(function (x) { self.handedOver[x.rid] = true; return x.rid; });
      var headers = self.headers();
      if (send.request.contentType !== null) headers["Content-Type"] = send.request.contentType || "application/json";
      return fetch(send.request.url, { method: send.request.method, headers: headers, body: send.request.body, keepalive: true, credentials: "omit" })
        .then(function (res) {
          if (res.ok || res.status === 409) self.store(self.load().filter(function (x) { return rids.indexOf(x.rid) < 0; }));
        })
        .catch(function () { /* kept for the next launch */ });
    })).then(function () { return true; });
  };

  Outbox.prototype.flush = function (keepalive) {
    var self = this;
    if (keepalive) return self.flushUnloading();
    if (self.busy) return self.busy;
    clearTimeout(self.timer);
    var run = function () {
      var items = self.load();
      if (!items.length) { self.attempt = 0; return Promise.resolve(true); }
      var item = items[0];
      var headers = self.headers();
      if (item.contentType !== null) headers["Content-Type"] = item.contentType || "application/json";
      self.inflight = item.rid;
      return fetch(item.url, { method: item.method, headers: headers, body: item.body, credentials: "omit" })
        .then(function (res) {
          self.inflight = null;
          if (res.ok && item.reply && self.onReply) {
            return res.json().catch(function () { return null; }).then(function (body) {
              try { self.onReply(item, body); } catch (err) { /* a reader's bug must not block the queue */ }
              return true;
            });
          }
          if (res.ok || res.status === 409) return true;
          // 401: the token of this session expired; keep the item for the next session's token.
          if (res.status === 401 || res.status === 429 || res.status >= 500) throw new Error("HTTP " + res.status);
          // Any other 4xx is permanent: keep it aside (for support) so it does not block the queue.
          return res.text().then(function (why) {
            self.dead.push({ item: item, status: res.status, why: why });
            if (root.console) root.console.error("SMEB: " + item.method + " " + item.url + " rejected with HTTP " + res.status + ": " + why.slice(0, 500));
            return true;
          });
        })
        .then(function () {
          self.store(self.load().filter(function (x) { return x.rid !== item.rid; }));
          self.attempt = 0;
          return run();
        });
    };
    self.busy = run().catch(function () {
      self.inflight = null;
      // Backoff 1 s, 2 s, 4 s ... capped at one minute, with jitter so many tablets do not retry in step.
      var delay = Math.min(60000, 1000 * Math.pow(2, self.attempt++)) * (0.75 + Math.random() / 2);
      self.timer = setTimeout(function () { self.flush(); }, delay);
      return false;
    }).then(function (ok) { self.busy = false; return ok; });
    return self.busy;
  };

  /* ---------- xAPI helpers ---------- */

  function query(params) {
    return Object.keys(params).filter(function (k) { return params[k] != null; })
      .map(function (k) { return encodeURIComponent(k) + "=" + encodeURIComponent(params[k]); }).join("&");
  }

  /** A small xAPI client: statements go through the outbox; documents are read directly. */
  function Lrs(endpoint, auth) {
    this.endpoint = endpoint.replace(/\/?$/, "/");
    this.auth = auth;
    var self = this;
    this.outbox = new Outbox("smeb:outbox:" + this.endpoint, function () {
      return { Authorization: self.auth, "X-Experience-API-Version": XAPI_VERSION };
    });
    this.outbox.batch = function (items) {
      return { method: "POST", url: self.endpoint + "statements", body: "[" + items.map(function (x) { return x.body; }).join(",") + "]" };
    };
  }

  /** Queue a statement (synchronously, so the queue order is the statement order) and start delivery. */
  Lrs.prototype.send = function (statement, keepalive) {
    var item = { rid: statement.id, batch: true, method: "PUT", url: this.endpoint + "statements?" + query({ statementId: statement.id }), body: JSON.stringify(statement) };
    var items = this.outbox.load();
    items.push(item);
    this.outbox.store(items);
    return this.outbox.flush(keepalive);
  };

  /** Resolves once everything queued so far is delivered (or delivery failed and a retry is scheduled). */
  Lrs.prototype.drain = function () {
    var self = this;
    return Promise.resolve(self.outbox.busy).then(function () { return self.outbox.flush(); });
  };

  Lrs.prototype.getDocument = function (resource, params) {
    return fetch(this.endpoint + resource + "?" + query(params), {
      headers: { Authorization: this.auth, "X-Experience-API-Version": XAPI_VERSION }, credentials: "omit", cache: "no-store"
    }).then(function (res) {
      if (res.status === 404) return null;
      if (!res.ok) throw new Error("xAPI GET " + resource + " answered HTTP " + res.status);
      return res.text().then(function (text) { try { return JSON.parse(text); } catch (err) { return text; } });
    });
  };

  Lrs.prototype.putState = function (params, doc, keepalive) {
    var url = this.endpoint + "activities/state?" + query(params);
    return this.outbox.push({ rid: S.core.uuid(), coalesce: url, method: "PUT", url: url, body: JSON.stringify(doc) }, keepalive);
  };

  function verb(id, en, nb) {
    var display = { "en-US": en };
    if (nb) display.nb = nb;
    return { id: "http://adlnet.gov/expapi/verbs/" + id, display: display };
  }

  /** xAPI activity definition of a player interaction (cmi.interaction, xAPI Data 2.4.4.1). */
  function interactionActivity(it) {
    var def = { type: "http://adlnet.gov/expapi/activities/cmi.interaction", interactionType: it.type, description: it.description };
    // Interaction components per type (xAPI Data 2.4.4.1): choices only for choice/sequencing, scale for likert.
    if (it.choices && (it.type === "choice" || it.type === "sequencing")) {
      def.choices = it.choices.map(function (c) { return { id: c.id, description: c.text || { nb: c.id, en: c.id } }; });
    }
    if (it.type === "likert") def.scale = it.choices.map(function (c) { return { id: c.id, description: { nb: c.id, en: c.id } }; });
    if (it.correct) def.correctResponsesPattern = [it.type === "true-false" ? it.correct[0] : it.correct.join("[,]")];
    if (it.type === "numeric" && it.range) def.extensions = { "https://smeb.no/xapi/extensions/survey-scale": { min: it.range[0], max: it.range[1] } };
    return { objectType: "Activity", id: it.activityId, definition: def };
  }

  function interactionResult(it) {
    var result = { response: it.type === "choice" || it.type === "sequencing" ? it.response.join("[,]") : String(it.response[0]) };
    if (it.result === "correct" || it.result === "incorrect") result.success = it.result === "correct";
    return result;
  }

  /* ADL xAPI video profile v1.0.3 (../shared/xapi/xapi-video-profile-v1.0.3.jsonld) and the SMEB profile's
   * video templates (xapi/profile/smeb-profile.jsonld): the parts of one video statement, from a player video event. */
  var VIDEO = "https://w3id.org/xapi/video/";
  var VIDEO_VERBS = {
    played: { id: VIDEO + "verbs/played", display: { "en-US": "played", nb: "spilte av" } },
    paused: { id: VIDEO + "verbs/paused", display: { "en-US": "paused", nb: "satte på pause" } },
    seeked: { id: VIDEO + "verbs/seeked", display: { "en-US": "seeked", nb: "spolte" } },
    completed: { id: "http://adlnet.gov/expapi/verbs/completed", display: { "en-US": "completed", nb: "fullførte" } }
  };

  function videoParts(ev) {
    var ext = {}, ctxExt = {}, result = null;
    if (ev.verb === "seeked") { ext[VIDEO + "extensions/time-from"] = ev.timeFrom; ext[VIDEO + "extensions/time-to"] = ev.timeTo; }
    else ext[VIDEO + "extensions/time"] = ev.time;
    if (ev.verb === "paused" || ev.verb === "completed") {
      ext[VIDEO + "extensions/progress"] = ev.progress;
      ext[VIDEO + "extensions/played-segments"] = ev.segments;
    }
    result = { extensions: ext };
    if (ev.verb === "completed") { result.completion = true; result.duration = ev.duration; }
    if (ev.length != null) ctxExt[VIDEO + "extensions/length"] = ev.length;
    if (ev.threshold != null) ctxExt[VIDEO + "extensions/completion-threshold"] = ev.threshold;
    ctxExt[VIDEO + "extensions/session-id"] = ev.sessionId;
    ctxExt[VIDEO + "extensions/cc-subtitle-enabled"] = !!ev.ccEnabled;
    if (ev.ccLang) ctxExt[VIDEO + "extensions/cc-subtitle-lang"] = ev.ccLang;
    var def = { type: VIDEO + "activity-type/video" };
    if (ev.name) def.name = ev.name;
    return { verb: VIDEO_VERBS[ev.verb], object: { objectType: "Activity", id: ev.activityId, definition: def }, result: result,
      category: { id: "https://w3id.org/xapi/video" }, extensions: ctxExt };
  }

  function launchParams() {
    var out = {};
    new URLSearchParams(root.location.search).forEach(function (v, k) { out[k] = v; });
    return out;
  }

  S.xapi = { Outbox: Outbox, Lrs: Lrs, verb: verb, interactionActivity: interactionActivity, interactionResult: interactionResult,
    videoParts: videoParts, launchParams: launchParams, VERSION: XAPI_VERSION };
})(this);
