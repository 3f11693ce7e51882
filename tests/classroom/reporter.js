// reporter.js - replays GitHub Classroom's grading reporter on a workflow's results.
//
//   INPUT_RUNNERS=id1,id2 ID1_RESULTS=<base64 JSON> ... node tests/classroom/reporter.js
//
// What classroom-resources/autograding-grading-reporter (src/main.js,
// notify-classroom.js, helpers/test-helpers.js at commit 43c2d9f) does with
// the runners' results, rewritten here: each runner's result is read from the
// environment variable named runner.trim().toUpperCase() + "_RESULTS" (hyphens
// kept), base64-decoded and parsed; the points are the sum of the runners'
// max_score and of their tests' score; the run fails if a runner failed or
// errored, and if anything cannot be read it says so (with its message about
// the runners list when the list is not plain letters and digits) and fails.
// Prints "Points x/y" as the reporter's notice does; exit 1 where it calls setFailed.
//
// See also: tests/classroom/replay.py (runs the workflow's steps), tests/check_platforms.c.
"use strict";
function fail(message) {
  console.log(`::error::${message}`);
  process.exitCode = 1;
}
const input = process.env.INPUT_RUNNERS || "";
try {
  const results = input.split(",").map((runner) => {
    const encoded = process.env[`${runner.trim().toUpperCase()}_RESULTS`];
    const json = Buffer.from(encoded, "base64").toString("utf-8"); // throws on undefined
    return { runner, results: JSON.parse(json) };
  });
  let total = 0, max = 0;
  for (const { runner, results: r } of results) {
    const passed = r.tests.filter((t) => t.status === "pass").length;
    console.log(`${runner}: ${passed}/${r.tests.length} passed` + (r.max_score ? `, ${(passed / r.tests.length * r.max_score).toFixed(2)}/${r.max_score} points` : ""));
    if (!r.max_score) continue;
    max += r.max_score;
    for (const t of r.tests) total += t.score;
  }
  if (max) console.log(`Points ${total}/${max}`);
  if (results.some((x) => x.results.status === "fail")) fail("Some tests failed.");
  else if (results.some((x) => x.results.status === "error")) fail("Some tests errored.");
} catch (error) {
  if (!/^([a-zA-Z0-9]+,)*[a-zA-Z0-9]+$/.test(input)) {
    console.error("The runners input must be a comma-separated list of strings.");
    fail("The runners input must be a comma-separated list of strings.");
  } else {
    console.error(error.message);
    fail(error.message);
  }
}
