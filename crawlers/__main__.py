import sys

# One batch per process (crawlers.run), or a long-lived crawler serving batch after batch (crawlers.serve).
if "--serve" in sys.argv[1:]:
    from crawlers.serve import main
else:
    from crawlers.run import main

sys.exit(main())
