// Runs the player's pure core (scorm_export/player/core.js) in node for tests/scorm_export/test_player_core.py.
// Usage: node core-check.js '{"course": "/path/course.json", "task": "worst-state" | "roundtrip" | "formats" | "segments"}'
"use strict";
const fs = require("fs");
const path = require("path");
const core = require(path.resolve(__dirname, "../../../scorm_export/player/core.js"));

const opts = JSON.parse(process.argv[2]);
const out = {};

/** The largest state a learner can produce: every block done, every answer at its longest, long texts. */
function worstState(ix, textLength) {
  const st = core.emptyState();
  st.lesson = ix.lessons.length - 1;
  st.lang = "en";
  st.reported = 7;
  ix.blocks.forEach((e) => {
    const b = e.block;
    st.done[e.index] = true;
    if (b.type === "quiz") st.ans[e.index] = b.choices.map((_, i) => i);
    if (b.type === "case") st.ans[e.index] = new Array(40).fill(b.steps[0].choices.length - 1);
    if (b.type === "survey" && b.options) st.ans[e.index] = [b.options.length - 1, b.options.length - 2, 0];
    else if (b.type === "survey" && b.kind !== "free-text") st.ans[e.index] = b.kind === "scale" ? 10 : 5;
    if (b.type === "survey" && b.kind === "free-text") st.texts[e.index] = "æ\"\n".repeat(textLength);
    if (b.type === "action-plan") st.texts[e.index] = Array.from({ length: 20 }, () => ["Tiltak «x» æøå".repeat(textLength / 10), "Neste uke", "Formann", 1]);
  });
  return st;
}

if (opts.task === "worst-state" || opts.task === "roundtrip") {
  const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
  const ix = core.index(course);
  const st = worstState(ix, opts.textLength || 0);
  const text = core.encodeState(ix, st);
  const back = core.decodeState(ix, text);
  out.length = text.length;
  out.blocks = ix.blocks.length;
  out.reencoded = core.encodeState(ix, back) === text;
  out.sameProgress = JSON.stringify(back.done) === JSON.stringify(st.done) && JSON.stringify(back.ans) === JSON.stringify(st.ans) && back.lesson === st.lesson;
  out.textsKept = Object.keys(back.texts).length;
  out.textsGiven = Object.keys(st.texts).length;
  out.newlineFree = !/[\r\n]/.test(text);
  // Another course version (a block added) must not misread the state.
  const changed = JSON.parse(JSON.stringify(course));
  changed.modules[0].lessons[0].blocks.unshift({ type: "text", id: "ny-blokk", html: { nb: "<p>x</p>", en: "<p>x</p>" } });
  const other = core.decodeState(core.index(changed), text);
  out.otherVersionFresh = Object.keys(other.done).length === 0 && other.lesson === 0;
  out.garbageFresh = core.decodeState(ix, "{not json").lesson === 0 && core.decodeState(ix, "").lesson === 0;
  // Score and completion of a fully answered, fully correct attempt.
  const perfect = core.emptyState();
  ix.blocks.forEach((e) => {
    perfect.done[e.index] = true;
    if (e.block.type === "quiz") perfect.ans[e.index] = e.block.choices.map((c, i) => (c.correct ? i : -1)).filter((i) => i >= 0);
  });
  const ev = core.evaluate(ix, perfect);
  out.perfect = { scaled: ev.scaled, complete: ev.complete, passed: core.passed(ev, course.passingScore), points: ev.points };
  out.empty = core.evaluate(ix, core.emptyState());
  out.emptyPassed = core.passed(out.empty, course.passingScore);
}
if (opts.task === "formats") {
  out.scorm12 = [0, 1234, 3723450, 3.6e9, 3.6e10].map(core.scorm12Time);
  out.iso = [0, 1234, 3723450, 60000].map(core.isoDuration);
  out.locales = [["en-US", "nb"], ["nb-NO"], ["nn-NO"], ["de-DE", "en-GB"], ["de-DE"], [""]].map(core.pickLocale);
  out.uuid = core.uuid();
}
if (opts.task === "segments") {
  // A learner who plays 0-3, skips to 6-8, goes back to 2.5-6.5 and replays 1-2.
  let segs = [];
  for (const [a, b] of [[0, 3], [6, 8], [2.5, 6.5], [1, 2], [5, 5]]) {
    segs = core.segmentsAdd(segs, a, b);
    out.steps = (out.steps || []).concat([[core.segmentsText(segs), core.videoProgress(segs, 8)]]);
  }
  out.gap = core.segmentsText(core.segmentsAdd([[0, 1]], 2, 3));
  out.noLength = core.videoProgress([[0, 3]], null);
}
process.stdout.write(JSON.stringify(out));
