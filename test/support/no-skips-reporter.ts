import type { Reporter, TestCase } from 'vitest/node';

/**
 * In CI a skipped test is a failure: the machine has every service the suites need, so a
 * skip can only hide a missing install step. Prints what was skipped and fails the run.
 */
export default class NoSkipsReporter implements Reporter {
  #skipped: string[] = [];

  onTestCaseResult(testCase: TestCase): void {
    if (testCase.result().state === 'skipped') this.#skipped.push(`${testCase.module.moduleId}: ${testCase.fullName}`);
  }

  onTestRunEnd(): void {
    if (this.#skipped.length === 0) return;
    process.stderr.write(`\n${this.#skipped.length} test(s) skipped, which CI treats as failures:\n${this.#skipped.map((s) => `  - ${s}`).join('\n')}\n`);
    process.exitCode = 1;
  }
}
