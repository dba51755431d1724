/* SMEB course player: renders course.json, keeps the learner state, talks to one runtime adapter.
 * Course text is always inserted with textContent; only fields named `html` (already sanitized by
 * content/markdown.py when the package was built) are assigned to innerHTML. See docs/player.md. */
(function (win, doc) {
  "use strict";
  var S = win.SMEB, core = S.core;
  var RUNTIMES = { scorm12: ["runtime-scorm12.js"], scorm2004: ["runtime-scorm2004.js"], cmi5: ["lrs.js", "runtime-cmi5.js"],
    xapi: ["lrs.js", "runtime-xapi.js"], lti: ["lrs.js", "runtime-lti.js"], standalone: ["runtime-standalone.js"] };

  var course, ix, st, rt, info, lang, threshold, localKey, local = { texts: {}, refl: {}, sent: {} };
  var lastOutcome = "", terminated = false, drafts = {}, root, runtimeName = null;
  // Verdicts of quizzes served without their answer key (LTI): block id -> {correct, feedback}, from the tool.
  var verdicts = {};

  /* ---------- small DOM helpers (text only) ---------- */

  function h(tag, attrs, kids) {
    var el = doc.createElement(tag), k;
    for (k in attrs || {}) {
      var v = attrs[k];
      if (v == null || v === false) continue;
      if (k === "text") el.textContent = v;
      else if (k.slice(0, 2) === "on") el.addEventListener(k.slice(2), v);
      else el.setAttribute(k, v === true ? "" : v);
    }
    (kids || []).forEach(function (c) { if (c != null) el.appendChild(typeof c === "string" ? doc.createTextNode(c) : c); });
    return el;
  }

  function t(key, vars) {
    var s = (S.strings[lang] || S.strings.nb)[key] || key;
    return s.replace(/\{(\w+)\}/g, function (_, name) { return vars && vars[name] != null ? vars[name] : ""; });
  }

  function tx(text) { return text ? (lang === "en" ? text.en : text.nb) : ""; }

  var uid = 0;
  function nextId(prefix) { uid += 1; return prefix + "-" + uid; }

  function loadScript(src) {
    return new Promise(function (resolve, reject) {
      var el = doc.createElement("script");
      el.src = src;
      el.onload = resolve;
      el.onerror = function () { reject(new Error("could not load " + src)); };
      doc.head.appendChild(el);
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error(url + ": HTTP " + r.status);
      return r.json();
    });
  }

  /* ---------- browser-only copy of learner texts (reflections never leave it) ---------- */

  function readLocal() {
    try { local = JSON.parse(win.localStorage.getItem(localKey)) || local; } catch (err) { /* storage blocked: keep memory copy */ }
    local.texts = local.texts || {};
    local.refl = local.refl || {};
    local.sent = local.sent || {};
  }

  function writeLocal() {
    try { win.localStorage.setItem(localKey, JSON.stringify(local)); } catch (err) { /* storage blocked or full */ }
  }

  /* ---------- state and runtime calls ---------- */

  /** Review (cmi5 launchMode Review, SCORM cmi.mode/lesson_mode review): the learner's answers, read-only. */
  function readOnly() { return info.mode === "review"; }

  function save() {
    // Browse and review launches never overwrite the learner's real attempt (cmi5 10.2.2, SCORM 2004 RTE 4.2.13).
    if (info.mode && info.mode !== "normal") return Promise.resolve();
    local.texts = st.texts;
    writeLocal();
    var loc = st.lesson < ix.lessons.length ? ix.lessons[st.lesson].lesson.id : "summary";
    var data;
    try {
      data = core.encodeState(ix, st, stateBudget());
    } catch (err) {
      // Only for a course served without scorm_export/state.py's check: go on, say resume will not work.
      S.stateError = String(err && err.message || err);
      var note = doc.getElementById("state-notice");
      if (note) { note.hidden = false; note.textContent = t("stateTooLarge"); }
      return Promise.resolve();
    }
    return rt.saveState({ data: data, location: loc });
  }

  function stateBudget() {
    return (rt && rt.stateBudget) || core.STATE_BUDGETS[runtimeName] || core.STATE_BUDGET;
  }

  function outcome() {
    var ev = core.evaluate(ix, st, verdicts);
    ev.passed = core.passed(ev, threshold);
    return ev;
  }

  /** Report completion/pass/fail when it changes; adapters decide what their standard allows. */
  function checkOutcome() {
    var ev = outcome();
    var key = [ev.complete, ev.passed, ev.points].join("|");
    if (key === lastOutcome || (!ev.complete && ev.passed == null)) return Promise.resolve();
    lastOutcome = key;
    return Promise.resolve(rt.complete({
      completed: ev.complete, passed: ev.passed, progress: ev.progress, threshold: threshold,
      score: ev.maxPoints ? { scaled: ev.scaled, raw: ev.points, min: 0, max: ev.maxPoints } : null,
      reported: st.reported
    })).then(function (bits) {
      if (typeof bits === "number" && bits !== st.reported) { st.reported = bits; return save(); }
    });
  }

  function markDone(entry) {
    if (st.done[entry.index] || readOnly()) return;
    st.done[entry.index] = true;
    updateProgress();
    save();
    checkOutcome();
  }

  /** Report an answer; resolves with what the runtime got back (the LTI tool's verdict for a keyless quiz). */
  function answered(interaction) {
    var reply = Promise.resolve(rt.recordAnswer(interaction));
    save();
    checkOutcome().then(function () { rt.commit(); });
    return reply;
  }

  /** End the session once: on pagehide/beforeunload, or from the exit button (exitAll: the learner chose to leave). */
  function terminate(exitAll) {
    if (terminated) return;
    terminated = true;
    try { save(); } catch (err) { /* still terminate */ }
    // unloading: the page is going away, so adapters must send synchronously or with keepalive.
    try {
      return rt.terminate({ complete: outcome().complete, exitAll: exitAll === true, unloading: exitAll !== true });
    } catch (err) {
      // An LMS API that throws (in its own code) must not keep the learner from the end screen.
      S.terminateError = String(err && err.stack || err);
    }
  }

  /** Send once per change: docs/player.md "Save and send buttons". */
  function sendOnce(sec, btn, fb, entry, content, send, doneText, sameKey) {
    if (btn.getAttribute("aria-disabled") === "true") return;
    var print = core.hash(JSON.stringify(content)), blockId = entry.block.id;
    if (local.sent[blockId] === print && st.done[entry.index]) { fb.textContent = t(sameKey); return; }
    local.sent[blockId] = print;
    writeLocal();
    btn.setAttribute("aria-disabled", "true");
    sec.setAttribute("aria-busy", "true");
    fb.textContent = t("sending");
    var finish = function () {
      btn.removeAttribute("aria-disabled");
      sec.removeAttribute("aria-busy");
      fb.textContent = doneText;
    };
    Promise.resolve().then(send).then(finish, finish);
  }

  /* ---------- shell ---------- */

  function renderShell() {
    doc.documentElement.lang = lang === "en" ? "en" : "nb";
    doc.title = tx(course.title);
    root.textContent = "";
    var other = lang === "en" ? "nb" : "en";
    var toc = h("nav", { id: "toc", "aria-label": t("courseNav"), "class": "toc" });
    var tocToggle = h("button", { type: "button", id: "toc-toggle", "class": "btn ghost", "aria-expanded": "false", "aria-controls": "toc",
      onclick: function () { toggleToc(); } }, [t("contents")]);
    root.appendChild(h("a", { href: "#main", "class": "skip" }, [t("skip")]));
    root.appendChild(h("header", { "class": "bar" }, [
      tocToggle,
      h("p", { "class": "course-title", text: tx(course.title) }),
      h("button", { type: "button", id: "lang-switch", "class": "btn ghost", lang: other,
        onclick: function () { switchLanguage(other); } }, [t("language")])
    ]));
    root.appendChild(h("div", { "class": "status-row" }, [
      h("p", { id: "progress-text", "class": "progress-text" }),
      h("div", { "class": "meter", "aria-hidden": "true" }, [h("span", { id: "progress-bar" })])
    ]));
    if (info.mode && info.mode !== "normal") root.appendChild(h("p", { "class": "notice", id: "mode-notice", text: t(readOnly() ? "reviewMode" : "browseMode") }));
    root.appendChild(h("p", { id: "offline", "class": "notice", role: "status", hidden: win.navigator.onLine !== false ? true : null },
      [win.navigator.onLine === false ? t("offline") : ""]));
    root.appendChild(h("p", { id: "state-notice", "class": "notice", role: "status", hidden: S.stateError ? null : true },
      [S.stateError ? t("stateTooLarge") : ""]));
    var layout = h("div", { "class": "layout" }, [toc, h("main", { id: "main", tabindex: "-1" })]);
    root.appendChild(layout);
    root.appendChild(h("div", { id: "announce", "class": "sr-only", "aria-live": "polite", "aria-atomic": "true" }));
    renderToc();
  }

  function toggleToc(force) {
    var btn = doc.getElementById("toc-toggle"), open = force != null ? force : btn.getAttribute("aria-expanded") !== "true";
    btn.setAttribute("aria-expanded", String(open));
    btn.textContent = open ? t("closeContents") : t("contents");
    doc.getElementById("toc").classList.toggle("open", open);
  }

  function renderToc() {
    var toc = doc.getElementById("toc");
    toc.textContent = "";
    var list = h("ol", { "class": "modules" });
    course.modules.forEach(function (m, mi) {
      var lessons = h("ol", { "class": "lessons" });
      ix.lessons.forEach(function (L) {
        if (L.moduleIndex !== mi) return;
        var doneAll = requiredIn(L).every(function (i) { return st.done[i]; }) && requiredIn(L).length > 0;
        lessons.appendChild(h("li", {}, [h("button", { type: "button", "class": "toc-lesson", "aria-current": L.index === st.lesson ? "page" : null,
          onclick: function () { goTo(L.index); toggleToc(false); } },
          [tx(L.lesson.title), doneAll ? h("span", { "class": "tick" }, [" ✓ ", h("span", { "class": "sr-only", text: t("done") })]) : null])]));
      });
      list.appendChild(h("li", {}, [h("h2", { "class": "toc-module", text: tx(m.title) }), lessons]));
    });
    toc.appendChild(list);
    toc.appendChild(h("button", { type: "button", "class": "toc-lesson toc-summary", "aria-current": st.lesson === ix.lessons.length ? "page" : null,
      onclick: function () { goTo(ix.lessons.length); toggleToc(false); } }, [t("summary")]));
  }

  function requiredIn(L) {
    return ix.required.map(function (id) { return ix.byId[id]; }).filter(function (i) { return i >= L.first && i < L.first + L.count; });
  }

  function updateProgress() {
    var ev = outcome();
    var el = doc.getElementById("progress-text");
    if (!el) return;
    var parts = [st.lesson < ix.lessons.length ? t("lessonOf", { n: st.lesson + 1, total: ix.lessons.length }) : t("summary"),
      t("progressText", { done: ev.requiredDone, total: ev.requiredTotal })];
    if (ev.maxPoints) parts.push(t("scoreText", { points: ev.points, max: ev.maxPoints, percent: Math.round((ev.scaled || 0) * 100) }));
    el.textContent = parts.join(" · ");
    doc.getElementById("progress-bar").style.width = Math.round(ev.progress * 100) + "%";
  }

  function switchLanguage(to) {
    lang = to;
    st.lang = to;
    save();
    renderShell();
    renderLesson(false);
    doc.getElementById("lang-switch").focus();
  }

  function goTo(i) {
    st.lesson = Math.max(0, Math.min(ix.lessons.length, i));
    save();
    var ev = outcome();
    var L = ix.lessons[st.lesson];
    rt.recordProgress({ lessonIndex: st.lesson, lessonId: L ? L.lesson.id : "summary", progress: ev.progress, complete: ev.complete });
    rt.commit();
    renderToc();
    renderLesson(true);
  }

  function renderLesson(focus) {
    var main = doc.getElementById("main");
    main.textContent = "";
    updateProgress();
    if (st.lesson >= ix.lessons.length) renderSummary(main);
    else {
      var L = ix.lessons[st.lesson];
      main.appendChild(h("p", { "class": "crumb", text: tx(L.module.title) }));
      main.appendChild(h("h1", { id: "lesson-title", tabindex: "-1", text: tx(L.lesson.title) }));
      for (var i = 0; i < L.count; i++) main.appendChild(renderBlock(ix.blocks[L.first + i]));
      if (readOnly()) {
        // Everything that answers or saves is disabled; earlier answers stay visible as they were given.
        Array.prototype.forEach.call(main.querySelectorAll("section.block input, section.block textarea, section.block button"), function (el) {
          el.disabled = true;
        });
      }
    }
    var pager = h("div", { "class": "pager" });
    if (st.lesson > 0) pager.appendChild(h("button", { type: "button", "class": "btn", id: "prev", onclick: function () { goTo(st.lesson - 1); } }, ["← " + t("previous")]));
    if (st.lesson < ix.lessons.length) {
      var last = st.lesson === ix.lessons.length - 1;
      pager.appendChild(h("button", { type: "button", "class": "btn primary", id: "next", onclick: function () { goTo(st.lesson + 1); } },
        [(last ? t("toSummary") : t("next")) + " →"]));
    }
    main.appendChild(pager);
    if (focus) {
      var title = doc.getElementById("lesson-title");
      if (title) title.focus();
      win.scrollTo(0, 0);
    }
  }

  /* ---------- blocks ---------- */

  function renderBlock(entry) {
    var b = entry.block, id = "b-" + b.id;
    var sec = h("section", { "class": "block block-" + b.type, id: id, "data-block": b.id, "data-done": st.done[entry.index] ? "1" : "0" });
    var render = RENDER[b.type];
    if (render) render(sec, entry);
    if (ix.required.indexOf(b.id) >= 0) {
      sec.appendChild(h("p", { "class": "badge" + (st.done[entry.index] ? " ok" : ""), "data-done": st.done[entry.index] ? "1" : "0" },
        [st.done[entry.index] ? "✓ " + t("done") : t("required")]));
    }
    return sec;
  }

  function heading(sec, label, title) {
    var hid = nextId("h");
    sec.setAttribute("aria-labelledby", hid);
    sec.appendChild(h("h2", { id: hid }, [label ? h("span", { "class": "kind", text: label + ": " }) : null, title]));
  }

  function status(sec) {
    var el = h("div", { "class": "feedback", role: "status" });
    sec.appendChild(el);
    return el;
  }

  function refreshBadge(sec, entry) {
    if (st.done[entry.index]) sec.setAttribute("data-done", "1");
    var badge = sec.querySelector(".badge");
    if (badge && st.done[entry.index]) { badge.textContent = "✓ " + t("done"); badge.className = "badge ok"; badge.setAttribute("data-done", "1"); }
  }

  /* ---------- video tracking (ADL video profile; docs/player.md "Video statements") ---------- */

  var VIDEO_DONE = 0.95; // completion threshold: share of the video watched (union of played segments)
  var videos = {}; // per block id, for this page view: survives re-rendering a lesson, so segments add up

  /** Follow one <video>: played segments from media events (timeupdate only extends the open segment and never
   * sends anything), and report played/paused/seeked on user actions and completed once at >= 95 % watched. */
  function trackVideo(entry, video, onWatched) {
    var b = entry.block;
    var v = videos[b.id] = videos[b.id] || { session: core.uuid(), segs: [], completed: false, first: null };
    var start = null, last = 0, seekFrom = null, seekTimer = null;
    function length() {
      return isFinite(video.duration) && video.duration > 0 ? core.round(video.duration, 3) : null;
    }
    function now() { return core.round(video.currentTime || 0, 3); }
    function captions() {
      for (var i = 0; i < video.textTracks.length; i++) {
        var tt = video.textTracks[i];
        if (tt.mode === "showing") return tt.language || null;
      }
      return null;
    }
    function closeSegment(at) {
      if (start != null && at > start) v.segs = core.segmentsAdd(v.segs, start, at);
      start = null;
    }
    function progressWith(openTo) {
      var segs = start != null && openTo > start ? core.segmentsAdd(v.segs, start, openTo) : v.segs;
      return { segs: segs, progress: core.videoProgress(segs, length()) };
    }
    function report(verb, extra) {
      if (!rt.recordVideo || (info.mode && info.mode !== "normal")) return;
      var cc = captions(), ev = { verb: verb, blockId: b.id, activityId: core.activityId(course, b.id), name: b.title,
        sessionId: v.session, length: length(), ccEnabled: cc != null, ccLang: cc }, k;
      for (k in extra) ev[k] = extra[k];
      rt.recordVideo(ev);
    }
    function flushSeek() {
      clearTimeout(seekTimer);
      if (seekFrom == null) return;
      var from = seekFrom;
      seekFrom = null;
      if (Math.abs(now() - from) >= 0.5) report("seeked", { timeFrom: from, timeTo: now() });
    }
    function checkDone(at) {
      var p = progressWith(at);
      if (v.completed || p.progress < VIDEO_DONE || !length()) return;
      v.completed = true;
      report("completed", { time: at, progress: p.progress, segments: core.segmentsText(p.segs), threshold: VIDEO_DONE,
        duration: core.isoDuration(Date.now() - (v.first || Date.now())) });
      onWatched();
    }
    video.addEventListener("play", function () {
      flushSeek();
      if (v.first == null) v.first = Date.now();
      start = last = now();
      report("played", { time: last });
    });
    video.addEventListener("timeupdate", function () {
      if (video.paused || video.seeking) return;
      var at = now();
      // A jump the seek events did not announce (or a stall) closes the segment instead of bridging the gap.
      if (start == null || at < last || at - last > 3) { closeSegment(last); start = at; }
      last = at;
      checkDone(at);
    });
    video.addEventListener("seeking", function () {
      if (seekFrom == null) seekFrom = last;
      closeSegment(last);
    });
    video.addEventListener("seeked", function () {
      last = now();
      if (!video.paused) start = last;
      // Dragging the seek bar fires many seeks: one statement for the whole drag.
      clearTimeout(seekTimer);
      seekTimer = setTimeout(flushSeek, 400);
    });
    video.addEventListener("pause", function () {
      flushSeek();
      var at = now();
      closeSegment(at);
      last = at;
      var p = progressWith(at);
      report("paused", { time: at, progress: p.progress, segments: core.segmentsText(p.segs) });
      checkDone(at);
    });
    video.addEventListener("ended", function () { closeSegment(now()); checkDone(now()); });
  }

  var RENDER = {
    text: function (sec, entry) {
      var box = h("div", { "class": "prose" });
      box.innerHTML = entry.block.html[lang === "en" ? "en" : "nb"]; // sanitized HTML by contract (content/markdown.py)
      Array.prototype.forEach.call(box.querySelectorAll("img"), function (img) { img.loading = "lazy"; img.decoding = "async"; });
      sec.appendChild(box);
    },

    video: function (sec, entry) {
      var b = entry.block;
      heading(sec, t("video"), tx(b.title));
      var video = h("video", { controls: true, preload: "none", playsinline: true, poster: b.poster, "aria-label": t("videoTitle", { title: tx(b.title) }) }, [
        h("source", { src: b.src, type: /\.webm$/.test(b.src) ? "video/webm" : "video/mp4" })
      ]);
      ["nb", "en"].forEach(function (l) {
        if (b.captions[l]) video.appendChild(h("track", { kind: "captions", srclang: l, src: b.captions[l], label: t(l === "nb" ? "captionsNb" : "captionsEn"), "default": l === lang || null }));
      });
      if (info.audio === "off") video.muted = true;
      var fb = null;
      trackVideo(entry, video, function () { done(); });
      sec.appendChild(video);
      var tr = b.transcript && (b.transcript[lang] || b.transcript.nb || b.transcript.en);
      if (tr) sec.appendChild(h("p", {}, [h("a", { href: tr, "class": "transcript", hreflang: b.transcript[lang] ? lang : "nb" }, [t("transcript")])]));
      if (!st.done[entry.index]) sec.appendChild(h("button", { type: "button", "class": "btn", "data-action": "watched", onclick: function () { done(); } }, [t("markWatched")]));
      fb = status(sec);
      function done() {
        markDone(entry);
        var btn = sec.querySelector("[data-action=watched]");
        if (btn) btn.remove();
        fb.textContent = t("watched");
        refreshBadge(sec, entry);
      }
    },

    "case": function (sec, entry) {
      var b = entry.block;
      heading(sec, t("caseScenario"), tx(b.title));
      var body = h("div", { "class": "case-body" });
      sec.appendChild(body);
      var fb = status(sec);
      function stepById(id) { for (var i = 0; i < b.steps.length; i++) if (b.steps[i].id === id) return b.steps[i]; return null; }
      function draw(path, live) {
        body.textContent = "";
        var step = stepById(b.start);
        for (var i = 0; i < path.length && step; i++) {
          var c = step.choices[path[i]];
          body.appendChild(h("div", { "class": "case-past" }, [
            h("p", { "class": "situation", text: tx(step.situation) }),
            h("p", { "class": "chosen" }, [h("strong", { text: t("yourAnswer") + ": " }), tx(c.text)]),
            h("p", { "class": "case-feedback q-" + c.quality, text: tx(c.feedback) })
          ]));
          step = c.next ? stepById(c.next) : null;
        }
        if (live && path.length) {
          var lastStep = body.lastChild;
          fb.textContent = lastStep ? lastStep.querySelector(".case-feedback").textContent : "";
        }
        if (step) {
          var gid = nextId("case");
          body.appendChild(h("p", { "class": "situation current", id: gid, text: tx(step.situation) }));
          var group = h("div", { role: "group", "class": "choices", "aria-labelledby": gid });
          group.appendChild(h("p", { "class": "hint", text: t("chooseAction") }));
          step.choices.forEach(function (c, ci) {
            group.appendChild(h("button", { type: "button", "class": "btn choice", "data-choice": c.id, onclick: function () {
              var p = core.caseTrim(b, (st.ans[entry.index] || []).concat([ci]));
              st.ans[entry.index] = p;
              rt.recordAnswer(core.caseInteraction(ix, entry, step, ci));
              if (!c.next) markDone(entry);
              save();
              rt.commit();
              draw(p, true);
              refreshBadge(sec, entry);
              var btn = body.querySelector("button");
              if (btn) btn.focus();
            } }, [tx(c.text)]));
          });
          body.appendChild(group);
        } else {
          body.appendChild(h("p", { "class": "case-end", text: t("caseEnd") }));
          body.appendChild(h("button", { type: "button", "class": "btn ghost", onclick: function () {
            st.ans[entry.index] = [];
            fb.textContent = "";
            draw([], false);
            body.querySelector("button").focus();
          } }, [t("restartCase")]));
        }
      }
      draw(st.ans[entry.index] || [], false);
    },

    quiz: function (sec, entry) {
      var b = entry.block, multiple = b.kind === "multiple", name = nextId("q"), prior = st.ans[entry.index];
      heading(sec, t("quiz"), b.points === 1 ? t("pointsOne") : t("points", { points: b.points }));
      var hintId = nextId("hint");
      var fs = h("fieldset", { "class": "choices", "aria-describedby": hintId }, [h("legend", { text: tx(b.question) }),
        h("p", { id: hintId, "class": "hint", text: multiple ? t("chooseMany") : t("chooseOne") })]);
      var notes = [];
      var inputs = b.choices.map(function (c, ci) {
        var input = h("input", { type: multiple ? "checkbox" : "radio", name: name, value: c.id, id: name + "-" + ci,
          checked: prior && prior.indexOf(ci) >= 0, disabled: !!prior });
        var note = h("p", { "class": "choice-feedback", hidden: true });
        notes.push(note);
        fs.appendChild(h("div", { "class": "option" }, [h("label", { "for": name + "-" + ci }, [input, h("span", { text: tx(c.text) })]), note]));
        return input;
      });
      sec.appendChild(fs);
      var submit = h("button", { type: "button", "class": "btn primary", "data-action": "answer", disabled: !!prior }, [t("check")]);
      sec.appendChild(submit);
      var fb = status(sec);
      function show(selected, live) {
        if (!core.keyed(b)) { showVerdict(selected, live); return; }
        var ok = core.quizCorrect(b, selected);
        b.choices.forEach(function (c, ci) {
          var p = notes[ci];
          if (selected.indexOf(ci) >= 0 || c.correct) {
            p.hidden = false;
            p.textContent = (c.correct ? "✓ " : "✗ ") + tx(c.feedback);
            p.className = "choice-feedback " + (c.correct ? "right" : "wrong");
          }
        });
        var text = (ok ? t("correct") : t("incorrect")) + " " + selected.map(function (ci) { return tx(b.choices[ci].feedback); }).join(" ");
        fb.textContent = text;
        fb.className = "feedback " + (ok ? "right" : "wrong");
        if (live) updateProgress();
      }
      /** Keyless quiz (LTI): the tool's verdict and the feedback of the chosen choices, never the key. */
      function showVerdict(selected, live) {
        var v = verdicts[b.id];
        if (!v) {
          fb.textContent = t("checking");
          fb.className = "feedback";
          return;
        }
        selected.forEach(function (ci) {
          var text = v.feedback && v.feedback[b.choices[ci].id];
          if (!text) return;
          notes[ci].hidden = false;
          notes[ci].textContent = tx(text);
          notes[ci].className = "choice-feedback";
        });
        fb.textContent = (v.correct ? t("correct") : t("incorrect")) + " " +
          selected.map(function (ci) { return v.feedback && v.feedback[b.choices[ci].id] ? tx(v.feedback[b.choices[ci].id]) : ""; }).join(" ").trim();
        fb.className = "feedback " + (v.correct ? "right" : "wrong");
        if (live) updateProgress();
      }
      submit.addEventListener("click", function () {
        var selected = [];
        inputs.forEach(function (inp, i) { if (inp.checked) selected.push(i); });
        if (!selected.length) { fb.textContent = t("pickFirst"); return; }
        st.ans[entry.index] = selected;
        st.done[entry.index] = true;
        inputs.forEach(function (inp) { inp.disabled = true; });
        submit.disabled = true;
        show(selected, true);
        refreshBadge(sec, entry);
        answered(core.quizInteraction(ix, entry, selected)).then(function (reply) {
          if (core.keyed(b) || !reply || !reply.verdict || st.ans[entry.index] !== selected) return;
          verdicts[b.id] = reply.verdict;
          if (sec.isConnected) show(selected, true);
          updateProgress();
          checkOutcome().then(function () { rt.commit(); });
        });
        updateProgress();
      });
      if (prior) show(prior, false);
    },

    survey: function (sec, entry) {
      var b = entry.block, name = nextId("s"), prior = st.ans[entry.index];
      heading(sec, t("survey"), null);
      var getValue, box;
      if (b.options && b.options.length) {
        var order = (prior || []).slice();
        var hintId = nextId("hint");
        box = h("div", { role: "group", "class": "choices rank", "aria-labelledby": name + "-p", "aria-describedby": hintId }, [
          h("p", { id: name + "-p", "class": "prompt", text: tx(b.prompt) }), h("p", { id: hintId, "class": "hint", text: t("rankHint") })]);
        var buttons = b.options.map(function (o, oi) {
          var btn = h("button", { type: "button", "class": "btn choice", "aria-pressed": "false", onclick: function () {
            var at = order.indexOf(oi);
            if (at >= 0) order.splice(at, 1); else if (order.length < Math.min(3, b.options.length)) order.push(oi);
            paint();
          } }, [h("span", { "class": "place" }), tx(o)]);
          box.appendChild(btn);
          return btn;
        });
        var paint = function () {
          buttons.forEach(function (btn, oi) {
            var at = order.indexOf(oi);
            btn.setAttribute("aria-pressed", String(at >= 0));
            btn.firstChild.textContent = at >= 0 ? t("rankPlace", { n: at + 1 }) + ": " : "";
          });
        };
        paint();
        getValue = function () { return order.length ? order.slice() : null; };
      } else if (b.kind === "free-text") {
        box = h("div", { "class": "field" }, [h("label", { "for": name, text: tx(b.prompt) })]);
        var area = h("textarea", { id: name, rows: "4", oninput: function () { drafts[b.id] = area.value; } });
        area.value = drafts[b.id] != null ? drafts[b.id] : (st.texts[entry.index] || "");
        box.appendChild(area);
        getValue = function () { return area.value.trim() ? area.value.trim() : null; };
      } else {
        var n = b.kind === "scale" ? 10 : 5;
        box = h("fieldset", { "class": "choices scale scale-" + n }, [h("legend", { text: tx(b.prompt) })]);
        if (b.kind === "scale" && (b.low || b.high)) box.appendChild(h("p", { "class": "hint", text: "1 = " + tx(b.low) + " · 10 = " + tx(b.high) }));
        var row = h("div", { "class": "scale-row" });
        for (var v = 1; v <= n; v++) {
          var label = b.kind === "likert" ? t("likert" + v) : String(v);
          row.appendChild(h("label", { "for": name + "-" + v, "class": "scale-opt" }, [
            h("input", { type: "radio", name: name, id: name + "-" + v, value: String(v), checked: prior === v }), h("span", { text: label })]));
        }
        box.appendChild(row);
        getValue = function () { var c = box.querySelector("input:checked"); return c ? parseInt(c.value, 10) : null; };
      }
      // In-course answers go with the learner's records (LRS/LMS), unlike the anonymous survey module: say so here.
      box.appendChild(h("p", { "class": "hint not-anonymous", text: t("notAnonymous") }));
      sec.appendChild(box);
      var sendBtn = h("button", { type: "button", "class": "btn primary", "data-action": "send", onclick: function () {
        var value = getValue();
        if (value == null) { fb.textContent = t("pickFirst"); return; }
        sendOnce(sec, sendBtn, fb, entry, value, function () {
          if (b.kind === "free-text" && !(b.options && b.options.length)) st.texts[entry.index] = value; else st.ans[entry.index] = value;
          st.done[entry.index] = true;
          refreshBadge(sec, entry);
          return answered(core.surveyInteraction(ix, entry, value));
        }, t("thanks"), "unchangedAnswer");
      } }, [t("send")]);
      sec.appendChild(sendBtn);
      var fb = status(sec);
      if (st.done[entry.index]) fb.textContent = t("thanks");
    },

    reflection: function (sec, entry) {
      var b = entry.block, id = nextId("r"), hintId = id + "-hint";
      heading(sec, t("reflection"), null);
      sec.appendChild(h("label", { "for": id, "class": "prompt", text: tx(b.prompt) }));
      sec.appendChild(h("p", { id: hintId, "class": "hint", text: t("reflectionPrivate") }));
      var area = h("textarea", { id: id, rows: "5", "aria-describedby": hintId });
      area.value = local.refl[b.id] || "";
      // Saved on every keystroke to this browser only: never to st, never to the runtime.
      area.addEventListener("input", function () { local.refl[b.id] = area.value; writeLocal(); });
      sec.appendChild(area);
      var saveBtn = h("button", { type: "button", "class": "btn primary", "data-action": "save", onclick: function () {
        if (!area.value.trim()) { fb.textContent = t("writeFirst"); return; }
        local.refl[b.id] = area.value;
        writeLocal();
          sendOnce(sec, saveBtn, fb, entry, area.value.trim(), function () {
          markDone(entry);
          refreshBadge(sec, entry);
          return answered(core.reflectionEvent(ix, entry));
        }, t("saved"), "unchanged");
      } }, [t("save")]);
      sec.appendChild(saveBtn);
      var fb = status(sec);
    },

    "action-plan": function (sec, entry) {
      var b = entry.block, min = b.minRows || 1, name = nextId("p");
      heading(sec, t("actionPlan"), null);
      sec.appendChild(h("p", { "class": "prompt", text: tx(b.prompt) }));
      (b.examples || []).forEach(function (ex) {
        sec.appendChild(h("p", { "class": "example" }, [h("strong", { text: t("example") + ": " }),
          [tx(ex.measure), ex.deadline ? t("deadline") + ": " + tx(ex.deadline) : null, ex.responsible ? t("responsible") + ": " + tx(ex.responsible) : null]
            .filter(Boolean).join(" · ")]));
      });
      var rows = (st.texts[entry.index] || []).map(function (r) { return r.slice(); });
      while (rows.length < min) rows.push(["", "", "", 0]);
      var list = h("div", { "class": "plan-rows" });
      sec.appendChild(list);
      function draw(focusRow) {
        list.textContent = "";
        rows.forEach(function (r, ri) {
          var rid = name + "-" + ri;
          var field = function (col, key, type) {
            var input = h("input", { type: type || "text", id: rid + "-" + col, autocomplete: "off", oninput: function () { r[col] = input.value; } });
            input.value = r[col] || "";
            return h("div", { "class": "field" }, [h("label", { "for": rid + "-" + col, text: t(key) }), input]);
          };
          var check = h("input", { type: "checkbox", id: rid + "-3", checked: !!r[3], onchange: function () { r[3] = check.checked ? 1 : 0; } });
          list.appendChild(h("fieldset", { "class": "plan-row" }, [h("legend", { text: t("row", { n: ri + 1 }) }),
            field(0, "measure"), field(1, "deadline"), field(2, "responsible"),
            h("div", { "class": "field check" }, [check, h("label", { "for": rid + "-3", text: t("completedCol") })]),
            rows.length > min ? h("button", { type: "button", "class": "btn ghost", "aria-label": t("removeRow", { n: ri + 1 }), onclick: function () {
              rows.splice(ri, 1); draw(Math.max(0, ri - 1));
            } }, ["✕"]) : null]));
        });
        if (focusRow != null) { var f = doc.getElementById(name + "-" + focusRow + "-0"); if (f) f.focus(); }
      }
      draw();
      var planBtn = h("button", { type: "button", "class": "btn primary", "data-action": "save-plan", onclick: function () {
        var filled = rows.filter(function (r) { return String(r[0] || "").trim(); });
        var plan = rows.map(function (r) { return [String(r[0] || "").trim(), String(r[1] || "").trim(), String(r[2] || "").trim(), r[3] ? 1 : 0]; });
        if (filled.length < min) { st.texts[entry.index] = plan; save(); fb.textContent = t("planNeedsRows", { n: min }); return; }
        sendOnce(sec, planBtn, fb, entry, plan, function () {
          st.texts[entry.index] = plan;
          st.done[entry.index] = true;
          refreshBadge(sec, entry);
          updateProgress();
          return answered(core.planInteraction(ix, entry, plan.filter(function (r) { return r[0]; })));
        }, t("saved"), "unchanged");
      } }, [t("savePlan")]);
      sec.appendChild(h("div", { "class": "actions" }, [
        h("button", { type: "button", "class": "btn", "data-action": "add-row", onclick: function () { rows.push(["", "", "", 0]); draw(rows.length - 1); } }, [t("addRow")]),
        planBtn
      ]));
      var fb = status(sec);
    },

    workshop: function (sec, entry) {
      var b = entry.block, total = b.agenda.reduce(function (s, a) { return s + a.minutes; }, 0);
      heading(sec, t("workshop"), tx(b.title));
      sec.appendChild(h("p", { "class": "mode", text: t("mode_" + b.mode.replace("-", "_")) }));
      if (b.description) sec.appendChild(h("p", { text: tx(b.description) }));
      sec.appendChild(h("p", { "class": "hint", text: t("workshopInfo") }));
      sec.appendChild(h("h3", { text: t("agenda") }));
      var list = h("ol", { "class": "agenda" });
      b.agenda.forEach(function (a) {
        list.appendChild(h("li", {}, [h("span", { "class": "min", text: t("minutes", { n: a.minutes }) }), h("span", { "class": "agenda-title", text: tx(a.title) }),
          a.notes ? h("p", { "class": "notes", text: tx(a.notes) }) : null]));
      });
      sec.appendChild(list);
      sec.appendChild(h("p", { "class": "hint", text: t("totalMinutes", { n: total }) }));
    }
  };

  function renderSummary(main) {
    var ev = outcome();
    main.appendChild(h("h1", { id: "lesson-title", tabindex: "-1", text: t("summary") }));
    var statusKey = !ev.complete ? "statusIncomplete" : ev.passed === true ? "statusPassed" : ev.passed === false ? "statusFailed" : "statusCompleted";
    main.appendChild(h("p", { "class": "result " + statusKey, id: "result-status", "data-status": statusKey, text: t(statusKey) }));
    main.appendChild(h("p", { text: t("progressText", { done: ev.requiredDone, total: ev.requiredTotal }) }));
    if (ev.maxPoints) {
      main.appendChild(h("p", { id: "result-score", text: t("scoreText", { points: ev.points, max: ev.maxPoints, percent: Math.round((ev.scaled || 0) * 100) }) }));
      main.appendChild(h("p", { "class": "hint", text: t("passingScore", { percent: Math.round(threshold * 100) }) }));
    }
    var actions = h("div", { "class": "actions" });
    if (ev.passed === false && !readOnly()) {
      actions.appendChild(h("button", { type: "button", "class": "btn", "data-action": "retry", onclick: function () {
        ix.quizzes.forEach(function (e) { delete st.ans[e.index]; delete st.done[e.index]; delete verdicts[e.block.id]; });
        lastOutcome = "";
        var first = ix.quizzes[0];
        goTo(first ? first.lesson : 0);
      } }, [t("retry")]));
    }
    actions.appendChild(h("button", { type: "button", "class": "btn primary", "data-action": "exit", onclick: exit }, [t("exit")]));
    main.appendChild(actions);
    // The LTI tool issues the certificate when it records the completion; its page is a link, never fetched here.
    var certUrl = ev.complete && ev.passed !== false && rt.certificateUrl && rt.certificateUrl();
    if (certUrl) main.appendChild(h("p", { "class": "certificate" }, [h("a", { id: "certificate-link", href: certUrl }, [t("certificate")])]));
  }

  function exit() {
    var wait = new Promise(function (resolve) { setTimeout(resolve, 5000); });
    Promise.race([Promise.resolve(terminate(true)), wait]).then(function () {
      var url = rt.exitUrl && rt.exitUrl();
      if (url) { win.location.href = url; return; }
      // In the LMS's frame or a pop-up: "close" only for a window the LMS opened (docs/player.md "The end screen").
      var main = doc.getElementById("main");
      main.textContent = "";
      main.appendChild(h("h1", { id: "lesson-title", tabindex: "-1", text: t("exited") }));
      main.appendChild(h("p", { id: "exited-hint", text: t("exitedHint") }));
      if (popup()) {
        main.appendChild(h("p", { "class": "actions" }, [h("button", { type: "button", "class": "btn", "data-action": "close-window",
          onclick: function () { try { win.top.close(); } catch (err) { /* the browser refused: the hint still says what to do */ } } }, [t("closeWindow")])]));
      }
      doc.getElementById("lesson-title").focus();
      S.exited = true;
    });
  }

  /** True when the course runs in a window the LMS opened (a pop-up), which a script may close. */
  function popup() {
    try { return !!(win.top.opener && win.top.opener !== win.top); } catch (err) { return false; }
  }

  /** On resume, bring the first unfinished activity of the lesson into view (focus stays put for screen readers). */
  function resumeScroll() {
    var L = ix.lessons[st.lesson];
    if (!L) return;
    var any = false, target = null;
    for (var i = L.first; i < L.first + L.count; i++) {
      if (st.done[i]) any = true;
      else if (!target && core.COMPLETABLE[ix.blocks[i].block.type]) target = doc.getElementById("b-" + ix.blocks[i].block.id);
    }
    if (any && target && target.scrollIntoView) target.scrollIntoView({ block: "start" });
  }

  /* ---------- boot ---------- */

  function fail(err) {
    lang = lang || core.pickLocale(win.navigator.languages || [win.navigator.language]) || "nb";
    root.textContent = "";
    root.appendChild(h("main", { id: "main" }, [h("h1", { text: t("loadFailed") }), h("p", { "class": "hint", text: String(err && err.message || err) })]));
    win.SMEB.error = String(err && err.stack || err);
  }

  function boot() {
    root = doc.getElementById("app");
    var cfg;
    getJSON("smeb-config.json").then(function (c) {
      cfg = c;
      if (!RUNTIMES.hasOwnProperty(cfg.runtime)) throw new Error("unknown runtime " + JSON.stringify(cfg.runtime) + " in smeb-config.json");
      return Promise.all([getJSON("course.json"), RUNTIMES[cfg.runtime].reduce(function (p, src) {
        return p.then(function () { return loadScript(src); });
      }, Promise.resolve())]);
    }).then(function (res) {
      course = res[0];
      ix = core.index(course);
      runtimeName = cfg.runtime;
      rt = S.runtimes[cfg.runtime](cfg, { core: core, course: course, index: ix });
      return rt.init();
    }).then(function (result) {
      info = result || {};
      verdicts = info.verdicts || {};
      st = core.decodeState(ix, info.state);
      localKey = "smeb:v1:" + course.id + ":" + ((info.learner && info.learner.id) || "anon");
      readLocal();
      for (var k in local.texts) if (st.texts[k] == null && ix.blocks[k]) st.texts[k] = local.texts[k];
      threshold = typeof info.masteryScore === "number" ? info.masteryScore : course.passingScore;
      lang = st.lang || info.locale || core.pickLocale(win.navigator.languages || [win.navigator.language]) || "nb";
      renderShell();
      renderLesson(false);
      resumeScroll();
      win.addEventListener("pagehide", terminate);
      win.addEventListener("beforeunload", terminate);
      win.addEventListener("online", function () { var o = doc.getElementById("offline"); o.hidden = true; o.textContent = ""; });
      win.addEventListener("offline", function () { var o = doc.getElementById("offline"); o.hidden = false; o.textContent = t("offline"); });
      S.ready = true;
      return checkOutcome();
    }).catch(fail);
  }

  // For tests and the LTI host: read-only views of the player's state.
  S.debug = {
    state: function () { return st && core.encodeState(ix, st, stateBudget()); },
    outcome: function () { return outcome(); },
    lesson: function () { return st.lesson; },
    pending: function () { return rt && rt.pending ? rt.pending() : 0; },
    video: function (id) { var v = videos[id]; return v ? { segments: core.segmentsText(v.segs), completed: v.completed } : null; }
  };

  if (doc.readyState === "loading") doc.addEventListener("DOMContentLoaded", boot); else boot();
})(window, document);
