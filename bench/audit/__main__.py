import sys

from bench.audit.run import main

sys.exit(main())
