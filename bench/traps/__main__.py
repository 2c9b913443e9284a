import sys

from bench.traps.run import main

sys.exit(main())
