// The player core's state encoding for tests/scorm_export/test_state_budget.py: budgets, fingerprint, and the
// fullest state a learner can reach (every block done, every answer at its longest, loop-free case paths).
// Usage: node state-check.js '{"course": "/path/course.json"}'
"use strict";
const fs = require("fs");
const path = require("path");
const core = require(path.resolve(__dirname, "../../scorm_export/player/core.js"));

const opts = JSON.parse(process.argv[2] || "{}");
const out = { budgets: core.STATE_BUDGETS };
if (opts.course) {
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const ix = core.index(course);
  const st = core.emptyState();
  st.lesson = ix.lessons.length;
  st.lang = "en";
  st.reported = 255;
  ix.blocks.forEach((e) => {
    const b = e.block;
    st.done[e.index] = true;
    if (b.type === "quiz") st.ans[e.index] = b.choices.map((_, i) => i);
    if (b.type === "case") {
      // A learner who keeps choosing the last choice (loops included) for a long time: the trimmed path.
      st.ans[e.index] = core.caseTrim(b, new Array(500).fill(0).map((_, i) => (i * 7) % b.steps[0].choices.length));
    }
    if (b.type === "survey" && b.options) st.ans[e.index] = b.options.map((_, i) => b.options.length - 1 - i);
    else if (b.type === "survey" && b.kind !== "free-text") st.ans[e.index] = b.kind === "scale" ? 10 : 5;
    if (b.type === "survey" && b.kind === "free-text" && opts.textRepeat) st.texts[e.index] = "svar æøå ".repeat(opts.textRepeat);
  });
  const text = core.encodeState(ix, st, opts.budget || 64000);
  out.fingerprint = ix.fingerprint;
  out.bytes = core.utf8Length(text);
  const back = core.decodeState(ix, text);
  out.roundtrip = JSON.stringify(back.ans) === JSON.stringify(st.ans) && JSON.stringify(back.done) === JSON.stringify(st.done);
  // A version-1 state (before issue 13) is still read, so learners keep their progress after an upgrade.
  const v1 = { v: 1, f: ix.fingerprint, l: 1, d: "", a: {} };
  const firstQuiz = ix.quizzes[0];
  if (firstQuiz) v1.a[firstQuiz.index] = "3";
  const old = core.decodeState(ix, JSON.stringify(v1));
  out.v1 = { lesson: old.lesson, answer: firstQuiz ? old.ans[firstQuiz.index] : null };
  try { core.encodeState(ix, st, 20); out.tooSmall = null; } catch (err) { out.tooSmall = String(err.message); }
}
process.stdout.write(JSON.stringify(out));
