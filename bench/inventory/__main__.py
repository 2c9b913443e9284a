import sys

from bench.inventory.run import main

sys.exit(main())
