/* cmi5 runtime (AU side of the cmi5 spec "Quartz", /work/shared/specs/cmi5): launch parameters (8.1),
 * one-time token fetch (8.2), LMS.LaunchData (10), learner preferences (11), cmi5 defined statements
 * (9.3, 9.5, 9.6) and "cmi5 allowed" progressed/answered statements between initialized and terminated. */
(function (root) {
  "use strict";
  var S = root.SMEB, X = S.xapi;
  var CAT_CMI5 = { id: "https://w3id.org/xapi/cmi5/context/categories/cmi5" };
  var CAT_MOVEON = { id: "https://w3id.org/xapi/cmi5/context/categories/moveon" };
  var EXT_MASTERY = "https://w3id.org/xapi/cmi5/context/extensions/masteryscore";
  var EXT_PROGRESS = "https://w3id.org/xapi/cmi5/result/extensions/progress";
  var STATE_ID = "https://smeb.no/xapi/state/player"; // our own resume document, beside LMS.LaunchData
  var REPORTED = { completed: 1, passed: 2, failed: 4 };
  // The SMEB profile category: its video templates (xapi/profile/smeb-profile.jsonld) require it on video statements.
  var PROFILE = { id: "https://smeb.no/xapi/profile/v1", definition: { type: "http://adlnet.gov/expapi/activities/profile" } };

  function clone(x) { return JSON.parse(JSON.stringify(x)); }

  (S.runtimes = S.runtimes || {}).cmi5 = function (cfg, env) {
    var core = env.core, p = X.launchParams(), lrs, launch = {}, actor, started = Date.now(), terminated = false;
    var normal = true, sentThisSession = {}, pendingState = null, lastProgress = -1;

    function requireParam(name) {
      if (!p[name]) throw new Error("cmi5 8.1: the launch URL has no '" + name + "' parameter. Launch the course from the LMS.");
      return p[name];
    }

    function token() {
      var key = "smeb:cmi5:token:" + p.registration + ":" + p.fetch;
      var saved = null;
      try { saved = root.sessionStorage.getItem(key); } catch (err) { /* no session storage */ }
      if (saved) return Promise.resolve(saved); // 8.2: the fetch URL answers only once; a reload reuses the token
      return fetch(p.fetch, { method: "POST", credentials: "omit" }).then(function (res) { return res.json(); }).then(function (body) {
        if (!body["auth-token"]) {
          throw new Error("cmi5 8.2.3: the fetch URL gave no token (" + (body["error-text"] || "error " + body["error-code"]) + "). Relaunch the course from the LMS.");
        }
        try { root.sessionStorage.setItem(key, body["auth-token"]); } catch (err) { /* keep in memory only */ }
        return body["auth-token"];
      });
    }

    function params(extra) {
      var out = { activityId: p.activityId, agent: JSON.stringify(actor), registration: p.registration };
      for (var k in extra) out[k] = extra[k];
      return out;
    }

    /** A statement with the LMS's context template (9.6), registration and, for cmi5 defined ones, the cmi5 category. */
    function statement(verbId, verbName, opts) {
      var ctx = clone(launch.contextTemplate || {});
      ctx.registration = p.registration;
      ctx.contextActivities = ctx.contextActivities || {};
      if (opts.defined) {
        var cats = (ctx.contextActivities.category || []).slice();
        cats.push(CAT_CMI5);
        if (opts.moveOn) cats.push(CAT_MOVEON);
        ctx.contextActivities.category = cats;
      }
      if (opts.extensions) { ctx.extensions = ctx.extensions || {}; for (var k in opts.extensions) ctx.extensions[k] = opts.extensions[k]; }
      (opts.categories || []).forEach(function (c) { ctx.contextActivities.category = (ctx.contextActivities.category || []).concat([c]); });
      var s = { id: core.uuid(), timestamp: new Date().toISOString(), actor: actor, verb: opts.verb || X.verb(verbId, verbName),
        object: opts.object || { objectType: "Activity", id: p.activityId }, context: ctx };
      if (opts.result) s.result = opts.result;
      return s;
    }

    function send(s, keepalive) { return lrs.send(s, keepalive); }

    function flushState(keepalive) {
      if (!pendingState) return Promise.resolve();
      var doc = pendingState;
      pendingState = null;
      return lrs.putState(params({ stateId: STATE_ID }), doc, keepalive);
    }

    var allow = function () { return normal && !terminated; };

    /** Per-launch flags in sessionStorage (survive a reload of this tab, not a new launch). */
    function mark(name, value) {
      var key = "smeb:cmi5:" + name + ":" + p.fetch;
      try {
        if (value) root.sessionStorage.setItem(key, "1");
        return root.sessionStorage.getItem(key) === "1";
      } catch (err) { return !!value; }
    }

    return {
      init: function () {
        var endpoint = requireParam("endpoint");
        requireParam("fetch"); requireParam("registration"); requireParam("activityId");
        actor = JSON.parse(requireParam("actor"));
        return token().then(function (tok) {
          lrs = new X.Lrs(endpoint, "Basic " + tok);
          return Promise.all([
            lrs.getDocument("activities/state", params({ stateId: "LMS.LaunchData" })),
            lrs.getDocument("agents/profile", { agent: JSON.stringify(actor), profileId: "cmi5LearnerPreferences" }).catch(function () { return null; }),
            lrs.getDocument("activities/state", params({ stateId: STATE_ID })).catch(function () { return null; })
          ]);
        }).then(function (docs) {
          if (!docs[0]) throw new Error("cmi5 10.0: LMS.LaunchData is missing for this registration. Relaunch the course from the LMS.");
          launch = docs[0];
          var prefs = docs[1] || {}, saved = docs[2] || {};
          normal = (launch.launchMode || "Normal") === "Normal";
          if (mark("terminated")) throw new Error("cmi5 9.3.8: this session has ended. Start the course again from the LMS.");
          // 7.1.1 / 9.3.2: initialized is the first statement of the session, and only once: a reload continues it.
          if (!mark("initialized")) {
            send(statement("initialized", "initialized", { defined: true }));
            mark("initialized", true);
          }
          return {
            learner: { id: (actor.account && actor.account.name) || actor.mbox || "cmi5", name: actor.name || null },
            locale: core.pickLocale(String(prefs.languagePreference || "").split(",")),
            audio: prefs.audioPreference || null,
            state: typeof saved.s === "string" ? saved.s : null,
            mode: normal ? "normal" : String(launch.launchMode).toLowerCase(),
            masteryScore: typeof launch.masteryScore === "number" ? launch.masteryScore : null,
            moveOn: launch.moveOn || null
          };
        });
      },
      saveState: function (s) {
        pendingState = { s: s.data, l: s.location };
        return Promise.resolve();
      },
      commit: function () { return flushState(false); },
      recordProgress: function (pr) {
        if (!allow() || sentThisSession.completed) return Promise.resolve();
        var pct = Math.round(pr.progress * 100);
        if (pct === lastProgress || pct >= 100) return Promise.resolve(); // 9.5.5.1: no progress once completed
        lastProgress = pct;
        var result = { extensions: {} };
        result.extensions[EXT_PROGRESS] = pct;
        return send(statement("progressed", "progressed", { result: result }));
      },
      recordAnswer: function (it) {
        if (!allow()) return Promise.resolve();
        if (it.type === "reflection" || it.type === "submission") return Promise.resolve();
        return send(statement("answered", "answered", { object: X.interactionActivity(it), result: X.interactionResult(it) }));
      },
      recordVideo: function (ev) {
        // "cmi5 allowed" (9.1): no cmi5 category; no video "initialized" (read as a second one, 9.3.2).
        if (!allow()) return Promise.resolve();
        var v = X.videoParts(ev);
        return send(statement(null, null, { verb: v.verb, object: v.object, result: v.result, extensions: v.extensions,
          categories: [PROFILE, v.category] }));
      },
      complete: function (o) {
        var bits = o.reported | 0;
        if (!allow()) return Promise.resolve(bits);
        var moveOn = launch.moveOn || "CompletedOrPassed", duration = core.isoDuration(Date.now() - started);
        var judged = o.passed != null && moveOn !== "NotApplicable" && moveOn !== "Completed";
        var out = [];
        var v = o.passed ? "passed" : "failed";
        // 9.3 ordering: one of passed/failed per session, one passed per registration, no failed after passed;
        // and a verdict already reported in this registration is not repeated at the next launch.
        if (judged && !sentThisSession.judged && !(bits & REPORTED.passed) && !(bits & REPORTED[v]) && o.score) {
          var ext = {};
          if (typeof launch.masteryScore === "number") ext[EXT_MASTERY] = launch.masteryScore;
          out.push(statement(v, v, { defined: true, moveOn: true, extensions: ext,
            result: { success: o.passed, score: { scaled: o.score.scaled, raw: o.score.raw, min: o.score.min, max: o.score.max }, duration: duration } }));
          sentThisSession.judged = true;
          bits |= REPORTED[v];
        }
        if (o.completed && moveOn !== "NotApplicable" && !(bits & REPORTED.completed)) {
          out.push(statement("completed", "completed", { defined: true, moveOn: true, result: { completion: true, duration: duration } }));
          sentThisSession.completed = true;
          bits |= REPORTED.completed;
        }
        out.forEach(function (s) { send(s); });
        return Promise.resolve(bits);
      },
      terminate: function (opts) {
        if (terminated || !lrs) return Promise.resolve();
        if (opts.unloading) {
          // pagehide cannot tell a reload from a closed tab. A reload continues this session (token and
          // "initialized" are remembered in sessionStorage), so only the state and queued statements go now;
          // a tab closed for good leaves the session to the LMS, which records "abandoned" (9.3.6).
          flushState(true);
          return lrs.outbox.flush(true);
        }
        flushState(false);
        // 9.3.8: terminated is the last statement of the session, with the session's duration.
        send(statement("terminated", "terminated", { defined: true, result: { duration: core.isoDuration(Date.now() - started) } }));
        terminated = true;
        mark("terminated", true);
        return lrs.drain();
      },
      exitUrl: function () { return launch.returnURL || null; },
      pending: function () { return lrs ? lrs.outbox.pending() : 0; }
    };
  };
})(this);
