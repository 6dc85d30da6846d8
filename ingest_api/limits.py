"""What one request may send, in one place: the app and every server that runs it apply these.

The names in brackets are the settings a WSGI server such as gunicorn gives the same bound.
"""

from __future__ import annotations

#: Largest request body the API reads, however it arrives; images go to S3 with presigned posts.
MAX_BODY_BYTES = 64 * 1024
#: Longest request line (method, target, version) in bytes; a 414 past it [limit_request_line].
MAX_REQUEST_LINE_BYTES = 8190
#: Most header fields in one request; a 431 past it [limit_request_fields].
MAX_HEADER_FIELDS = 100
#: Longest header field (name, colon, value) in bytes; a 431 past it [limit_request_field_size].
MAX_HEADER_FIELD_BYTES = 8190
#: The HTTP versions served; any other is a 505 (HTTP/0.9 included: it has no status line).
HTTP_VERSIONS = ("HTTP/1.0", "HTTP/1.1")
