import sys

from vid1d.cli.main import main

sys.exit(main())
