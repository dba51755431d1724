/* xAPI runtime for the "TinCan launch" convention (endpoint, auth, actor, registration, activity_id in the
 * launch URL). Statements follow docs/xapi-profile.md; resume through the State API. */
(function (root) {
  "use strict";
  var S = root.SMEB, X = S.xapi;
  var PROFILE = { id: "https://smeb.no/xapi/profile/v1", definition: { type: "http://adlnet.gov/expapi/activities/profile" } };
  var EXT_SESSION = "https://smeb.no/xapi/extensions/session-id";
  var EXT_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress";
  var STATE_ID = "https://smeb.no/xapi/state/player";
  var REPORTED = { completed: 1, passed: 2, failed: 4 };

  /** TinCan launch actors may carry arrays ({"name": ["Ola"], "mbox": ["mailto:.."]}); xAPI wants single values. */
  function normalizeActor(a) {
    var out = { objectType: "Agent" };
    ["name", "mbox", "mbox_sha1sum", "openid"].forEach(function (k) { if (a[k] != null) out[k] = Array.isArray(a[k]) ? a[k][0] : a[k]; });
    var acc = Array.isArray(a.account) ? a.account[0] : a.account;
    if (acc) out.account = { homePage: acc.homePage || acc.accountServiceHomePage, name: acc.name || acc.accountName };
    return out;
  }

  (S.runtimes = S.runtimes || {}).xapi = function (cfg, env) {
    var core = env.core, course = env.course, p = X.launchParams(), lrs, actor, activityId, session = core.uuid();
    var started = Date.now(), pendingState = null, terminated = false, lastProgress = -1, complete = false;

    function params(extra) {
      var out = { activityId: activityId, agent: JSON.stringify(actor), registration: p.registration || null };
      for (var k in extra) out[k] = extra[k];
      return out;
    }

    function statement(verbId, verbName, verbNb, opts) {
      var ctx = { platform: "SMEB", language: "nb", contextActivities: { category: [PROFILE].concat(opts.categories || []) }, extensions: {} };
      ctx.extensions[EXT_SESSION] = session;
      for (var k in opts.extensions || {}) ctx.extensions[k] = opts.extensions[k];
      if (p.registration) ctx.registration = p.registration;
      var object = opts.object || { objectType: "Activity", id: activityId,
        definition: { type: "http://adlnet.gov/expapi/activities/course", name: course.title } };
      if (object.id !== activityId) ctx.contextActivities.grouping = [{ objectType: "Activity", id: activityId }];
      var s = { id: core.uuid(), timestamp: new Date().toISOString(), actor: actor,
        verb: opts.verb || X.verb(verbId, verbName, verbNb), object: object, context: ctx };
      if (opts.result) s.result = opts.result;
      return s;
    }

    function flushState(keepalive) {
      if (!pendingState || !p.registration && !actor) return Promise.resolve();
      var doc = pendingState;
      pendingState = null;
      return lrs.putState(params({ stateId: STATE_ID }), doc, keepalive);
    }

    return {
      init: function () {
        if (!p.endpoint || !p.actor) {
          return Promise.reject(new Error("xAPI launch: the URL needs 'endpoint', 'auth' and 'actor' parameters (TinCan launch). Launch the course from the LMS."));
        }
        actor = normalizeActor(JSON.parse(p.actor));
        activityId = p.activity_id || course.id;
        lrs = new X.Lrs(p.endpoint, p.auth || "");
        return lrs.getDocument("activities/state", params({ stateId: STATE_ID })).catch(function () { return null; }).then(function (saved) {
          saved = saved || {};
          lrs.send(statement("launched", "launched", "startet", {}));
          lrs.send(statement("initialized", "initialized", "initialiserte", {}));
          return {
            learner: { id: (actor.account && actor.account.name) || actor.mbox || "xapi", name: actor.name || null },
            locale: core.pickLocale([p.lang || p.locale || ""]),
            state: typeof saved.s === "string" ? saved.s : null, mode: "normal"
          };
        });
      },
      saveState: function (s) { pendingState = { s: s.data, l: s.location }; return Promise.resolve(); },
      commit: function () { return flushState(false); },
      recordProgress: function (pr) {
        var pct = Math.round(pr.progress * 100);
        if (pct === lastProgress || complete) return Promise.resolve();
        lastProgress = pct;
        var result = { extensions: {} };
        result.extensions[EXT_PROGRESS] = pct;
        return lrs.send(statement("progressed", "progressed", "gjorde fremskritt", { result: result }));
      },
      recordAnswer: function (it) {
        if (it.type === "reflection") {
          return lrs.send(statement(null, null, null, { verb: { id: "https://smeb.no/xapi/verbs/reflected", display: { "en-US": "reflected", nb: "reflekterte" } },
            object: { objectType: "Activity", id: it.activityId, definition: { type: "https://smeb.no/xapi/activities/reflection", description: it.description } },
            result: { completion: true } }));
        }
        if (it.type === "submission") {
          return lrs.send(statement(null, null, null, { verb: { id: "http://activitystrea.ms/schema/1.0/submit", display: { "en-US": "submitted", nb: "leverte" } },
            object: { objectType: "Activity", id: it.activityId, definition: { type: "https://smeb.no/xapi/activities/action-plan", description: it.description } },
            result: { completion: true } }));
        }
        return lrs.send(statement("answered", "answered", "svarte", { object: X.interactionActivity(it), result: X.interactionResult(it) }));
      },
      recordVideo: function (ev) {
        var v = X.videoParts(ev);
        return lrs.send(statement(null, null, null, { verb: v.verb, object: v.object, result: v.result, categories: [v.category], extensions: v.extensions }));
      },
      complete: function (o) {
        var bits = o.reported | 0, duration = core.isoDuration(Date.now() - started);
        if (o.passed != null && o.score && !(bits & REPORTED.passed)) {
          var v = o.passed ? "passed" : "failed";
          if (!(bits & REPORTED[v])) {
            lrs.send(statement(v, v, o.passed ? "bestod" : "strøk", {
              result: { success: o.passed, score: { scaled: o.score.scaled, raw: o.score.raw, min: o.score.min, max: o.score.max }, duration: duration } }));
            bits |= REPORTED[v];
          }
        }
        if (o.completed && !(bits & REPORTED.completed)) {
          complete = true;
          lrs.send(statement("completed", "completed", "fullførte", { result: { completion: true, duration: duration } }));
          bits |= REPORTED.completed;
        }
        return Promise.resolve(bits);
      },
      terminate: function (opts) {
        if (terminated || !lrs) return Promise.resolve();
        terminated = true;
        flushState(opts.unloading);
        // Not complete: "suspended", so reports can tell a pause from an end.
        var v = opts.complete ? ["terminated", "terminated", "avsluttet"] : ["suspended", "suspended", "satte på pause"];
        var done = lrs.send(statement(v[0], v[1], v[2], { result: { duration: core.isoDuration(Date.now() - started) } }), opts.unloading);
        return opts.unloading ? done : lrs.drain();
      },
      exitUrl: function () { return cfg.returnURL || null; },
      pending: function () { return lrs ? lrs.outbox.pending() : 0; }
    };
  };
})(this);
