// Runs the pinned caching tests' client against BASE and prints one JSON document: each
// test's id, suite, kind, whether it is required, and its outcome, with the suite's
// dependencies honoured (a test whose dependency did not pass has not passed).
//
//   node run.mjs http://127.0.0.1:PORT > outcomes.json
import fetch from 'node-fetch'
import { runTests, getResults } from 'http-cache-tests/client/runner.mjs'
import index from 'http-cache-tests/tests/index.mjs'
import surrogate from 'http-cache-tests/tests/surrogate-control.mjs'

const base = process.argv[2]
if (!base) {
  console.error('usage: node run.mjs BASE_URL')
  process.exit(2)
}
// The suite's own CLI runs the index and the surrogate-control tests: so do we.
const suites = [...index, surrogate]
const tests = {}
for (const suite of suites) {
  for (const test of suite.tests) tests[test.id] = { ...test, suite: suite.id }
}

await runTests(suites, fetch, false, base)
const results = getResults()

const PASSING = new Set(['pass', 'yes'])
const outcomes = {}
function outcome (id) {
  if (outcomes[id]) return outcomes[id]
  const test = tests[id]
  const result = results[id]
  let kind
  if (result === undefined) kind = 'untested'
  else if ((test.depends_on || []).some(dependency => !PASSING.has(outcome(dependency)))) kind = 'dependency_fail'
  else if (Array.isArray(result) && result[0] === 'Setup') kind = result[1] === 'retry' ? 'retry' : 'setup_fail'
  else if (Array.isArray(result) && result[0] !== 'Assertion') kind = 'harness_fail'
  else if ((test.kind || 'required') === 'check') kind = result === true ? 'yes' : 'no'
  else kind = result === true ? 'pass' : (test.kind === 'optimal' ? 'optional_fail' : 'fail')
  outcomes[id] = kind
  return kind
}

const report = {}
for (const [id, test] of Object.entries(tests)) {
  if (test.browser_only) continue // never run outside a browser
  const result = results[id]
  report[id] = {
    suite: test.suite,
    kind: test.kind || 'required',
    outcome: outcome(id),
    detail: Array.isArray(result) ? result.join(': ') : String(result)
  }
}
console.log(JSON.stringify(report, null, 1))
