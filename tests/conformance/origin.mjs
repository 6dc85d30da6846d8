// The caching tests' origin server, on loopback only: the suite's own request handlers
// (its server.mjs binds every interface), on a free port it prints as ORIGIN_URL=...
//
//   node origin.mjs
import http from 'node:http'

import handleConfig from 'http-cache-tests/server/handle-config.mjs'
import handleFile from 'http-cache-tests/server/handle-file.mjs'
import handleState from 'http-cache-tests/server/handle-state.mjs'
import handleTest from 'http-cache-tests/server/handle-test.mjs'

const handlers = { config: handleConfig, test: handleTest, state: handleState }

const server = http.createServer((request, response) => {
  const url = new URL(request.url, 'http://127.0.0.1/')
  const [, first, ...rest] = url.pathname.split('/')
  const handler = handlers[first]
  if (handler) handler(rest, request, response)
  else handleFile(url, request, response)
})
server.listen(0, '127.0.0.1', () => {
  console.log(`ORIGIN_URL=http://127.0.0.1:${server.address().port}`)
})
