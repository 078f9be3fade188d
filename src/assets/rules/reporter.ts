/** How a rule reports: a diagnostic at the line and column of a node of a YAML file, or of its nearest ancestor. */
import type {FixableDiagnostic, RuleId} from '../diagnostic.js'
import {isRecord} from '../resolve.js'
import {locate, type YamlFile, type YamlPath} from '../yaml-file.js'

export class Reporter {
  readonly diagnostics: FixableDiagnostic[] = []

  at(yf: YamlFile, path: YamlPath, rule: RuleId, message: string, opts: {prefer?: 'key' | 'value'; severity?: 'error' | 'warning'; fix?: FixableDiagnostic['fix']} = {}): void {
    const pos = locate(yf, path, opts.prefer ?? 'value')
    this.diagnostics.push({rule, severity: opts.severity ?? 'error', message, file: yf.file, line: pos.line, column: pos.column, ...(opts.fix ? {fix: opts.fix} : {})})
  }

  /** For a key that is absent: point at the deepest ancestor that exists (its key), or the top of the file. */
  missing(yf: YamlFile, path: YamlPath, rule: RuleId, message: string, fix?: FixableDiagnostic['fix']): void {
    const data = yf.data
    let prefix: YamlPath = []
    let node: unknown = data
    for (const seg of path) {
      if (isRecord(node) && Object.prototype.hasOwnProperty.call(node, seg)) {
        prefix = [...prefix, seg]
        node = node[seg as string]
      } else break
    }
    if (prefix.length === 0) {
      this.diagnostics.push({rule, severity: 'error', message, file: yf.file, line: 1, column: 1, ...(fix ? {fix} : {})})
    } else this.at(yf, prefix, rule, message, {prefer: 'key', fix})
  }

  fileLevel(file: string, rule: RuleId, message: string): void {
    this.diagnostics.push({rule, severity: 'error', message, file, line: 1, column: 1})
  }
}
