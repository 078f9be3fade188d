/**
 * The /ui page of `vitrine serve`: drop or pick images, each is POSTed to /score as the endpoint's request body
 * ({"input_data": ["<base64>"]}) and its top-k labels are drawn as bars. One self-contained page (no scripts or
 * styles from elsewhere: the server runs offline).
 */
export const UI_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>vitrine serve</title>
<style>
  body { font: 15px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 52rem; padding: 0 1rem; color: #1b1f24; }
  h1 { font-size: 1.3rem; }
  #drop { border: 2px dashed #8c959f; border-radius: 8px; padding: 2rem; text-align: center; cursor: pointer; }
  #drop.over { border-color: #0969da; background: #ddf4ff; }
  .result { display: flex; gap: 1rem; align-items: flex-start; margin: 1rem 0; padding: .75rem; border: 1px solid #d0d7de; border-radius: 6px; }
  .result img { width: 96px; height: 96px; object-fit: contain; image-rendering: pixelated; background: #f6f8fa; }
  .preds { flex: 1; }
  .name { font-weight: 600; margin-bottom: .25rem; word-break: break-all; }
  .row { display: grid; grid-template-columns: 8rem 1fr 4.5rem; gap: .5rem; align-items: center; }
  .bar { height: .8rem; background: #0969da; border-radius: 3px; }
  .score { font-variant-numeric: tabular-nums; text-align: right; }
  .error { color: #cf222e; }
  label.key { display: block; margin: 1rem 0; }
</style>
</head>
<body>
<h1>vitrine serve: score images</h1>
<div id="drop" tabindex="0">Drop images here, or <u>pick files</u>
  <input id="files" type="file" accept="image/*" multiple hidden>
</div>
<label class="key">Key (only if the server runs with --key): <input id="key" type="password" autocomplete="off"></label>
<div id="results"></div>
<script>
const drop = document.getElementById('drop')
const picker = document.getElementById('files')
const results = document.getElementById('results')
drop.addEventListener('click', () => picker.click())
drop.addEventListener('keydown', (e) => { if (e.key === 'Enter' || e.key === ' ') picker.click() })
drop.addEventListener('dragover', (e) => { e.preventDefault(); drop.classList.add('over') })
drop.addEventListener('dragleave', () => drop.classList.remove('over'))
drop.addEventListener('drop', (e) => { e.preventDefault(); drop.classList.remove('over'); scoreFiles(e.dataTransfer.files) })
picker.addEventListener('change', () => { scoreFiles(picker.files); picker.value = '' })

function readDataUrl(file) {
  return new Promise((resolve, reject) => {
    const reader = new FileReader()
    reader.onload = () => resolve(reader.result)
    reader.onerror = () => reject(reader.error)
    reader.readAsDataURL(file)
  })
}

async function scoreFiles(files) {
  for (const file of Array.from(files)) await scoreFile(file)
}

async function scoreFile(file) {
  const box = document.createElement('div')
  box.className = 'result'
  box.dataset.name = file.name
  const img = document.createElement('img')
  const preds = document.createElement('div')
  preds.className = 'preds'
  const name = document.createElement('div')
  name.className = 'name'
  name.textContent = file.name
  preds.appendChild(name)
  box.append(img, preds)
  results.prepend(box)
  try {
    const dataUrl = await readDataUrl(file)
    img.src = dataUrl
    const headers = {'content-type': 'application/json'}
    const key = document.getElementById('key').value
    if (key) headers.authorization = 'Bearer ' + key
    const res = await fetch('/score', {method: 'POST', headers, body: JSON.stringify({input_data: [String(dataUrl).split(',')[1]]})})
    const body = await res.json()
    if (!res.ok) throw new Error(body.error ? body.error.message : 'HTTP ' + res.status)
    for (const p of body[0]) {
      const row = document.createElement('div')
      row.className = 'row'
      const label = document.createElement('span')
      label.className = 'label'
      label.textContent = p.label
      const track = document.createElement('div')
      const bar = document.createElement('div')
      bar.className = 'bar'
      bar.style.width = (p.score * 100).toFixed(1) + '%'
      track.appendChild(bar)
      const score = document.createElement('span')
      score.className = 'score'
      score.textContent = p.score.toFixed(4)
      row.append(label, track, score)
      preds.appendChild(row)
    }
    box.dataset.state = 'done'
  } catch (error) {
    const msg = document.createElement('div')
    msg.className = 'error'
    msg.textContent = error.message
    preds.appendChild(msg)
    box.dataset.state = 'error'
  }
}
</script>
</body>
</html>
`
