// Opens a player page in one locale and reports, for every in-course survey block of the first lesson that has
// any, the question and the notice shown beside it (the answer is kept with the learner's records: not anonymous).
// Usage: node drive-survey-notice.js '{"url": "http://127.0.0.1:PORT/pkg/index.html", "locale": "en-US"}'
"use strict";
const { launch, playerFrame } = require("./lib");

async function main() {
  const opts = JSON.parse(process.argv[2]);
  const { context, close, errors } = await launch({ locale: opts.locale });
  const out = { surveys: [] };
  try {
    const page = await context.newPage();
    await page.goto(opts.url);
    const frame = await playerFrame(page);
    for (let guard = 0; guard < 50 && !out.surveys.length; guard++) {
      out.surveys = await frame.evaluate(() => Array.from(document.querySelectorAll("section.block-survey")).map((sec) => {
        const notice = sec.querySelector(".not-anonymous");
        const question = sec.querySelector("legend, label, .prompt");
        return {
          block: sec.dataset.block,
          question: question ? question.textContent : null,
          notice: notice ? notice.textContent : null,
          // Beside the question: in the same field group, before the send button.
          withQuestion: !!(notice && question && notice.parentElement.contains(question)),
          beforeSend: !!(notice && sec.querySelector("[data-action=send]") &&
            (notice.compareDocumentPosition(sec.querySelector("[data-action=send]")) & Node.DOCUMENT_POSITION_FOLLOWING)),
        };
      }));
      if (!out.surveys.length) await frame.locator("#next").click();
    }
    out.errors = errors;
  } finally {
    await close();
  }
  process.stdout.write(JSON.stringify(out));
}

main().catch((e) => { console.error(e && e.stack || e); process.exit(1); });
