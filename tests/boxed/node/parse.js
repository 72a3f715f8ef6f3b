// `parseDuis('simplified')` of @smartdcc/duis-parser alone, for sweeps over many responses
// (their signatures are checked separately with the same DCC tool duis-sign-wrap wraps).
// stdin: JSON list of DUIS response XML strings; stdout: JSON list of results as check.js.
const { summarise } = require('./check')

const inputs = JSON.parse(require('fs').readFileSync(0, 'utf-8'))
process.stdout.write(JSON.stringify(inputs.map(summarise)))
