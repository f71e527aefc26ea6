import sys

from crawlers.run import main

sys.exit(main())
