import sys

from bench.windows.run import main

sys.exit(main())
