"""`python -m bandmate.rights.originality build`: rebuild the shipped originality index."""

from bandmate.rights.originality import main

raise SystemExit(main())
