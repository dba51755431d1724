// Runs a SCORM runtime adapter of the player (scorm_export/player/runtime-scorm12.js / runtime-scorm2004.js) in
// node against a recording API object, for tests/scorm_export/test_scorm_runtimes.py: every quiz answered right,
// one path through every case, every survey, then completion and exit. Prints every SetValue as JSON.
// Usage: node runtime-check.js '{"course": "/path/course.json", "api": "scorm12"|"scorm2004", "mode": "normal", "status": ""}'
"use strict";
const fs = require("fs");
const path = require("path");
const vm = require("vm");
const PLAYER = path.resolve(__dirname, "../../scorm_export/player");
const core = require(path.join(PLAYER, "core.js"));

const opts = JSON.parse(process.argv[2]);
const course = JSON.parse(fs.readFileSync(opts.course, "utf8"));
const v12 = opts.api === "scorm12";
const values = v12
  ? { "cmi.core.lesson_mode": opts.mode, "cmi.core.lesson_status": opts.status || "not attempted", "cmi.core.entry": "ab-initio",
      "cmi.core.student_id": "ola-1", "cmi.interactions._count": "0" }
  : { "cmi.mode": opts.mode, "cmi.completion_status": opts.status || "unknown", "cmi.entry": "ab-initio", "cmi.learner_id": "ola-1",
      "cmi.interactions._count": "0" };
const sets = [];
function setValue(k, v) {
  sets.push([k, String(v)]);
  const m = /^cmi\.interactions\.(\d+)\.id$/.exec(k);
  if (m && Number(m[1]) >= Number(values["cmi.interactions._count"])) values["cmi.interactions._count"] = String(Number(m[1]) + 1);
  values[k] = String(v);
  return "true";
}
const api = v12
  ? { LMSInitialize: () => "true", LMSFinish: () => "true", LMSCommit: () => "true", LMSGetValue: (k) => values[k] || "",
      LMSSetValue: setValue, LMSGetLastError: () => "0", LMSGetErrorString: () => "" }
  : { Initialize: () => "true", Terminate: () => "true", Commit: () => "true", GetValue: (k) => values[k] || "",
      SetValue: setValue, GetLastError: () => "0", GetErrorString: () => "" };
const root = { SMEB: { core }, console };
root[v12 ? "API" : "API_1484_11"] = api;
vm.createContext(root);
vm.runInContext(fs.readFileSync(path.join(PLAYER, v12 ? "runtime-scorm12.js" : "runtime-scorm2004.js"), "utf8"), root);

async function main() {
  const ix = core.index(course);
  const rt = root.SMEB.runtimes[opts.api]({}, { core, course, index: ix });
  await rt.init();
  for (const e of ix.blocks) {
    const b = e.block;
    if (b.type === "quiz") {
      const right = b.choices.map((c, i) => (c.correct ? i : -1)).filter((i) => i >= 0);
      await rt.recordAnswer(core.quizInteraction(ix, e, right));
    } else if (b.type === "case") {
      for (const step of b.steps) await rt.recordAnswer(core.caseInteraction(ix, e, step, step.choices.length - 1));
    } else if (b.type === "survey") {
      const value = b.options && b.options.length ? [b.options.length - 1, 0] : b.kind === "scale" ? 7 : b.kind === "likert" ? 4 : "Mer øving – og {tid}.";
      await rt.recordAnswer(core.surveyInteraction(ix, e, value));
    }
  }
  await rt.complete({ completed: true, passed: true, progress: 1, threshold: course.passingScore,
    score: { scaled: 1, raw: ix.maxPoints, min: 0, max: ix.maxPoints }, reported: 0 });
  rt.terminate({ complete: true, exitAll: true, unloading: false });
  process.stdout.write(JSON.stringify({ sets, values }));
}
main().catch((err) => { process.stderr.write(String(err && err.stack || err)); process.exit(1); });
