/* SCORM 1.2 runtime (ADL SCORM 1.2 RTE): finds `API`, keeps suspend data, status, score and interactions.
 * Commits at lesson changes, answers and completion, never per click; LMSFinish on pagehide. */
(function (root) {
  "use strict";
  var MAX_SUSPEND = 4096;

  /** The standard search: up to 7 parents, then the opener's chain (SCORM 1.2 RTE 3.3.6.1). */
  function findApi(win) {
    function scan(w) {
      for (var tries = 0; w && tries <= 7; tries++) {
        try { if (w.API) return w.API; } catch (err) { return null; } // cross-origin frame: stop
        if (!w.parent || w.parent === w) break;
        w = w.parent;
      }
      return null;
    }
    return scan(win) || (win.opener ? scan(win.opener) : null);
  }

  function letter(i) { return String.fromCharCode(97 + i); }
  function clock(d) { return d.toTimeString().slice(0, 8); }

  (root.SMEB.runtimes = root.SMEB.runtimes || {}).scorm12 = function (cfg, env) {
    var core = env.core, api = null, started = Date.now(), status = "incomplete", finished = false, dirty = false, normal = true;

    function get(k) { return api ? String(api.LMSGetValue(k) || "") : ""; }
    function set(k, v) {
      if (!api) return false;
      dirty = true;
      var ok = String(api.LMSSetValue(k, String(v))) === "true";
      if (!ok && root.console) root.console.warn("SCORM 1.2 LMSSetValue(" + k + ") failed: " + api.LMSGetLastError() + " " + api.LMSGetErrorString(api.LMSGetLastError()));
      return ok;
    }
    function commit() { if (api && dirty && !finished) { api.LMSCommit(""); dirty = false; } return Promise.resolve(); }

    return {
      init: function () {
        api = findApi(root);
        if (!api) return Promise.reject(new Error("SCORM 1.2: no LMS API found (window.API in a parent frame or the opener). Open the course from the LMS."));
        if (String(api.LMSInitialize("")) !== "true") return Promise.reject(new Error("SCORM 1.2: LMSInitialize failed (" + api.LMSGetLastError() + ")"));
        var entry = get("cmi.core.entry"), prior = get("cmi.core.lesson_status");
        var mastery = parseFloat(get("cmi.student_data.mastery_score"));
        var mode = get("cmi.core.lesson_mode") || "normal";
        // browse/review (RTE 3.4.2.1.8): no completion, score or interactions. In browse mode a fresh SCO says
        // "browsed" itself: Moodle turns a status still "not attempted" at LMSFinish into "completed"
        // (mod/scorm/datamodels/scorm_12.js StoreData), which made Preview lock the attempt for review.
        // Review writes nothing at all.
        normal = mode === "normal";
        var fresh = prior === "not attempted" || prior === "" || prior === "browsed";
        if (normal) {
          if (fresh) set("cmi.core.lesson_status", "incomplete");
          else status = prior;
          set("cmi.core.exit", "suspend");
        } else {
          status = prior;
          if (mode === "browse" && (prior === "not attempted" || prior === "")) set("cmi.core.lesson_status", status = "browsed");
        }
        commit();
        var id = get("cmi.core.student_id"), name = get("cmi.core.student_name");
        return Promise.resolve({
          learner: id ? { id: id, name: name } : null,
          locale: core.pickLocale([get("cmi.student_preference.language")]),
          state: entry === "ab-initio" ? null : get("cmi.suspend_data") || null,
          mode: mode, masteryScore: isNaN(mastery) ? null : mastery / 100
        });
      },
      saveState: function (s) {
        if (!normal) return Promise.resolve();
        if (s.data.length > MAX_SUSPEND) throw new Error("SCORM 1.2 suspend_data would be " + s.data.length + " characters (limit 4096)");
        set("cmi.suspend_data", s.data);
        set("cmi.core.lesson_location", s.location.slice(0, 255));
        return Promise.resolve();
      },
      recordProgress: function () { return Promise.resolve(); },
      recordAnswer: function (it) {
        if (!normal || it.type === "submission" || it.type === "reflection") return Promise.resolve(); // no SCORM interaction type; content stays private
        var n = parseInt(get("cmi.interactions._count"), 10) || 0, p = "cmi.interactions." + n + ".";
        var type = it.type === "true-false" ? "true-false" : it.type === "choice" ? "choice" : it.type === "likert" ? "likert"
          : it.type === "numeric" ? "numeric" : it.type === "sequencing" ? "sequencing" : "fill-in";
        // SCORM 1.2 choice/sequencing responses are single characters: choice index 0 -> "a".
        var response = type === "choice" || type === "sequencing" ? it.responseIndices.map(letter).join(",")
          : type === "true-false" ? (it.response[0] === "true" ? "t" : "f") : String(it.response[0]).replace(/\s+/g, " ").slice(0, 255);
        set(p + "id", it.blockId.slice(0, 255));
        set(p + "type", type);
        set(p + "time", clock(new Date()));
        if (it.correct) {
          set(p + "correct_responses.0.pattern", type === "true-false" ? (it.correct[0] === "true" ? "t" : "f") : it.correctIndices.map(letter).join(","));
        }
        set(p + "student_response", response);
        set(p + "result", it.result === "incorrect" ? "wrong" : it.result);
        return Promise.resolve();
      },
      complete: function (o) {
        if (!normal) return Promise.resolve(o.reported);
        if (o.score) {
          set("cmi.core.score.min", 0);
          set("cmi.core.score.max", 100);
          set("cmi.core.score.raw", core.round(o.score.scaled * 100, 2));
        }
        if (o.completed) {
          status = o.passed === true ? "passed" : o.passed === false ? "failed" : "completed";
          set("cmi.core.lesson_status", status);
          set("cmi.core.exit", "");
        }
        return commit().then(function () { return o.reported; });
      },
      commit: commit,
      terminate: function () {
        if (!api || finished) return;
        if (normal) set("cmi.core.session_time", core.scorm12Time(Date.now() - started));
        api.LMSCommit("");
        finished = true;
        api.LMSFinish("");
      },
      exitUrl: function () { return null; }
    };
  };
})(this);
