"""A child `harness` process with a slow test adapter, for tests that stop runs part-way."""

from __future__ import annotations

import textwrap

SLOW_RUNNER = textwrap.dedent(
    """
    import os, sys, time
    from idg_adapters.base import Adapter, Prediction
    from idg_adapters.registry import register

    @register("test-slow")
    class Slow(Adapter):
        def predict(self, batch):
            time.sleep(float(os.environ.get("SLOW_SECONDS", "0")))
            return [Prediction.ranked([[1, 2, 30 + len(p.id), 40]], [1.0]) for p in batch]

    from harness.cli import main
    sys.exit(main(sys.argv[1:]))
    """
)
"""A script: registers `test-slow` (sleeps SLOW_SECONDS per batch) and runs the harness CLI on argv."""
