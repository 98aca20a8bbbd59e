"""`python -m harness` runs the CLI (and is what `torchrun -m harness` starts)."""

from harness.cli import main

raise SystemExit(main())
