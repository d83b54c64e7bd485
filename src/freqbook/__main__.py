"""``python -m freqbook`` entry point."""

from freqbook.cli import main

raise SystemExit(main())
