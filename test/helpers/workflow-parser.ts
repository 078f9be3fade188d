/**
 * Loads GitHub's own workflow and action parsers (@actions/workflow-parser, the parser behind the Actions language
 * service). Its ESM build imports its JSON schemas without `with {type: 'json'}`, which Node 20 refuses; a loader
 * hook registered here serves those two JSON files (and only that package's) as modules exporting the parsed JSON.
 */
import {register} from 'node:module'

const HOOK = `
export async function load(url, context, nextLoad) {
  if (url.includes('/@actions/workflow-parser/') && url.endsWith('.json')) {
    const {readFile} = await import('node:fs/promises')
    const text = await readFile(new URL(url), 'utf8')
    return {format: 'module', source: 'export default ' + text, shortCircuit: true}
  }
  return nextLoad(url, context)
}
`

let registered = false

type WorkflowParser = typeof import('@actions/workflow-parser')
type ActionParser = typeof import('@actions/workflow-parser/actions/index')

export async function loadWorkflowParser(): Promise<WorkflowParser & ActionParser> {
  if (!registered) {
    register(`data:text/javascript,${encodeURIComponent(HOOK)}`)
    registered = true
  }
  const main = (await import('@actions/workflow-parser')) as WorkflowParser
  const actions = (await import('@actions/workflow-parser/actions/index')) as ActionParser
  return {...main, ...actions}
}
