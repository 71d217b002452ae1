import sys

from allocsim.cli import main

sys.exit(main())
