from liepaja_bot.cli import main

raise SystemExit(main())
