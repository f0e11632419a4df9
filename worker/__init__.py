"""agent-runtime: inbound lead messages in, reply drafts for human review out."""

import os

# litellm fetches a remote price list at import unless told otherwise; this worker never
# reaches the internet at run time.
os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
