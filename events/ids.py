"""The ids of the contract: what the API assigns, and so the only ids a path may name.

Each is written once here, as a fragment (for patterns that embed it, such as an upload's
key) and as a whole-string pattern (for a path segment: anything else is a 404 without a
read).
"""

from __future__ import annotations

import re

#: A uuid4 as `str(uuid.uuid4())` writes it: submissions, articles, comments, to-dos,
#: signups and SNS subscriptions.
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
#: A campaign id: lowercase letters, digits and dashes, up to 63 characters.
CAMPAIGN = r"[a-z0-9][a-z0-9-]{0,62}"
#: An upload id, `uuid.uuid4().hex`.
UPLOAD = r"[0-9a-f]{32}"

UUID_ID = re.compile(rf"^{UUID}\Z")
CAMPAIGN_ID = re.compile(rf"^{CAMPAIGN}\Z")
UPLOAD_ID = re.compile(rf"^{UPLOAD}\Z")
