// What a DCC Boxed client does with each DUIS response it receives: validate the DCC's
// signature and the schema (@smartdcc/duis-sign-wrap), then parse it (@smartdcc/duis-parser).
// stdin: JSON list of signed DUIS response XML strings; stdout: JSON list of results.
const { validateDuis } = require('@smartdcc/duis-sign-wrap')
const parser = require('@smartdcc/duis-parser')

function bodyKind(body) {
  if (parser.isSimplifiedDuisResponseBody_DeviceAlertMessage(body)) return 'DeviceAlertMessage'
  if (parser.isSimplifiedDuisResponseBody_DCCAlertMessage(body)) return 'DCCAlertMessage'
  for (const kind of ['DSPInventory', 'GBCSPayload', 'PreCommand', 'LocalCommand',
    'FutureDatedDeviceAlertMessage', 'DSPScheduleID', 'DSPScheduledMessage', 'NoBody']) {
    if (parser.isSimplifiedDuisResponseBody_ResponseMessage_X(kind, body)) return kind
  }
  return null
}

async function check(xml) {
  let unsigned
  try {
    unsigned = await validateDuis({ xml })
  } catch (e) {
    return { valid: false, error: String(e && e.message ? e.message : e) }
  }
  return { valid: true, ...summarise(unsigned) }
}

// What duis-parser makes of one response: its header and which kind of body it holds.
function summarise(xml) {
  try {
    const parsed = parser.parseDuis('simplified', xml)
    const h = parsed.header
    const id = (r) => (r ? `${r.originatorId}:${r.targetId}:${r.counter}` : null)
    return {
      parsed: true,
      isResponse: parser.isSimplifiedDuisOutputResponse(parsed),
      responseCode: h.responseCode,
      requestId: id(h.requestId),
      responseId: id(h.responseId),
      kind: bodyKind(parsed.body),
    }
  } catch (e) {
    return { parsed: false, error: String(e && e.message ? e.message : e) }
  }
}

async function main() {
  const inputs = JSON.parse(require('fs').readFileSync(0, 'utf-8'))
  const out = []
  for (const xml of inputs) out.push(await check(xml))
  process.stdout.write(JSON.stringify(out))
}

module.exports = { check, summarise }
if (require.main === module) main().catch((e) => { console.error(e); process.exit(1) })
