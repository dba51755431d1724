/* LTI runtime: the SMEB LTI tool serves the player and receives learner events as JSON (docs/player.md).
 * smeb-config.json (rendered per launch by the tool) carries eventsUrl, token, learner, locale and state.
 * Events go through the durable outbox; each has a UUID `id`, so the tool can answer a replay with 409. */
(function (root) {
  "use strict";
  var S = root.SMEB, X = S.xapi;

  (S.runtimes = S.runtimes || {}).lti = function (cfg, env) {
    var core = env.core, started = Date.now(), terminated = false, pendingState = null;
    var normal = (cfg.mode || "normal") === "normal"; // browse/review launches report nothing but start and end
    if (!cfg.eventsUrl) throw new Error("LTI runtime: smeb-config.json has no eventsUrl. The LTI tool must render it per launch.");
    var headerName = cfg.tokenHeader || "X-SMEB-Launch-Token";
    var outbox = new X.Outbox("smeb:outbox:" + cfg.eventsUrl, function () {
      var h = {};
      if (cfg.token) h[headerName] = cfg.token;
      return h;
    });

    // Answers to keyless quizzes wait for the tool's reply: it holds the verdict (the key never reaches the browser).
    var waiting = {};
    outbox.onReply = function (item, body) {
      var done = waiting[item.rid];
      delete waiting[item.rid];
      if (done) done(body);
    };

    function post(type, data, keepalive, coalesce) {
      var ev = { id: core.uuid(), type: type, time: new Date().toISOString(), courseId: cfg.courseId, data: data };
      return outbox.push({ rid: ev.id, coalesce: coalesce, method: "POST", url: cfg.eventsUrl, body: JSON.stringify(ev) }, keepalive);
    }

    function flushState(keepalive) {
      if (!pendingState) return Promise.resolve();
      var s = pendingState;
      pendingState = null;
      return post("state", s, keepalive, "state");
    }

    return {
      init: function () {
        post("initialized", {});
        return Promise.resolve({ learner: cfg.learner || null, locale: core.pickLocale([cfg.locale || ""]), state: cfg.state || null,
          mode: cfg.mode || "normal", masteryScore: typeof cfg.masteryScore === "number" ? cfg.masteryScore : null,
          verdicts: cfg.verdicts || {} });
      },
      saveState: function (s) { pendingState = { state: s.data, location: s.location }; return Promise.resolve(); },
      commit: function () { return flushState(false); },
      recordProgress: function (pr) { if (!normal) return Promise.resolve(); return post("progressed", { lesson: pr.lessonId, progress: pr.progress }); },
      recordAnswer: function (it) {
        // Reflections arrive without text (the encrypted journal is a later, separate channel); plans without content.
        if (!normal) return Promise.resolve();
        var data = { blockId: it.blockId, activityId: it.activityId, type: it.type };
        if (it.result != null) data.result = it.result;
        if (it.response && it.type !== "reflection" && it.type !== "submission") data.response = it.response;
        if (it.points != null) { data.points = it.points; data.maxPoints = it.maxPoints; }
        if (it.result != null) return post("answered", data);
        // Keyless quiz: resolves with the tool's {verdict} once accepted (a replay's lost reply: next launch's config).
        var id = core.uuid();
        return new Promise(function (resolve) {
          waiting[id] = resolve;
          var ev = { id: id, type: "answered", time: new Date().toISOString(), courseId: cfg.courseId, data: data };
          outbox.push({ rid: id, reply: true, method: "POST", url: cfg.eventsUrl, body: JSON.stringify(ev) });
        });
      },
      // The tool turns these into the same ADL video profile statements as the xAPI runtime (smeb_lti/play/statements.py).
      recordVideo: function (ev) {
        var data = { blockId: ev.blockId, verb: ev.verb, sessionId: ev.sessionId, ccEnabled: !!ev.ccEnabled }, keys = ["time", "timeFrom", "timeTo",
          "progress", "segments", "length", "ccLang", "duration"];
        keys.forEach(function (k) { if (ev[k] != null) data[k] = ev[k]; });
        return post("video", data);
      },
      complete: function (o) {
        if (!normal) return Promise.resolve(o.reported);
        return post("outcome", { completed: o.completed, passed: o.passed, score: o.score, progress: o.progress }).then(function () { return o.reported; });
      },
      terminate: function (opts) {
        if (terminated) return Promise.resolve();
        terminated = true;
        flushState(opts.unloading);
        return post("terminated", { complete: opts.complete, duration: core.isoDuration(Date.now() - started) }, opts.unloading);
      },
      exitUrl: function () { return cfg.returnURL || null; },
      // The tool's page with the learner's certificate (PDF, verification, LinkedIn); shown on the summary once completed.
      certificateUrl: function () { return cfg.certificateUrl || null; },
      pending: function () { return outbox.pending(); }
    };
  };
})(this);
