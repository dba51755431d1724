/* Standalone runtime: no LMS; the state lives in this browser's localStorage. For previews and kiosks. */
(function (root) {
  "use strict";
  (root.SMEB.runtimes = root.SMEB.runtimes || {}).standalone = function (cfg, env) {
    var key = "smeb:standalone:" + env.course.id;
    function read() { try { return root.localStorage.getItem(key); } catch (err) { return null; } }
    function noop() { return Promise.resolve(); }
    return {
      init: function () { return Promise.resolve({ learner: null, locale: cfg.locale || null, state: read(), mode: "normal" }); },
      saveState: function (s) { try { root.localStorage.setItem(key, s.data); } catch (err) { /* storage blocked */ } return Promise.resolve(); },
      recordProgress: noop, recordAnswer: noop, commit: noop, terminate: function () {},
      complete: function (o) { return Promise.resolve(o.reported); },
      exitUrl: function () { return cfg.returnURL || null; }
    };
  };
})(this);
