// Drives the LRS with an independent client, npm @xapi/xapi, and prints a JSON summary.
// Env: LRS_ENDPOINT (ends with /), LRS_AUTH ("Basic ..."). Exit code 1 on any mismatch.
const assert = require("node:assert/strict");
const XAPIModule = require("@xapi/xapi");
const XAPI = XAPIModule.default || XAPIModule;

const xapi = new XAPI({ endpoint: process.env.LRS_ENDPOINT, auth: process.env.LRS_AUTH, version: "1.0.3" });
const actor = { objectType: "Agent", name: "Interop", mbox: "mailto:interop@example.com" };
const activity = "https://smeb.no/xapi/interop/course";

function statement(n) {
  return {
    actor,
    verb: { id: "http://adlnet.gov/expapi/verbs/experienced", display: { "en-US": "experienced" } },
    object: { objectType: "Activity", id: `${activity}/${n}`, definition: { name: { "en-US": `Lesson ${n}` } } },
  };
}

async function main() {
  const summary = {};
  const about = (await xapi.getAbout()).data;
  assert.ok(about.version.includes("1.0.3"));
  summary.about = about.version;

  const sent = (await xapi.sendStatements({ statements: [1, 2, 3, 4, 5].map(statement) })).data;
  assert.equal(sent.length, 5);
  const single = (await xapi.sendStatement({ statement: statement(6) })).data;
  sent.push(single[0]);

  // Paging with `more` until exhausted: every statement once, newest first.
  let page = (await xapi.getStatements({ agent: actor, limit: 2 })).data;
  const seen = page.statements.map((s) => s.id);
  while (page.more) {
    page = (await xapi.getMoreStatements({ more: page.more })).data;
    seen.push(...page.statements.map((s) => s.id));
  }
  assert.deepEqual(seen, [...sent].reverse());
  summary.paged = seen.length;

  // Voiding: gone from queries, still there by voidedStatementId.
  await xapi.voidStatement({ actor, statementId: sent[0] });
  let notFound = false;
  try {
    await xapi.getStatement({ statementId: sent[0] });
  } catch (error) {
    notFound = error.response && error.response.status === 404;
  }
  assert.ok(notFound, "voided statement must be 404 by statementId");
  const voided = (await xapi.getVoidedStatement({ voidedStatementId: sent[0] })).data;
  assert.equal(voided.id, sent[0]);
  summary.voided = voided.id;

  // State: set, merge-free get, list, delete.
  await xapi.setState({ agent: actor, activityId: activity, stateId: "bookmark", state: { lesson: 3 } });
  const state = (await xapi.getState({ agent: actor, activityId: activity, stateId: "bookmark" })).data;
  assert.deepEqual(state, { lesson: 3 });
  const ids = (await xapi.getStates({ agent: actor, activityId: activity })).data;
  assert.deepEqual(ids, ["bookmark"]);
  await xapi.deleteState({ agent: actor, activityId: activity, stateId: "bookmark" });
  assert.deepEqual((await xapi.getStates({ agent: actor, activityId: activity })).data, []);
  summary.state = "ok";

  const canonical = (await xapi.getActivity({ activityId: `${activity}/1` })).data;
  assert.equal(canonical.definition.name["en-US"], "Lesson 1");
  summary.activity = canonical.id;

  console.log(JSON.stringify(summary));
}

main().catch((error) => {
  const detail = error.response ? `${error.response.status} ${JSON.stringify(error.response.data)}` : "";
  console.error(error.stack || String(error), detail);
  process.exit(1);
});
