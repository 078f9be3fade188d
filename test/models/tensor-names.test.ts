/**
 * The ViT's Hugging Face tensor names have one home: src/models/vit/tensors.ts. This reads every source file under
 * src/ with the TypeScript parser and lists the files whose string literals (plain, or the text parts of template
 * literals) spell a piece of one of those names. Comments do not count; only code that names a tensor does.
 */
import {readFileSync, readdirSync} from 'node:fs'
import {join, relative} from 'node:path'
import ts from 'typescript'
import {describe, expect, it} from 'vitest'

const ROOT = join(import.meta.dirname, '..', '..')
const HOME = 'src/models/vit/tensors.ts'

/**
 * What makes a Hugging Face tensor name ViTForImageClassification's: the `vit.` module prefix of everything but the
 * head (`vit.embeddings.cls_token`, `vit.encoder.layer.N.attention.attention.query.weight`, `vit.layernorm.bias`).
 * The suffixes (`attention.attention.query.weight`, `classifier.weight`, ...) are shared with BEiT and DINOv2, whose
 * names have their own prefix and their own home.
 */
const HF_VIT_NAME = /(^|[^A-Za-z0-9_])vit\.(embeddings|encoder|layernorm|pooler)/

/** Every string literal and template-literal text part of a TypeScript source. */
export function stringLiterals(text: string, file: string): string[] {
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.TS)
  const out: string[] = []
  const visit = (node: ts.Node): void => {
    if (ts.isStringLiteralLike(node)) out.push(node.text)
    else if (ts.isTemplateExpression(node)) {
      out.push(node.head.text)
      for (const span of node.templateSpans) out.push(span.literal.text)
    }
    ts.forEachChild(node, visit)
  }
  visit(source)
  return out
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, {withFileTypes: true}).flatMap((e) => {
    const path = join(dir, e.name)
    if (e.isDirectory()) return sourceFiles(path)
    return e.name.endsWith('.ts') ? [path] : []
  })
}

/** The files (relative to the repo) whose string literals spell a piece of a Hugging Face ViT tensor name. */
function filesNamingVitTensors(files: ReadonlyArray<{path: string; text: string}>): string[] {
  return files.filter((f) => stringLiterals(f.text, f.path).some((s) => HF_VIT_NAME.test(s))).map((f) => f.path)
}

describe('Hugging Face ViT tensor names', () => {
  it(`appear in string literals of exactly one source file, ${HOME}`, () => {
    const files = sourceFiles(join(ROOT, 'src')).map((path) => ({path: relative(ROOT, path).split('\\').join('/'), text: readFileSync(path, 'utf8')}))
    expect(files.length).toBeGreaterThan(50)
    expect(filesNamingVitTensors(files)).toEqual([HOME])
  })

  it('the check sees names in plain and template literals, and ignores comments', () => {
    const files = [
      {path: 'a.ts', text: "const n = 'vit.embeddings.cls_token'"},
      {path: 'b.ts', text: 'const n = (l: number) => `vit.encoder.layer.${l}.attention.attention.query.weight`'},
      {path: 'c.ts', text: 'const p = (l: number) => `vit.encoder.layer.${l}`'},
      {path: 'd.ts', text: "// vit.embeddings.cls_token is read from the table\nconst n = 'embeddings/patch/Conv'"},
      {path: 'e.ts', text: "const n = ['beit.embeddings.cls_token', 'src/models/vit.ts', 'classifier.weight']"},
    ]
    expect(filesNamingVitTensors(files)).toEqual(['a.ts', 'b.ts', 'c.ts'])
  })
})
