from mibao_desktop.cli import main

raise SystemExit(main())
