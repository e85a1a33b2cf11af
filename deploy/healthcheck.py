"""The container's HEALTHCHECK: GET /healthz on the port this process serves it on.

Webhook mode (WEBHOOK_URL set): the webhook listener's WEBHOOK_PORT. Long polling: HEALTH_PORT;
without it there is no endpoint to ask and the check passes. Exit 0 healthy, 1 not.
"""

import os
import sys
import urllib.request

if os.environ.get("WEBHOOK_URL"):
    port = os.environ.get("WEBHOOK_PORT") or "8080"
else:
    port = os.environ.get("HEALTH_PORT") or ""
    if not port:
        sys.exit(0)
try:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=4) as response:
        sys.exit(0 if response.status == 200 else 1)
except OSError:
    sys.exit(1)
