"""``python -m kravia_schedule`` runs the command line."""

import sys

from kravia_schedule.cli import main

sys.exit(main())
