from zukunftstische.cli import main

raise SystemExit(main())
