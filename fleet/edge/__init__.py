"""The local edge: the distribution's behaviours of `events.edge` on loopback, with an RFC 9111 cache.

`policy` decides what is stored, under which key and for how long (CloudFront's rules);
`origins` reads the site bucket as the Origin Access Control would and proxies the API;
`proxy` is the WSGI app (hishel's cache, `X-Cache`, 304s, ranges, purges); `server` runs
it under the API's gunicorn setup (`fleet up`) or on a thread (the tests).
"""
