// A DCC Boxed user's Receive Response Service: takes the DCC's POSTed DUIS responses, checks
// them as the DCC Boxed clients do (check.js) and answers 204 when they pass, 400 when not.
// POSTs to a path ending in /refuse are answered 400 whatever they hold (a user refusing).
// GET /received lists what arrived. Prints its port on stdout once listening.
const http = require('http')
const { check } = require('./check')

const received = []
const server = http.createServer((req, res) => {
  if (req.method === 'GET' && req.url === '/received') {
    res.writeHead(200, { 'Content-Type': 'application/json' })
    res.end(JSON.stringify(received))
    return
  }
  const chunks = []
  req.on('data', (c) => chunks.push(c))
  req.on('end', async () => {
    const xml = Buffer.concat(chunks).toString('utf-8')
    const result = await check(xml)
    const refuse = req.url.endsWith('/refuse') || !result.valid || !result.parsed
    received.push({ path: req.url, contentType: req.headers['content-type'] || null,
                    status: refuse ? 400 : 204, ...result })
    res.writeHead(refuse ? 400 : 204)
    res.end()
  })
})
server.listen(0, '127.0.0.1', () => console.log(server.address().port))
process.on('SIGTERM', () => server.close(() => process.exit(0)))
