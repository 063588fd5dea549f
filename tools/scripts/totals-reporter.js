// Ends every jest run with its totals on a line of their own ("N passed, N failed"), and writes
// the same line to QIWEI_TEST_TOTALS_FILE when set, so .ci/run can print it last.
const { writeFileSync } = require('node:fs');

class TotalsReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    // A suite that could not run at all (syntax error, failing beforeAll import) counts as a failure.
    const failed = results.numFailedTests + results.numRuntimeErrorTestSuites;
    const line = `${results.numPassedTests} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ''}`;
    process.stdout.write(`\n${line}\n`);
    if (process.env.QIWEI_TEST_TOTALS_FILE)
      writeFileSync(process.env.QIWEI_TEST_TOTALS_FILE, `${line}\n`);
  }
}

module.exports = TotalsReporter;
