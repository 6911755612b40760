"""Fund-integrity auditor (社会救助资金监管审计)."""

import os

# polars allocates through jemalloc; by default freed pages linger ~10 s, which
# inflates peak memory at province scale. Return them within a second, on a
# background thread. Takes effect only if polars is not imported yet; an
# explicit _RJEM_MALLOC_CONF wins.
os.environ.setdefault("_RJEM_MALLOC_CONF", "background_thread:true,dirty_decay_ms:1000,muzzy_decay_ms:0")
