import sys

from bench.devices.run import main

sys.exit(main())
