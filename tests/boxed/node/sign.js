// Sign DUIS requests as a DCC Boxed user does, with @smartdcc/duis-sign-wrap.
// stdin: JSON list of unsigned DUIS XML strings; stdout: JSON list of {signed} or {error}.
// Signed one after the other, so the RequestID counters the tool stamps (ms clock) rise.
const { signDuis } = require('@smartdcc/duis-sign-wrap')

async function main() {
  const inputs = JSON.parse(require('fs').readFileSync(0, 'utf-8'))
  const out = []
  for (const xml of inputs) {
    try {
      out.push({ signed: await signDuis({ xml }) })
    } catch (e) {
      out.push({ error: String(e && e.message ? e.message : e) })
    }
  }
  process.stdout.write(JSON.stringify(out))
}
main().catch((e) => { console.error(e); process.exit(1) })
