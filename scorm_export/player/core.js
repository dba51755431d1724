/* SMEB player core: pure functions over course.json and the learner state.
 * No DOM, no network, so node can test it (tests/scorm_export/test_player_core.py)
 * and every runtime adapter shares one definition of score, completion and state. */
(function (root, factory) {
  var core = factory();
  if (typeof module === "object" && module.exports) module.exports = core;
  else (root.SMEB = root.SMEB || {}).core = core;
})(this, function () {
  "use strict";

  var STATE_VERSION = 2; // v1 (answers by block index) is still read
  var STATE_BUDGET = 4000; // when no format is named
  // UTF-8 bytes per runtime; why: scorm_export/state.py, which mirrors them and checks courses at build time.
  var STATE_BUDGETS = { scorm12: 4096, scorm2004: 64000, cmi5: 32000, xapi: 32000, lti: 32000, standalone: 64000 };
  var B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  var COMPLETABLE = { video: 1, "case": 1, quiz: 1, reflection: 1, "action-plan": 1 };

  /** Flatten the course into lessons and blocks with stable indices (the state refers to indices). */
  function index(course) {
    var lessons = [], blocks = [], byId = {};
    course.modules.forEach(function (m, mi) {
      m.lessons.forEach(function (l) {
        var li = lessons.length, first = blocks.length;
        l.blocks.forEach(function (b) {
          byId[b.id] = blocks.length;
          blocks.push({ block: b, lesson: li, index: blocks.length });
        });
        lessons.push({ lesson: l, module: m, moduleIndex: mi, index: li, first: first, count: l.blocks.length });
      });
    });
    // Workshops: the facilitator records attendance, so they never block digital completion (docs/player.md).
    var required = (course.required || []).filter(function (id) { return id in byId && blocks[byId[id]].block.type !== "workshop"; });
    var quizzes = blocks.filter(function (e) { return e.block.type === "quiz"; });
    return {
      course: course, lessons: lessons, blocks: blocks, byId: byId, required: required, quizzes: quizzes,
      maxPoints: quizzes.reduce(function (s, e) { return s + e.block.points; }, 0),
      fingerprint: fnv(blocks.map(function (e) { return e.block.id; }).join(" "))
    };
  }

  /** FNV-1a 32-bit, base36: a short fingerprint so state from another course version is not misread. */
  function fnv(text) {
    var h = 0x811c9dc5;
    for (var i = 0; i < text.length; i++) {
      h ^= text.charCodeAt(i);
      h = Math.imul(h, 0x01000193) >>> 0;
    }
    return h.toString(36);
  }

  function emptyState() {
    return { lesson: 0, done: {}, ans: {}, texts: {}, reported: 0, lang: null };
  }

  /* ---------- answers and scoring ---------- */

  /** False when the answer key was left out (LTI: the tool grades and answers with a verdict, docs/player.md). */
  function keyed(block) {
    return block.choices.some(function (c) { return c.correct === true; });
  }

  /** True when the selection (array of choice indices) is exactly the set of correct choices. */
  function quizCorrect(block, selected) {
    var want = [];
    block.choices.forEach(function (c, i) { if (c.correct) want.push(i); });
    var got = selected.slice().sort(function (a, b) { return a - b; });
    return want.length === got.length && want.every(function (v, i) { return v === got[i]; });
  }

  /** Score and completion. `verdicts` (block id -> {correct}) stands in for the answer key of quizzes served
   * without one; such a quiz counts as answered only once its verdict is known. */
  function evaluate(ix, st, verdicts) {
    var points = 0, answered = 0;
    ix.quizzes.forEach(function (e) {
      var a = st.ans[e.index];
      if (a == null) return;
      var ok;
      if (keyed(e.block)) ok = quizCorrect(e.block, a);
      else {
        var v = verdicts && verdicts[e.block.id];
        if (!v) return; // still waiting for the server's verdict
        ok = v.correct === true;
      }
      answered++;
      if (ok) points += e.block.points;
    });
    var reqDone = ix.required.filter(function (id) { return st.done[ix.byId[id]]; }).length;
    var complete = reqDone === ix.required.length;
    var judged = ix.quizzes.length > 0 && answered === ix.quizzes.length;
    var scaled = ix.maxPoints ? round(points / ix.maxPoints, 4) : null;
    return {
      points: points, maxPoints: ix.maxPoints, scaled: scaled,
      progress: ix.required.length ? round(reqDone / ix.required.length, 4) : 1,
      requiredDone: reqDone, requiredTotal: ix.required.length,
      complete: complete, judged: judged, answered: answered
    };
  }

  /** passed: true/false once every quiz is answered (the judged activity is attempted); null before or without quizzes. */
  function passed(ev, threshold) {
    if (!ev.judged || ev.scaled == null) return null;
    return ev.scaled + 1e-9 >= threshold;
  }

  function round(x, digits) {
    var f = Math.pow(10, digits);
    return Math.round(x * f) / f;
  }

  /* ---------- interactions (one neutral shape; adapters map it to SCORM/xAPI) ---------- */

  function quizInteraction(ix, e, selected) {
    var b = e.block;
    if (!keyed(b)) {
      // No key in the browser: the response only; the tool decides (result null until its verdict arrives).
      return {
        blockId: b.id, index: e.index, activityId: activityId(ix.course, b.id), type: "choice", description: b.question,
        choices: b.choices.map(function (c) { return { id: c.id, text: c.text }; }),
        response: selected.map(function (i) { return b.choices[i].id; }), responseIndices: selected.slice(),
        correct: null, correctIndices: null, result: null, points: null, maxPoints: b.points
      };
    }
    var ids = selected.map(function (i) { return b.choices[i].id; });
    var correctIds = b.choices.filter(function (c) { return c.correct; }).map(function (c) { return c.id; });
    // A true-false question is reported as true-false only when its choices are literally "true"/"false".
    var tf = b.kind === "true-false" && b.choices.every(function (c) { return c.id === "true" || c.id === "false"; });
    var ok = quizCorrect(b, selected);
    return {
      blockId: b.id, index: e.index, activityId: activityId(ix.course, b.id),
      type: tf ? "true-false" : "choice",
      description: b.question,
      choices: b.choices.map(function (c) { return { id: c.id, text: c.text }; }),
      response: ids, responseIndices: selected.slice(),
      correct: correctIds,
      correctIndices: b.choices.map(function (c, i) { return c.correct ? i : -1; }).filter(function (i) { return i >= 0; }),
      result: ok ? "correct" : "incorrect",
      points: ok ? b.points : 0, maxPoints: b.points
    };
  }

  function caseInteraction(ix, e, step, choiceIndex) {
    var b = e.block, c = step.choices[choiceIndex];
    return {
      blockId: b.id + "." + step.id, index: e.index, activityId: activityId(ix.course, b.id + "/" + step.id),
      type: "choice", description: step.situation,
      choices: step.choices.map(function (x) { return { id: x.id, text: x.text }; }),
      response: [c.id], responseIndices: [choiceIndex], correct: null, correctIndices: null,
      result: "neutral", quality: c.quality
    };
  }

  function surveyInteraction(ix, e, value) {
    var b = e.block, base = { blockId: b.id, index: e.index, activityId: activityId(ix.course, b.id), description: b.prompt, result: "neutral", correct: null };
    if (b.options && b.options.length) {
      return merge(base, {
        type: "sequencing",
        choices: b.options.map(function (t, i) { return { id: "o" + (i + 1), text: t }; }),
        response: value.map(function (i) { return "o" + (i + 1); }), responseIndices: value.slice()
      });
    }
    if (b.kind === "scale") return merge(base, { type: "numeric", response: [String(value)], range: [1, 10] });
    if (b.kind === "likert") {
      return merge(base, {
        type: "likert", response: [String(value)], range: [1, 5],
        choices: [1, 2, 3, 4, 5].map(function (n) { return { id: String(n), text: null }; })
      });
    }
    return merge(base, { type: value.length > 250 ? "long-fill-in" : "fill-in", response: [value] });
  }

  /** An action plan is reported as submitted, never with its content (docs/xapi-profile.md "assignment-submitted"). */
  function planInteraction(ix, e, rows) {
    return { blockId: e.block.id, index: e.index, activityId: activityId(ix.course, e.block.id), description: e.block.prompt,
      type: "submission", rows: rows.length, result: "neutral", correct: null };
  }

  /** A reflection is reported as written, never with its text (that stays in the browser). */
  function reflectionEvent(ix, e) {
    return { blockId: e.block.id, index: e.index, activityId: activityId(ix.course, e.block.id), description: e.block.prompt,
      type: "reflection", result: "neutral", correct: null };
  }

  function merge(a, b) {
    var out = {}, k;
    for (k in a) out[k] = a[k];
    for (k in b) out[k] = b[k];
    return out;
  }

  function activityId(course, part) {
    return course.id.replace(/\/+$/, "") + "/" + part;
  }

  /* ---------- compact state (SCORM suspend_data, xAPI state document) ---------- */

  function bitsEncode(set, n) {
    var out = "";
    for (var i = 0; i < n; i += 6) {
      var v = 0;
      for (var j = 0; j < 6; j++) if (set[i + j]) v |= 1 << j;
      out += B64.charAt(v);
    }
    return out.replace(/A+$/, "");
  }

  function bitsDecode(text, n) {
    var set = {};
    for (var i = 0; i < text.length; i++) {
      var v = B64.indexOf(text.charAt(i));
      for (var j = 0; j < 6; j++) if (v >= 0 && v & (1 << j) && i * 6 + j < n) set[i * 6 + j] = true;
    }
    return set;
  }

  /** quiz = choice bitmask (base36), case = choice path, scale/likert = number, ranking = option indices. */
  function encodeAnswer(block, value) {
    if (block.type === "quiz") {
      return value.reduce(function (m, i) { return m | (1 << i); }, 0).toString(36);
    }
    if (block.type === "case" || (block.type === "survey" && block.options && block.options.length)) {
      return value.map(function (i) { return i.toString(36); }).join("");
    }
    return value;
  }

  /** Blocks with an answer in `a` (quiz, case, non-free-text survey), in course order. */
  function answerSlots(ix) {
    if (!ix.slots) {
      ix.slots = ix.blocks.filter(function (e) {
        var b = e.block;
        return b.type === "quiz" || b.type === "case" || (b.type === "survey" && b.kind !== "free-text");
      }).map(function (e) { return e.index; });
    }
    return ix.slots;
  }

  /** A case path with loops cut out (back at a step = where the learner was then): at most one choice per step. */
  function caseTrim(block, path) {
    var byId = {}, seen = {}, out = [], step;
    block.steps.forEach(function (s) { byId[s.id] = s; });
    step = byId[block.start];
    seen[block.start] = 0;
    for (var i = 0; i < path.length && step; i++) {
      var c = step.choices[path[i]];
      if (!c) break;
      out.push(path[i]);
      step = c.next ? byId[c.next] : null;
      if (step && seen.hasOwnProperty(step.id)) { out = out.slice(0, seen[step.id]); }
      else if (step) seen[step.id] = out.length;
    }
    return out;
  }

  function utf8Length(text) { return new TextEncoder().encode(text).length; }

  function decodeAnswer(block, raw) {
    if (block.type === "survey" && !(block.options && block.options.length)) return Number(raw);
    if (block.type === "quiz") {
      var mask = parseInt(raw, 36), out = [];
      for (var i = 0; i < block.choices.length; i++) if (mask & (1 << i)) out.push(i);
      return out;
    }
    if (block.type === "case" || (block.type === "survey" && block.options && block.options.length)) {
      return String(raw).split("").map(function (c) { return parseInt(c, 36); });
    }
    return raw;
  }

  /** The state in at most `budget` UTF-8 bytes (docs/player.md "Learner state"): answers one per slot, joined
   * by "."; texts while they fit (the browser keeps a full copy); never reflections. Throws when even the state
   * without texts does not fit (the packager refuses such courses: scorm_export/state.py). */
  function encodeState(ix, st, budget) {
    budget = budget || STATE_BUDGET;
    var parts = answerSlots(ix).map(function (i) {
      return st.ans[i] == null ? "" : String(encodeAnswer(ix.blocks[i].block, st.ans[i]));
    });
    while (parts.length && parts[parts.length - 1] === "") parts.pop();
    var doc = { v: STATE_VERSION, f: ix.fingerprint, l: st.lesson, d: bitsEncode(st.done, ix.blocks.length), a: parts.join(".") };
    if (st.reported) doc.r = st.reported;
    if (st.lang) doc.g = st.lang;
    var text = JSON.stringify(doc), size = utf8Length(text);
    if (size > budget) throw new Error("SMEB state exceeds " + budget + " bytes even without texts (" + size + ")");
    var texts = {}, any = false;
    Object.keys(st.texts).sort(function (a, b) { return a - b; }).forEach(function (key) {
      var trial = merge(texts, {});
      trial[key] = st.texts[key];
      var candidate = JSON.stringify(merge(doc, { t: trial }));
      if (utf8Length(candidate) <= budget) { texts = trial; any = true; }
    });
    return any ? JSON.stringify(merge(doc, { t: texts })) : text;
  }

  /** Decode a state string; anything unreadable or from another course version yields a fresh state. */
  function decodeState(ix, text) {
    var st = emptyState();
    if (!text) return st;
    var doc;
    try { doc = JSON.parse(text); } catch (err) { return st; }
    if (!doc || (doc.v !== STATE_VERSION && doc.v !== 1) || doc.f !== ix.fingerprint) return st;
    st.lesson = Math.max(0, Math.min(ix.lessons.length, doc.l | 0));
    st.done = bitsDecode(doc.d || "", ix.blocks.length);
    var k;
    if (doc.v === 1) {
      for (k in doc.a || {}) if (ix.blocks[k]) st.ans[k] = decodeAnswer(ix.blocks[k].block, doc.a[k]);
    } else if (typeof doc.a === "string" && doc.a) {
      var slots = answerSlots(ix);
      doc.a.split(".").forEach(function (raw, j) {
        if (raw !== "" && j < slots.length) st.ans[slots[j]] = decodeAnswer(ix.blocks[slots[j]].block, raw);
      });
    }
    for (k in doc.t || {}) if (ix.blocks[k]) st.texts[k] = doc.t[k];
    st.reported = doc.r | 0;
    st.lang = doc.g === "en" || doc.g === "nb" ? doc.g : null;
    return st;
  }

  /* ---------- video: played segments (ADL video profile "played-segments", "progress") ---------- */

  /** Add the interval [from, to] (seconds) to a sorted, disjoint list of intervals; returns a new list. */
  function segmentsAdd(segs, from, to) {
    if (!(to > from)) return segs.slice();
    var out = [], a = from, b = to;
    segs.forEach(function (s) {
      if (s[1] < a || s[0] > b) out.push(s.slice());
      else { a = Math.min(a, s[0]); b = Math.max(b, s[1]); }
    });
    out.push([a, b]);
    return out.sort(function (x, y) { return x[0] - y[0]; });
  }

  /** Seconds covered by the union of the intervals. */
  function segmentsCovered(segs) {
    return segs.reduce(function (sum, s) { return sum + (s[1] - s[0]); }, 0);
  }

  /** The profile's text form: "0[.]5.2[,]7[.]9" (start[.]end pairs joined by [,]), 3 decimals. */
  function segmentsText(segs) {
    return segs.map(function (s) { return round(s[0], 3) + "[.]" + round(s[1], 3); }).join("[,]");
  }

  /** Share of the video watched (0..1, 3 decimals): union of played segments over the length. */
  function videoProgress(segs, length) {
    if (!(length > 0)) return 0;
    return Math.min(1, round(segmentsCovered(segs) / length, 3));
  }

  /* ---------- time formats ---------- */

  function pad(n, w) {
    var s = String(n);
    while (s.length < w) s = "0" + s;
    return s;
  }

  /** SCORM 1.2 CMITimespan: HHHH:MM:SS.SS */
  function scorm12Time(ms) {
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000), m = Math.floor(cs / 6000) % 60, s = Math.floor(cs / 100) % 60, c = cs % 100;
    return pad(Math.min(h, 9999), 4) + ":" + pad(m, 2) + ":" + pad(s, 2) + "." + pad(c, 2);
  }

  /** ISO 8601 duration (SCORM 2004 timeinterval, xAPI result.duration), centisecond precision. */
  function isoDuration(ms) {
    var cs = Math.max(0, Math.round(ms / 10));
    var h = Math.floor(cs / 360000), m = Math.floor(cs / 6000) % 60, s = (cs % 6000) / 100;
    return "PT" + (h ? h + "H" : "") + (m ? m + "M" : "") + s + "S";
  }

  /** A choice id as a SCORM 2004 short_identifier_type `[\w.]{1,250}` (Moodle checks it): "-" becomes "_"; ids are
   * `[a-z0-9-]`, so the map is   * one-to-one and the same id always gives the same identifier. */
  function shortId(id) {
    return String(id).replace(/[^A-Za-z0-9_.]/g, "_").slice(0, 250) || "_";
  }

  function uuid() {
    var c = typeof crypto !== "undefined" ? crypto : require("crypto").webcrypto;
    if (c.randomUUID) return c.randomUUID();
    var b = c.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }

  /** "nb" or "en" from a list of RFC 5646 tags in preference order (cmi5 languagePreference, navigator.languages). */
  function pickLocale(tags) {
    for (var i = 0; i < tags.length; i++) {
      var t = String(tags[i] || "").trim().toLowerCase();
      if (/^en\b/.test(t)) return "en";
      if (/^(nb|no|nn)\b/.test(t)) return "nb";
    }
    return null;
  }

  return {
    STATE_BUDGET: STATE_BUDGET, STATE_BUDGETS: STATE_BUDGETS, COMPLETABLE: COMPLETABLE, caseTrim: caseTrim, utf8Length: utf8Length,
    index: index, emptyState: emptyState, evaluate: evaluate, passed: passed, quizCorrect: quizCorrect, keyed: keyed,
    quizInteraction: quizInteraction, caseInteraction: caseInteraction, surveyInteraction: surveyInteraction,
    planInteraction: planInteraction, reflectionEvent: reflectionEvent, activityId: activityId,
    encodeState: encodeState, decodeState: decodeState, hash: fnv,
    segmentsAdd: segmentsAdd, segmentsCovered: segmentsCovered, segmentsText: segmentsText, videoProgress: videoProgress,
    scorm12Time: scorm12Time, isoDuration: isoDuration, shortId: shortId, uuid: uuid, pickLocale: pickLocale, round: round
  };
});
