/* SCORM 2004 4th edition runtime: finds `API_1484_11`, reports completion and success separately,
 * scaled score, progress measure, interactions with ISO timestamps, suspend/normal exit. */
(function (root) {
  "use strict";

  /** ADL's search: up to 500 parents, then the opener's chain (SCORM 2004 RTE 3.3.6). */
  function findApi(win) {
    function scan(w) {
      for (var tries = 0; w && tries < 500; tries++) {
        try { if (w.API_1484_11) return w.API_1484_11; } catch (err) { return null; }
        if (!w.parent || w.parent === w) break;
        w = w.parent;
      }
      return null;
    }
    return scan(win) || (win.opener ? scan(win.opener) : null);
  }

  // time(second,10,0) (RTE 4.1.1.7) with its zone: without it an LMS reads local time.
  function stamp(d) { return d.toISOString().slice(0, 22) + "Z"; }

  (root.SMEB.runtimes = root.SMEB.runtimes || {}).scorm2004 = function (cfg, env) {
    var core = env.core, api = null, started = Date.now(), finished = false, dirty = false, complete = false, mode = "normal";

    function get(k) { return api ? String(api.GetValue(k) || "") : ""; }
    function set(k, v) {
      if (!api) return false;
      dirty = true;
      var ok = String(api.SetValue(k, String(v))) === "true";
      if (!ok && root.console) root.console.warn("SCORM 2004 SetValue(" + k + ") failed: " + api.GetLastError() + " " + api.GetErrorString(api.GetLastError()));
      return ok;
    }
    function commit() { if (api && dirty && !finished) { api.Commit(""); dirty = false; } return Promise.resolve(); }
    // localized_string_type: one line, no "{" after the language tag (scorm-again checks the pattern strictly).
    function langString(text) { return "{lang=nb}" + String(text || "").replace(/\s+/g, " ").replace(/[{}]/g, "").trim().slice(0, 240); }

    return {
      init: function () {
        api = findApi(root);
        if (!api) return Promise.reject(new Error("SCORM 2004: no LMS API found (window.API_1484_11 in a parent frame or the opener). Open the course from the LMS."));
        if (String(api.Initialize("")) !== "true") return Promise.reject(new Error("SCORM 2004: Initialize failed (" + api.GetLastError() + ")"));
        mode = get("cmi.mode") || "normal";
        var entry = get("cmi.entry"), cs = get("cmi.completion_status");
        complete = cs === "completed";
        // browse/review (RTE 4.2.13): the attempt is not judged, so nothing about it is written.
        if (mode === "normal" && (cs === "unknown" || cs === "not attempted" || !cs)) set("cmi.completion_status", "incomplete");
        var passing = parseFloat(get("cmi.scaled_passing_score"));
        var id = get("cmi.learner_id");
        commit();
        return Promise.resolve({
          learner: id ? { id: id, name: get("cmi.learner_name") } : null,
          locale: core.pickLocale(get("cmi.learner_preference.language").split(",")),
          state: entry === "ab-initio" ? null : get("cmi.suspend_data") || null,
          mode: mode, masteryScore: isNaN(passing) ? null : passing
        });
      },
      saveState: function (s) {
        if (mode !== "normal") return Promise.resolve();
        set("cmi.suspend_data", s.data);
        set("cmi.location", s.location.slice(0, 1000));
        return Promise.resolve();
      },
      recordProgress: function (p) {
        if (mode === "normal" && !complete) set("cmi.progress_measure", p.progress);
        return Promise.resolve();
      },
      recordAnswer: function (it) {
        if (mode !== "normal" || it.type === "submission" || it.type === "reflection") return Promise.resolve(); // no SCORM interaction type; content stays private
        var n = parseInt(get("cmi.interactions._count"), 10) || 0, p = "cmi.interactions." + n + ".";
        set(p + "id", it.activityId);
        set(p + "type", it.type);
        set(p + "timestamp", stamp(new Date()));
        set(p + "description", langString(it.description && it.description.nb));
        var response;
        if (it.type === "choice" || it.type === "sequencing") response = it.response.map(core.shortId).join("[,]");
        else if (it.type === "fill-in" || it.type === "long-fill-in") {
          // characterstring patterns are one line and may not start with "{" (reserved for {lang=..}).
          response = it.response[0].replace(/\s+/g, " ").replace(/^\{/, "(").slice(0, it.type === "fill-in" ? 250 : 4000);
        }
        else if (it.type === "likert") response = core.shortId(it.response[0]);
        else response = it.response[0];
        if (it.correct) set(p + "correct_responses.0.pattern", it.type === "true-false" ? String(it.correct[0] === "true") : it.correct.map(core.shortId).join("[,]"));
        set(p + "learner_response", it.type === "true-false" ? String(it.response[0] === "true") : response);
        set(p + "result", it.result);
        if (it.maxPoints) set(p + "weighting", it.maxPoints);
        return Promise.resolve();
      },
      complete: function (o) {
        if (mode !== "normal") return Promise.resolve(o.reported);
        if (o.score) {
          // raw = percent: Moodle grades from raw alone (docs/player.md "Implementation notes").
          set("cmi.score.scaled", o.score.scaled);
          set("cmi.score.raw", core.round(o.score.scaled * 100, 2));
          set("cmi.score.min", 0);
          set("cmi.score.max", 100);
        }
        if (o.passed != null) set("cmi.success_status", o.passed ? "passed" : "failed");
        if (o.completed) {
          complete = true;
          set("cmi.progress_measure", 1);
          set("cmi.completion_status", "completed");
        }
        return commit().then(function () { return o.reported; });
      },
      commit: commit,
      terminate: function (opts) {
        if (!api || finished) return;
        if (mode !== "normal") {
          // browse/review: nothing about the attempt is written, not even a navigation request.
          finished = true;
          api.Terminate("");
          return;
        }
        set("cmi.session_time", core.isoDuration(Date.now() - started));
        set("cmi.exit", opts.complete ? "normal" : "suspend");
        api.Commit("");
        // Data committed first; the navigation request goes with Terminate alone (Moodle, docs/player.md).
        if (opts.exitAll) set("adl.nav.request", opts.complete ? "exitAll" : "suspendAll");
        finished = true;
        try { api.Terminate(""); } catch (err) { if (root.console) root.console.info("SCORM 2004: the LMS's Terminate threw: " + err); }
      },
      exitUrl: function () { return null; }
    };
  };
})(this);
