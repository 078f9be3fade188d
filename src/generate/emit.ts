/**
 * YAML text for generated documents: keys in the order the builders insert them (which follows Azure's samples),
 * no line folding, comments where they help a reader, nothing that changes between runs.
 */
import {Document, isMap} from 'yaml'

/** A YAML document to write: its data, plus comments placed before it or after a map's entries. */
export interface YamlContent {
  data: Record<string, unknown>
  /** Comment lines above the document. */
  header?: string[]
  /** Comment lines after the entries of the map at a path (e.g. optional inputs left for the user to enable). */
  trailing?: Array<{path: Array<string | number>; lines: string[]}>
}

function commentText(lines: string[]): string {
  return lines.map((l) => (l === '' ? '' : ` ${l}`)).join('\n')
}

export function renderYaml(content: YamlContent): string {
  const doc = new Document(content.data)
  if (content.header?.length) doc.commentBefore = commentText(content.header)
  for (const t of content.trailing ?? []) {
    const node = doc.getIn(t.path, true)
    if (!isMap(node)) continue
    // A commented-out `  key: value` line whose key is now set for real would only mislead.
    const lines = t.lines.filter((l) => {
      const m = /^\s+([A-Za-z_][A-Za-z0-9_]*):/.exec(l)
      return !m || !node.has(m[1])
    })
    node.comment = commentText(lines)
  }
  return doc.toString({lineWidth: 0, indentSeq: true})
}
