import sys

from bench.backup_scale.run import main

sys.exit(main())
