"""`python -m bandmate.cli`: the same as the `bandmate` command."""

import sys

from bandmate.cli import main

sys.exit(main())
