/**
 * report.html: one self-contained page (inline CSS and SVG, thumbnails as data: URIs, no script, no network) with
 * the headline metrics, the confusion matrix as a heat map, per-class bars, the misclassified images with their
 * top-3, and the rows that were skipped. Elements carry data-* attributes (cell counts, labels) so a browser test
 * can read what is drawn.
 */

import sharp from 'sharp'

import {readImageFile} from '../image/index.js'

import type {EvaluateResult, PredictionRow} from './result.js'
import type {ClassMetrics, ConfusionMatrix, MultilabelConfusion} from './metrics.js'

export interface ReportInput {
  result: EvaluateResult
  predictions: PredictionRow[]
  labels: string[]
  /** The image file of a prediction row (for its thumbnail); undefined leaves the thumbnail out. */
  imagePath: (row: PredictionRow) => string | undefined
}

/** At most this many misclassified thumbnails (the rest are counted, and listed in predictions.jsonl). */
export const MAX_THUMBNAILS = 200
const THUMB_PX = 96
/** Confusion matrices over this many classes are drawn without counts in the cells (they would not fit). */
const MAX_LABELLED_CLASSES = 30

const esc = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
const fmt = (v: unknown): string => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(4)) : v === null ? 'n/a' : '')
const labelText = (l: string | string[]): string => (Array.isArray(l) ? (l.length ? l.join(', ') : '(none)') : l)

/** White to deep blue for t in [0, 1]. */
function heat(t: number): string {
  const c = (a: number, b: number): number => Math.round(a + (b - a) * t)
  return `rgb(${c(247, 8)}, ${c(251, 48)}, ${c(255, 107)})`
}

function confusionSvg(cm: ConfusionMatrix): string {
  const {class_labels: labels, matrix} = cm.data
  const K = labels.length
  const cell = K <= 12 ? 44 : K <= MAX_LABELLED_CLASSES ? 26 : Math.max(4, Math.floor(800 / K))
  const showText = K <= MAX_LABELLED_CLASSES
  const margin = showText ? 110 : 20
  const size = margin + K * cell + 10
  const parts: string[] = []
  parts.push(`<svg class="confusion" xmlns="http://www.w3.org/2000/svg" width="${size}" height="${size}" role="img" aria-label="confusion matrix">`)
  parts.push(`<text x="${margin + (K * cell) / 2}" y="14" text-anchor="middle" class="axis">predicted</text>`)
  parts.push(`<text x="14" y="${margin + (K * cell) / 2}" text-anchor="middle" class="axis" transform="rotate(-90 14 ${margin + (K * cell) / 2})">true</text>`)
  matrix.forEach((row, i) => {
    const rowTotal = row.reduce((a, b) => a + b, 0)
    row.forEach((count, j) => {
      // Shade by the share of the true class's rows, so a small class's errors show as clearly as a large one's.
      const t = rowTotal === 0 ? 0 : count / rowTotal
      const x = margin + j * cell
      const y = margin + i * cell
      const title = `true ${labels[i]}, predicted ${labels[j]}: ${count}`
      parts.push(
        `<g class="cm-cell" data-true="${esc(labels[i])}" data-pred="${esc(labels[j])}" data-count="${count}"><title>${esc(title)}</title>` +
          `<rect x="${x}" y="${y}" width="${cell}" height="${cell}" fill="${heat(t)}" stroke="#fff"/>` +
          (showText && count > 0 ? `<text x="${x + cell / 2}" y="${y + cell / 2 + 4}" text-anchor="middle" fill="${t > 0.5 ? '#fff' : '#123'}">${count}</text>` : '') +
          '</g>',
      )
    })
  })
  if (showText) {
    labels.forEach((l, k) => {
      const short = l.length > 14 ? `${l.slice(0, 13)}…` : l
      parts.push(`<text class="tick" x="${margin - 6}" y="${margin + k * cell + cell / 2 + 4}" text-anchor="end">${esc(short)}</text>`)
      parts.push(`<text class="tick" x="${margin + k * cell + cell / 2}" y="${margin - 6}" text-anchor="start" transform="rotate(-45 ${margin + k * cell + cell / 2} ${margin - 6})">${esc(short)}</text>`)
    })
  }
  parts.push('</svg>')
  return parts.join('\n')
}

function multilabelConfusionTable(cm: MultilabelConfusion): string {
  const rows = cm.data.class_labels.map((label, k) => {
    const [[tn, fp], [fn, tp]] = cm.data.matrices[k]
    const total = tn + fp + fn + tp
    const cell = (name: string, v: number): string =>
      `<td class="cm-cell" data-true="${esc(label)}" data-kind="${name}" data-count="${v}" style="background:${heat(total ? v / total : 0)};color:${total && v / total > 0.5 ? '#fff' : '#123'}">${v}</td>`
    return `<tr><th>${esc(label)}</th>${cell('TP', tp)}${cell('FP', fp)}${cell('FN', fn)}${cell('TN', tn)}</tr>`
  })
  return `<table class="confusion"><thead><tr><th>label</th><th>TP</th><th>FP</th><th>FN</th><th>TN</th></tr></thead><tbody>${rows.join('')}</tbody></table>`
}

function perClassSvg(perClass: ClassMetrics[]): string {
  const series: Array<[keyof ClassMetrics, string]> = [
    ['precision', '#4c78a8'],
    ['recall', '#f58518'],
    ['f1_score', '#54a24b'],
  ]
  const labelW = 120
  const barW = 300
  const rowH = 3 * 9 + 8
  const height = perClass.length * rowH + 30
  const parts = [`<svg class="per-class" xmlns="http://www.w3.org/2000/svg" width="${labelW + barW + 160}" height="${height}" role="img" aria-label="per-class precision, recall and f1">`]
  series.forEach(([name, color], s) => {
    parts.push(`<rect x="${labelW + s * 100}" y="4" width="10" height="10" fill="${color}"/><text x="${labelW + s * 100 + 14}" y="13" class="tick">${name}</text>`)
  })
  perClass.forEach((c, i) => {
    const y0 = 24 + i * rowH
    const short = c.label.length > 16 ? `${c.label.slice(0, 15)}…` : c.label
    parts.push(`<text class="tick" x="${labelW - 6}" y="${y0 + 16}" text-anchor="end">${esc(short)}</text>`)
    series.forEach(([name, color], s) => {
      const v = c[name] as number
      parts.push(
        `<g class="bar" data-label="${esc(c.label)}" data-metric="${name}" data-value="${v}"><title>${esc(`${c.label} ${name} ${v.toFixed(4)}`)}</title>` +
          `<rect x="${labelW}" y="${y0 + s * 9}" width="${Math.max(0.5, v * barW)}" height="8" fill="${color}"/></g>`,
      )
    })
    parts.push(`<text class="tick" x="${labelW + barW + 8}" y="${y0 + 16}">f1 ${c.f1_score.toFixed(3)} · n=${c.support}</text>`)
  })
  parts.push('</svg>')
  return parts.join('\n')
}

async function thumbnail(path: string): Promise<string | undefined> {
  try {
    const png = await sharp(await readImageFile(path)).rotate().resize(THUMB_PX, THUMB_PX, {fit: 'inside', withoutEnlargement: false}).png().toBuffer()
    return `data:image/png;base64,${png.toString('base64')}`
  } catch {
    // The image scored, so it decodes; a thumbnail failure only leaves the picture out.
    return undefined
  }
}

const STYLE = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:28px 0 8px;border-bottom:1px solid #ddd;padding-bottom:4px}
.sub{color:#555}.cards{display:flex;flex-wrap:wrap;gap:10px;margin:16px 0}
.card{border:1px solid #ddd;border-radius:6px;padding:8px 14px;min-width:120px}.card b{display:block;font-size:22px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eee;text-align:left}td.num{text-align:right;font-variant-numeric:tabular-nums}
svg text{font:11px system-ui,sans-serif}svg .axis{font-weight:600}
.grid{display:flex;flex-wrap:wrap;gap:10px}.miss{margin:0;border:1px solid #e3b4b4;border-radius:6px;padding:6px;width:150px;font-size:12px}
.miss img{display:block;margin:0 auto 4px;image-rendering:pixelated;max-width:${THUMB_PX}px}.miss .truth{color:#0a6b2f}.miss .wrong{color:#b00020}
.notes li{margin:2px 0}.bad td{font-size:12px}
`

export async function renderReport(input: ReportInput): Promise<string> {
  const {result, predictions} = input
  const m = result.metrics
  const metric = (name: string): unknown => m.metrics[name]
  const cards = ['accuracy', 'f1_score_macro', 'precision_score_macro', 'recall_score_macro', 'AUC_macro', 'log_loss']
    .filter((n) => typeof metric(n) === 'number')
    .map((n) => `<div class="card" data-metric="${n}">${esc(n)}<b>${fmt(metric(n))}</b></div>`)
  const scalarRows = Object.entries(m.metrics)
    .filter(([, v]) => typeof v === 'number' || v === null)
    .map(([k, v]) => `<tr data-metric="${esc(k)}"><td>${esc(k)}</td><td class="num">${fmt(v)}</td></tr>`)
  const cm = m.metrics.confusion_matrix as ConfusionMatrix | MultilabelConfusion | undefined
  const cmHtml = cm === undefined ? '<p>confusion_matrix was not requested by the evaluation config.</p>' : cm.schema_type === 'confusion_matrix' ? confusionSvg(cm) : multilabelConfusionTable(cm)

  const wrong = predictions.filter((p) => !p.correct)
  const shown = wrong.slice(0, MAX_THUMBNAILS)
  const figures = await Promise.all(
    shown.map(async (p) => {
      const path = input.imagePath(p)
      const src = path === undefined ? undefined : await thumbnail(path)
      const top = p.top.map((t) => `<li>${esc(t.label)} <span class="num">${t.score.toFixed(3)}</span></li>`).join('')
      return (
        `<figure class="miss" data-image="${esc(p.image)}" data-label="${esc(labelText(p.label))}" data-pred="${esc(labelText(p.prediction))}">` +
        (src ? `<img src="${src}" alt="${esc(p.image)}">` : '') +
        `<div title="${esc(p.source)}">${esc(p.image)}</div><div class="truth">true: ${esc(labelText(p.label))}</div>` +
        `<div class="wrong">predicted: ${esc(labelText(p.prediction))}</div><ol>${top}</ol></figure>`
      )
    }),
  )
  const bad = result.skipped.map((b) => `<tr><td>${esc(b.source)}</td><td>${esc(b.reason)}</td></tr>`)
  const notes = result.job ? result.job.notes.map((n) => `<li>${esc(n)}</li>`).join('') : ''
  const notComputed = m.not_computed.map((n) => `<li>${esc(n.metric)}: ${esc(n.reason)}</li>`).join('')

  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'">
<title>vitrine evaluate: ${esc(result.task)}</title><style>${STYLE}</style></head><body>
<h1>vitrine evaluate · ${esc(result.task)}</h1>
<div class="sub">model <code>${esc(result.model.path)}</code> (${result.model.labels} labels) · data <code>${esc(result.data.path)}</code> (${esc(result.data.format)})</div>
<div class="sub">${m.rows_scored} rows scored, ${m.rows_skipped} skipped${m.threshold === undefined ? '' : ` · threshold ${m.threshold}`} · ${esc(result.model.backend)} on ${result.model.threads} thread(s)</div>
<div class="cards">${cards.join('')}</div>
${notes ? `<h2>What this local run does differently from the job</h2><ul class="notes">${notes}</ul>` : ''}
<h2>Confusion matrix</h2>
${cmHtml}
<h2>Per class</h2>
${perClassSvg(m.per_class)}
<h2>Misclassified images (${wrong.length})</h2>
${wrong.length === 0 ? '<p>None.</p>' : `<div class="grid">${figures.join('\n')}</div>`}
${wrong.length > shown.length ? `<p>${wrong.length - shown.length} more in predictions.jsonl (rows with "correct": false).</p>` : ''}
<h2>Metrics</h2>
<table class="metrics"><tbody>${scalarRows.join('')}</tbody></table>
${notComputed ? `<h2>Not computed</h2><ul>${notComputed}</ul>` : ''}
${bad.length ? `<h2>Skipped rows (${bad.length})</h2><table class="bad"><tbody>${bad.join('')}</tbody></table>` : ''}
</body></html>
`
}
